"""Small compiled blocks shared by the HVDC models: a saturating arccos for the overlap
angle, the VDCOL characteristic, time ramps of orders, and |V| of an AC bus.

The QSS converter equations themselves (Vd0, overlap, power factor) are HVDC-A's compiled
functions in ``casa_dyn.network.dc.qss``; the kernels call them directly.
"""
from __future__ import annotations

import math

from casa_dyn._jit import njit

#: width (in units of its argument) over which ``acos_sat`` rounds off its ends
ACOS_ROUND = 1e-3
#: the smallest |V| used in divisions (pu): a bolted fault is not a crash
V_FLOOR_PU = 1e-9


@njit
def _softplus(y, w):
    """w log(1 + exp(y / w)) and its derivative: y for y >> w, 0 for y << -w, smooth."""
    q = y / w
    if q > 35.0:
        return y, 1.0
    if q < -700.0:
        return 0.0, 0.0
    e = math.exp(q)
    return w * math.log1p(e), e / (1.0 + e)


@njit
def acos_sat(x):
    """``acos(x)`` saturated smoothly outside [-1, 1] (to pi below, 0 above).

    Exact identities ``acos(x) = pi - 2 asin(sqrt((1 + x)/2)) = 2 asin(sqrt((1 - x)/2))``
    with ``1 +- x`` passed through a softplus of width ACOS_ROUND, so the function and its
    slope stay finite and smooth (no kink for Newton to cycle on) and differ from acos only
    within a few ACOS_ROUND of the ends.  Used for the overlap angle ``alpha + mu =
    acos(cos alpha - sqrt2 Xc Id / Eac)``: below -1 the valves cannot finish commutating
    (overlap to 180 deg, the bridge short-circuits its DC side).  Returns (value, d/dx)."""
    if x < 0.0:
        y, dy = _softplus(1.0 + x, ACOS_ROUND)
        sgn, base = -1.0, math.pi
    else:
        y, dy = _softplus(1.0 - x, ACOS_ROUND)
        sgn, base, dy = 1.0, 0.0, -dy
    if y <= 0.0:
        return base, 0.0
    s = min(0.5 * y, 1.0)
    r = math.sqrt(s)
    # d/dy 2 asin(sqrt(y/2)) = 1 / (2 sqrt(s (1 - s)))
    d = 0.0 if s >= 1.0 else 1.0 / (2.0 * math.sqrt(s * (1.0 - s)))
    return base + sgn * 2.0 * math.asin(r), sgn * d * dy


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
