"""LCC HVDC dynamics: DC nodes, DC branches and line-commutated converters with their
controls (docs/hvdc.md).  The case tables live in ``casa_dyn.network.dc.tables``; the
quasi-steady-state converter equations in ``casa_dyn.network.dc.qss``."""
