"""EXDC2: IEEE Type DC2 excitation system, 1981 (PSS/E EXDC2).

Equations: PSS/E Model Library, EXDC2; IEEE Committee Report, "Excitation system models for power
system stability studies", IEEE Trans. PAS-100, 1981 (type DC2); the same structure as OpalRT's
PSS/E library EXDC2. The block diagram is the DC commutator exciter shared by IEEEX1, EXDC2,
ESDC1A and ESDC2A, written out with the equations, PSS/E's VRMAX = 0 and KE = 0 data rules and the
CON order in ``casa_dyn.models.exciter._dc``. What sets EXDC2 apart from the other three:
regulator limits Et VRMIN, Et VRMAX (regulator supplied from the generator terminals); no floor on
efd.
"""
from __future__ import annotations

from casa_dyn._jit import njit
from casa_dyn.models.exciter import _dc

TABLE = _dc.register_table("exdc2", "IEEE Type DC2 excitation system, 1981 (PSS/E EXDC2)")
ET_LIMITS = True   # regulator limits proportional to the terminal voltage Et
FLOOR = False       # efd >= 0 (non-windup)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    _dc.dc_eval(z, p, col, r, jl, ds, want_jac, ET_LIMITS, FLOOR)


@njit
def _update_discrete(z, p, col, ds):
    return _dc.dc_update(z, p, col, ds, ET_LIMITS, FLOOR)


SPEC = _dc.variant_spec("exdc2", _eval, _update_discrete, ET_LIMITS, FLOOR)
