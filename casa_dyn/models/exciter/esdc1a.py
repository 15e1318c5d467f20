"""ESDC1A: IEEE Type DC1A excitation system, 1992/2005 (PSS/E ESDC1A).

Equations: PSS/E Model Library, ESDC1A; IEEE Std 421.5-2005 sec. 5.1 (type DC1A); the same
structure as OpalRT's PSS/E library ESDC1A. The block diagram is the DC commutator exciter shared
by IEEEX1, EXDC2, ESDC1A and ESDC2A, written out with the equations, PSS/E's VRMAX = 0 and KE = 0
data rules and the CON order in ``casa_dyn.models.exciter._dc``. What sets ESDC1A apart from the
other three: regulator limits VRMIN, VRMAX (not scaled by Et); efd >= 0 (non-windup).
"""
from __future__ import annotations

from casa_dyn._jit import njit
from casa_dyn.models.exciter import _dc

TABLE = _dc.register_table("esdc1a", "IEEE Type DC1A excitation system, 1992/2005 (PSS/E ESDC1A)")
ET_LIMITS = False   # regulator limits proportional to the terminal voltage Et
FLOOR = True       # efd >= 0 (non-windup)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    _dc.dc_eval(z, p, col, r, jl, ds, want_jac, ET_LIMITS, FLOOR)


@njit
def _update_discrete(z, p, col, ds):
    return _dc.dc_update(z, p, col, ds, ET_LIMITS, FLOOR)


SPEC = _dc.variant_spec("esdc1a", _eval, _update_discrete, ET_LIMITS, FLOOR)
