"""Buffers of one run, owned by Python and handed to the compiled entry point ``kernel.run``.

Everything the time loop reads or writes lives here: the variable vector, the right-hand-side
and Jacobian buffers, the KLU handles, counters and output buffers.  Other code that needs the
system's equations (finite-difference tests, linearization) uses ``evaluate``.
"""
from __future__ import annotations

import numpy as np

from casa_dyn.linalg import klu_numba
from casa_dyn.models.functions import function_tables
from casa_dyn.solver import kernel as K


class Workspace:
    def __init__(self, sysm, opt: np.ndarray | None = None, sel: np.ndarray | None = None, n_out: int = 1,
                 sync: tuple | None = None):
        n = sysm.n
        self.sysm = sysm
        self.z = sysm.z0.copy()
        self.F = sysm.family_tuple()
        # only the families with units are compiled and called
        self.fns = function_tables(tuple(f[0].shape[0] > 0 for f in self.F))
        self.net = (sysm.ybus.indptr.astype(np.int64), sysm.ybus.indices.astype(np.int64), sysm.yg, sysm.yb,
                    sysm.npos)
        self.common, self.handles = klu_numba.new_buffers()
        self.jd = np.zeros(sysm.ai.size)
        self.lin = (sysm.ap, sysm.ai, self.jd, sysm.diag, sysm.rowof, sysm.is_diff, self.common, self.handles)
        self.work = (np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))  # rg, res, dz, z_prev
        self.rold, self.zold = np.zeros(n), np.zeros(n)
        self.opt = np.zeros(6) if opt is None else opt
        self.cnt = np.zeros(K.N_COUNTERS, dtype=np.int64)
        self.ts = np.array([np.nan, self.opt[K.O_DT_OUT]])
        self.sel = np.zeros(0, dtype=np.int64) if sel is None else sel
        self.out_t = np.zeros(n_out)
        self.out_z = np.zeros((n_out, self.sel.size))
        # (angle indices, weights, island group starts) of the loss-of-synchronism check
        self.sync = sync if sync is not None else (np.zeros(0, dtype=np.int64), np.zeros(0),
                                                   np.zeros(1, dtype=np.int64))

    def call(self, task: int, t0: float = 0.0, t1: float = 0.0, h: float = 0.0):
        return K.run(task, float(t0), float(t1), float(h), self.z, self.rold, self.zold, self.net, self.F,
                     self.fns, self.lin, self.work, self.opt, self.cnt, self.ts, self.sel, self.out_t, self.out_z, self.sync)

    def free(self) -> None:
        klu_numba.klu_free(self.common, self.handles)


def evaluate(sysm, z: np.ndarray | None = None, t: float = 0.0, jac: bool = True):
    """Right-hand sides (and CSC Jacobian values, pattern ``sysm.ap/ai``) of every row at ``z``."""
    ws = Workspace(sysm)
    if z is not None:
        ws.z[:] = z
    ws.call(K.TASK_EVAL_JAC if jac else K.TASK_EVAL, t)
    return ws.work[0].copy(), ws.jd.copy()
