"""Blocks shared by the excitation-system (and stabilizer) models.

* the terminal-voltage magnitude Et = |vr + j vi| and its derivatives;
* a first-order lag with a **non-windup** limit on its state (IEEE Std 421.5-2016, Annex E.4:
  the state itself stops at the limit and leaves it as soon as its input would drive it back
  inside).  The limit is a discrete flag per unit (+1 at the upper, -1 at the lower limit,
  0 free) that only changes between time steps (``nw_update``); while a flag is set the state
  row is ``dx/dt = 0`` (or ``0 = limit - x`` when the time constant is zero and the row is
  algebraic);
* a windup clip with its derivatives;
* PSS/E's quadratic exciter saturation through two points (E1, SE(E1)), (E2, SE(E2)):
  ``Efd SE(Efd) = B (Efd - A)^2`` for ``Efd > A``, else 0 (PSS/E Model Library, IEEET1 /
  ESDC1A "SE" definition; the same form as OpenIPSL's ``NonElectrical.Functions.SE``).
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit

#: the smallest terminal voltage used in the derivative of |V| (a dead bus is not a crash)
VMIN_EPS = 1e-6


@njit
def vmag(vr, vi):
    """|V| and d|V|/dvr, d|V|/dvi."""
    s = math.sqrt(vr * vr + vi * vi)
    if s < VMIN_EPS:
        return s, 0.0, 0.0
    return s, vr / s, vi / s


@njit
def clip_d(x, lo, hi):
    """clip(x, lo, hi) and its derivatives with respect to x, lo, hi."""
    if x > hi:
        return hi, 0.0, 0.0, 1.0
    if x < lo:
        return lo, 0.0, 1.0, 0.0
    return x, 1.0, 0.0, 0.0


@njit
def nw_lag(u, x, t_s, flag, lo, hi):
    """Non-windup lag dx/dt = (u - x)/T.  Returns (rhs, d/du, d/dx); with a flag set the
    state is frozen (T > 0) or tied to its limit (T = 0, algebraic row)."""
    if flag == 0.0:
        if t_s > 0.0:
            return (u - x) / t_s, 1.0 / t_s, -1.0 / t_s
        return u - x, 1.0, -1.0
    if t_s > 0.0:
        return 0.0, 0.0, 0.0
    lim = hi if flag > 0.0 else lo
    return lim - x, 0.0, -1.0


@njit
def nw_update(u, x, flag, lo, hi):
    """Between steps: (new x, new flag).  Clamp and flag a state that crossed a limit;
    release a flagged state when its input points back inside (u - x has the inward sign)."""
    if flag == 0.0:
        if x > hi:
            return hi, 1.0
        if x < lo:
            return lo, -1.0
        return x, 0.0
    if flag > 0.0:
        if u < x:
            return x, 0.0
        return hi, 1.0
    if u > x:
        return x, 0.0
    return lo, -1.0


def quad_sat_coeffs(e1, se1, e2, se2):
    """(A, B, ok) of PSS/E's quadratic saturation through (E1, SE1) and (E2, SE2), vectorised.

    With V_k = E_k SE_k:  sqrt(B) = (sqrt(V2) - sqrt(V1)) / (E2 - E1),  A = E1 - sqrt(V1/B).
    No saturation (B = 0) when both SE are zero.  ``ok`` is False when the two points do not
    define an increasing curve (equal E with different SE, or V falling as E rises)."""
    e1, se1, e2, se2 = (np.asarray(a, dtype=float) for a in (e1, se1, e2, se2))
    v1 = np.sqrt(np.maximum(e1 * se1, 0.0))
    v2 = np.sqrt(np.maximum(e2 * se2, 0.0))
    none = (v1 == 0.0) & (v2 == 0.0)
    de = e2 - e1
    with np.errstate(divide="ignore", invalid="ignore"):
        sb = np.where(de != 0.0, (v2 - v1) / de, np.nan)
        ok = none | (np.isfinite(sb) & (sb > 0.0))
        sb = np.where(ok & ~none, sb, 1.0)
        a = np.where(none, 0.0, e1 - v1 / sb)
        b = np.where(none | ~ok, 0.0, sb * sb)
    return a, b, ok


@njit
def quad_sat(e, a, b):
    """Efd SE(Efd) = B (Efd - A)^2 above A (else 0), and its derivative."""
    if b > 0.0 and e > a:
        d = e - a
        return b * d * d, 2.0 * b * d
    return 0.0, 0.0
