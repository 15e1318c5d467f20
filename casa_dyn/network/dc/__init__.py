"""DC networks and line-commutated (LCC) HVDC converters: case tables (``tables``), the
quasi-steady-state converter equations (``qss``), validation rules (``checks``), the DC
steady state (``dcflow``: network solve and converter operating point; ``controls``: taps and
mode switches) and its coupling to the AC power flow (``coupling``)."""
