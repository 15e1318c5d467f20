"""Small compiled blocks shared by the HVDC models: a saturating arccos for the overlap
angle, the VDCOL characteristic, time ramps of orders, and |V| of an AC bus.

The QSS converter equations themselves (Vd0, overlap, power factor) are HVDC-A's compiled
functions in ``casa_dyn.network.dc.qss``; the kernels call them directly.
"""
from __future__ import annotations

import math

from casa_dyn._jit import njit

#: width of the end segments of ``acos_sat`` (in units of its argument)
ACOS_EDGE = 1e-6
_A_HI = math.acos(1.0 - ACOS_EDGE)          # acos at the inner end of the upper segment
_A_LO = math.acos(-1.0 + ACOS_EDGE)         # acos at the inner end of the lower segment
#: the smallest |V| used in divisions (pu): a bolted fault is not a crash
V_FLOOR_PU = 1e-9


@njit
def acos_sat(x):
    """``acos(x)`` saturated outside [-1, 1] (0 above, pi below) with straight end segments
    of width ACOS_EDGE, so that it is finite with a finite slope everywhere.

    Used for the overlap angle ``alpha + mu = acos(cos alpha - sqrt2 Xc Id / Eac)``: an
    argument below -1 means the valves cannot finish commutating (overlap to 180 deg, the
    bridge short-circuits its DC side), which the model represents by mu = pi - alpha.
    Returns (value, d value / dx)."""
    if x >= 1.0:
        return 0.0, 0.0
    if x <= -1.0:
        return math.pi, 0.0
    if x > 1.0 - ACOS_EDGE:
        s = -_A_HI / ACOS_EDGE
        return _A_HI + s * (x - (1.0 - ACOS_EDGE)), s
    if x < -1.0 + ACOS_EDGE:
        s = -(math.pi - _A_LO) / ACOS_EDGE
        return _A_LO + s * (x - (-1.0 + ACOS_EDGE)), s
    return math.acos(x), -1.0 / math.sqrt(1.0 - x * x)


@njit
def vdcol(v_pu, v_lo, i_lo, v_hi, i_hi):
    """Voltage-dependent current-order limit (pu of rated current) through two points,
    flat outside them (REFERENCE.md 2.3 item 5).  Returns (limit, d limit / d v_pu)."""
    if v_pu <= v_lo or v_hi <= v_lo:
        return (i_lo, 0.0) if v_pu <= v_lo else (i_hi, 0.0)
    if v_pu >= v_hi:
        return i_hi, 0.0
    s = (i_hi - i_lo) / (v_hi - v_lo)
    return i_lo + s * (v_pu - v_lo), s


@njit
def ramp(t, t0, v0, target, rate):
    """An order moving from ``v0`` (at ``t0``) towards ``target`` at ``rate`` per second and
    then staying there; ``rate <= 0`` is a step."""
    if rate <= 0.0 or t <= t0:
        return target if rate <= 0.0 else v0
    d = rate * (t - t0)
    if target >= v0:
        return min(v0 + d, target)
    return max(v0 - d, target)


@njit
def vmag(vr, vi):
    """|V| and its derivatives with respect to vr, vi (zero derivative at a dead bus)."""
    s = math.sqrt(vr * vr + vi * vi)
    if s < V_FLOOR_PU:
        return s, 0.0, 0.0
    return s, vr / s, vi / s
