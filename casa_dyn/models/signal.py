"""Constant unit signals: the field voltage, mechanical power or stabilizer signal of a unit
that has no exciter, governor or stabilizer is held at its initial value (``0 = value - x``).
The value is an event target (a Pref or Vref change on an uncontrolled unit moves it)."""
from __future__ import annotations

from casa_dyn._jit import njit
from casa_dyn.models.base import ModelSpec


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        r[u, 0] = p[u, 0] - z[col[u, 0]]
        if want_jac:
            jl[u, 0, 0] = -1.0


def _init(p, ctx):
    return {}


SPEC = ModelSpec(
    name="signal", family="signal", params=(), extra=("value",), states=(), algebs=(),
    outputs=("sig",), inputs=(), injects=False, eval=_eval, init=_init,
)
