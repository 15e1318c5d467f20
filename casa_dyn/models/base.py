"""What a dynamic model module provides, and the block helpers models share.

A model is vectorised over its units (structure of arrays).  Its compiled kernel has one
uniform signature so the system assembler can call every family the same way::

    eval(t, z, p, col, r, jl, ds, want_jac)

* ``z``   the full DAE variable vector (states and algebraic variables, global indices);
* ``p``   (n_units, n_params) parameters: the table columns named in ``params`` followed by
          the ``extra`` values that ``init`` computes (setpoints such as ``vref``);
* ``col`` (n_units, n_cols) global index of each local column; local columns are ordered
          ``states + algebs + outputs + inputs``;
* ``r``   (n_units, n_rows) written: the model's right-hand sides.  Local rows are ordered
          ``states + algebs + outputs`` and, for models that inject current, the real and
          imaginary current-balance rows of their bus.  A state row holds ``dx/dt``; an
          algebraic row holds ``0 = g``; a bus row holds the current the device *draws*
          (its contribution to ``sum(Y V) - I_inj``);
* ``jl``  (n_units, n_rows, n_cols) written when ``want_jac``: d r / d (local columns);
* ``ds``  (n_units, n_disc) discrete states (limiter flags), updated only between steps.

Units are per unit on the machine base inside generator models; bus-row currents are on the
system base (the kernel scales by ``mbase/sbase``, which ``init`` puts in ``p``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from numba import types

from casa_dyn._jit import njit

#: the signature of a family's entry in the time loop's function table (arrays C-contiguous):
#: ``(task, t, z, p, col, r, jl, ds, want_jac)``; ``task`` 0 evaluates (the model's
#: ``_eval(t, z, p, col, r, jl, ds, want_jac)``, returns 0), 1 updates the discrete state
#: (``_update_discrete([t,] z, p, col, ds)``, returns the number of changes)
_F1, _F2, _F3, _I2 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1], types.int64[:, ::1]
FAMILY_SIG = types.int64(types.int64, types.float64, _F1, _F2, _I2, _F2, _F3, _F2, types.boolean)

#: unit-level signal names a model may read or own (created per generating unit)
SIGNALS = ("efd", "pm", "vs")
#: machine variables controllers may read
MACHINE_VARS = ("delta", "omega", "pe", "qe", "xadifd")
BUS_VARS = ("vr", "vi")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # generator | exciter | governor | pss
    params: tuple[str, ...]
    extra: tuple[str, ...]
    states: tuple[str, ...]
    algebs: tuple[str, ...]
    outputs: tuple[str, ...]
    inputs: tuple[str, ...]
    injects: bool
    eval: Callable
    init: Callable  # (p, ctx) -> dict of initial values of states, algebs and outputs
    n_disc: int = 0
    update_discrete: Callable | None = None  # ([t,] z, p, col, ds) -> n_changed ; may clamp z
    jac_mask: np.ndarray | None = field(default=None, compare=False)
    diff_mask: Callable | None = None  # (p) -> (n_units, n_states) bool; False = algebraic
    #: extra local rows (after ir, ii) this model adds into, owned by another family — e.g. the
    #: DC-node current balance a converter or DC branch contributes to
    extra_rows: tuple[str, ...] = ()
    #: families not attached to generating units (HVDC, ...) lay out their own units:
    #: ``build(case, pf, alloc) -> Family`` (see ``casa_dyn.solver.layout.Alloc``)
    build: Callable | None = None

    @property
    def cols(self) -> tuple[str, ...]:
        return self.states + self.algebs + self.outputs + self.inputs

    @property
    def rows(self) -> tuple[str, ...]:
        return (self.states + self.algebs + self.outputs + (("ir", "ii") if self.injects else ())
                + self.extra_rows)

    def mask(self) -> np.ndarray:
        if self.jac_mask is not None:
            return np.asarray(self.jac_mask, dtype=bool)
        return np.ones((len(self.rows), len(self.cols)), dtype=bool)


# ------------------------------------------------------------------ shared kernel helpers
@njit
def clip(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


@njit
def lag_rhs(u, x, t_s):
    """First-order lag dx/dt = (u - x)/T; with T = 0 the row is algebraic 0 = u - x (PSS/E
    convention: a zero time constant bypasses the block).  Returns (rhs, d/du, d/dx)."""
    if t_s > 0.0:
        return (u - x) / t_s, 1.0 / t_s, -1.0 / t_s
    return u - x, 1.0, -1.0


def lag_diff(t_s: np.ndarray) -> np.ndarray:
    """Rows of lags with a zero time constant are algebraic."""
    return np.asarray(t_s) > 0.0


@njit
def leadlag_rhs(u, x, t_lead, t_lag):
    """Lead-lag (1 + s Ta)/(1 + s Tb) as state x with output y = x + (Ta/Tb)(u - x).

    Returns (dx/dt, y, dydu, dydx, dfdu, dfdx).  With Tb = 0 the block is a pass-through
    (x follows u algebraically and y = u)."""
    if t_lag > 0.0:
        k = t_lead / t_lag
        y = x + k * (u - x)
        return (u - x) / t_lag, y, k, 1.0 - k, 1.0 / t_lag, -1.0 / t_lag
    return u - x, u, 1.0, 0.0, 1.0, -1.0


@njit
def scatter(f, rg, jd, want_jac):
    """Add a family's local residuals to the global rows and its local Jacobian entries to the
    global CSC values.  ``f`` = (p, col, rowg, r, jl, ds, pos, mr, mc)."""
    rowg, r = f[2], f[3]
    for u in range(rowg.shape[0]):
        for k in range(rowg.shape[1]):
            rg[rowg[u, k]] += r[u, k]
    if want_jac:
        jl, pos, mr, mc = f[4], f[6], f[7], f[8]
        for u in range(pos.shape[0]):
            for m in range(pos.shape[1]):
                jd[pos[u, m]] += jl[u, mr[m], mc[m]]
