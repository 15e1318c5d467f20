"""Blocks shared by the turbine-governor models.

* a windup clip with its derivative (rate limits, plain output limits);
* the **non-windup** position limit of an integrator or lag state (PSS/E Model Library block
  convention, the same as IEEE Std 421.5-2016 Annex E for exciters): the state stops at its
  limit and leaves it as soon as its rate of change points back inside.  The limit is a
  discrete flag per unit (+1 at the upper, -1 at the lower limit, 0 free), changed only
  between time steps by ``nw_update``; while it is set the state row is ``dx/dt = 0``.

The flag convention is the one the exciter models use (``models/exciter/_common.py``).
"""
from __future__ import annotations

from casa_dyn._jit import njit


@njit
def clip_d(x, lo, hi):
    """clip(x, lo, hi) and its derivative with respect to x."""
    if x > hi:
        return hi, 0.0
    if x < lo:
        return lo, 0.0
    return x, 1.0


@njit
def nw_update(rate, x, flag, lo, hi):
    """Between steps: (new x, new flag) of a non-windup limited state.

    ``rate`` is the state's unfrozen rate of change (any quantity with its sign).  A free state
    that crossed a limit is clamped to it and flagged; a flagged state is released as soon as
    its rate points back inside the range."""
    if flag == 0.0:
        if x > hi:
            return hi, 1.0
        if x < lo:
            return lo, -1.0
        return x, 0.0
    if flag > 0.0:
        if rate < 0.0:
            return x, 0.0
        return hi, 1.0
    if rate > 0.0:
        return x, 0.0
    return lo, -1.0


def outside(x, lo, hi, tol=1e-9):
    """Units whose initial value lies outside [lo, hi] (vectorised, with a small tolerance)."""
    return (x > hi + tol) | (x < lo - tol)
