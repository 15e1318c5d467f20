"""Newton-Raphson core of the AC power flow: polar mismatch, Jacobian on a fixed sparse pattern.

Equations (complex power balance in polar coordinates, Newton-Raphson as in Grainger &
Stevenson, "Power System Analysis", 1994, ch. 9; the derivatives in complex matrix form as in
R. D. Zimmerman, "AC Power Flows, Generalized OPF Costs and their Derivatives using Complex
Matrix Notation", MATPOWER Technical Note 2, 2010, polar-coordinate section)::

    S_i = V_i conj(I_i),  I = Y V,  V_i = Vm_i exp(j va_i)
    dS_i/dva_j = -j V_i conj(Y_ij V_j)           (+ j V_i conj(I_i)        when j = i)
    dS_i/dVm_j =    V_i conj(Y_ij V_j) / Vm_j    (+ conj(I_i) V_i / Vm_i   when j = i)

Unknowns and equations are interleaved per bus: x = (va_0, Vm_0, va_1, Vm_1, ...) and
F = (P_0, Q_0, P_1, Q_1, ...), so the 2n x 2n Jacobian is Y-bus's pattern with every entry a
2 x 2 block.  Every bus keeps both rows; an equation that does not apply (P at the slack, Q at
a PV bus, both at isolated buses) becomes the unit row ``dx_k = 0`` with its other entries
stored as explicit zeros.  The pattern therefore never changes, not even when generators
switch between PV and PQ at their reactive limits, and the LU backend does its symbolic
analysis once per case.  All assembly is vectorised over Y-bus nonzeros.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from casa_dyn.linalg.backend import LUBackend, SingularMatrixError

#: a step larger than this in any angle (rad) or magnitude (pu) means the iteration is diverging
MAX_ANGLE_STEP_RAD = 2.0 * np.pi
MAX_VM_STEP_PU = 2.0
#: a bus voltage magnitude outside this band after a step means divergence (pu)
VM_DIVERGED_LOW_PU = 1e-3
VM_DIVERGED_HIGH_PU = 10.0
#: a mismatch above this (pu on the system base) means divergence, not slow convergence
MISMATCH_DIVERGED_PU = 1e8
#: a refactorization (kept pivots) is accepted if |J dx + f| <= this * |f| (max norms)
REFACTOR_RESIDUAL = 1e-10


@dataclass(frozen=True)
class JacobianPattern:
    """Y-bus (CSC) and the fixed CSC pattern of the interleaved polar Jacobian."""

    ybus: sp.csc_matrix
    yr: np.ndarray       # row of each Y-bus nonzero (CSC order)
    yc: np.ndarray       # column of each Y-bus nonzero
    ydiag: np.ndarray    # position of Y_ii among the nonzeros, per bus
    order: np.ndarray    # Jacobian data = concat(dPdva, dPdVm, dQdva, dQdVm)[order]
    indptr: np.ndarray
    indices: np.ndarray
    diag: np.ndarray     # position of J_kk in the Jacobian data, per unknown k

    @property
    def n(self) -> int:
        return self.ybus.shape[0]


def jacobian_pattern(ybus) -> JacobianPattern:
    """Derive the Jacobian pattern from Y-bus, which must store every diagonal entry."""
    y = sp.csc_matrix(ybus)
    y.sum_duplicates()
    y.sort_indices()
    n = y.shape[0]
    counts = np.diff(y.indptr)
    yc = np.repeat(np.arange(n, dtype=np.int64), counts)
    yr = y.indices.astype(np.int64)
    is_diag = yr == yc
    if is_diag.sum() != n:
        raise ValueError("Y-bus must store every diagonal entry (explicit zeros allowed)")
    ydiag = np.empty(n, dtype=np.int64)
    ydiag[yc[is_diag]] = np.flatnonzero(is_diag)
    # Column 2j of J holds rows (2i, 2i+1) for each i in Y's column j (dP/dva, dQ/dva
    # interleaved); column 2j+1 follows with dP/dVm, dQ/dVm.  Offsets are pure index algebra.
    start = 4 * y.indptr[:-1].astype(np.int64)
    local = np.arange(len(yr), dtype=np.int64) - y.indptr[:-1].astype(np.int64)[yc]
    p_va = start[yc] + 2 * local
    p_vm = start[yc] + 2 * counts[yc] + 2 * local
    pos = np.concatenate([p_va, p_vm, p_va + 1, p_vm + 1])
    order = np.empty_like(pos)
    order[pos] = np.arange(len(pos), dtype=np.int64)
    indices = np.empty(len(pos), dtype=np.int32)
    indices[pos] = np.concatenate([2 * yr, 2 * yr, 2 * yr + 1, 2 * yr + 1])
    indptr = np.empty(2 * n + 1, dtype=np.int32)
    indptr[0:-1:2] = start
    indptr[1::2] = start + 2 * counts
    indptr[-1] = len(pos)
    diag = np.empty(2 * n, dtype=np.int64)
    diag[0::2] = p_va[ydiag]
    diag[1::2] = p_vm[ydiag] + 1
    return JacobianPattern(y, yr, yc, ydiag, order, indptr, indices, diag)


def jacobian_values(pat: JacobianPattern, v: np.ndarray, vm: np.ndarray,
                    i_bus: np.ndarray) -> np.ndarray:
    """Jacobian data in the pattern's CSC order (all equations, none replaced yet)."""
    w = v[pat.yr] * np.conj(pat.ybus.data * v[pat.yc])
    ds_dva = -1j * w
    ds_dvm = w / vm[pat.yc]
    ds_dva[pat.ydiag] += 1j * v * np.conj(i_bus)
    ds_dvm[pat.ydiag] += np.conj(i_bus) * v / vm
    vals = np.concatenate([ds_dva.real, ds_dvm.real, ds_dva.imag, ds_dvm.imag])
    return vals[pat.order]


@dataclass
class NewtonOutcome:
    status: str              # converged | max_iter | diverged | singular
    iterations: int
    vm: np.ndarray           # last finite state (the solution when converged)
    va: np.ndarray
    s_calc: np.ndarray       # net complex injection at (vm, va), pu
    max_mismatch_pu: float
    worst_bus: int           # position of the largest mismatch
    worst_kind: str          # "P" or "Q"
    detail: str = ""

    @property
    def converged(self) -> bool:
        return self.status == "converged"


def newton(pat: JacobianPattern, lu: LUBackend, vm: np.ndarray, va: np.ndarray,
           p_spec: np.ndarray, q_spec: np.ndarray, p_eq: np.ndarray, q_eq: np.ndarray,
           tol_pu: float, max_iter: int, bus_ids: np.ndarray,
           injection=None) -> NewtonOutcome:
    """Full Newton on ``S(vm, va) = p_spec + j q_spec`` for the rows where ``p_eq``/``q_eq``;
    angles where not ``p_eq`` and magnitudes where not ``q_eq`` stay at their given values.
    ``bus_ids`` only serve the messages.  ``injection(vm, va) -> (p, q, dp_dvm, dq_dvm)``
    (per bus, pu) adds voltage-dependent injections (HVDC converters) with their own-bus
    derivatives; ``s_calc`` of the outcome then excludes them (it stays generation - load)."""
    vm, va = vm.astype(float).copy(), va.astype(float).copy()
    held = np.empty(2 * pat.n, dtype=bool)
    held[0::2], held[1::2] = ~p_eq, ~q_eq
    zero_mask = held[pat.indices]
    unit_pos = pat.diag[held]
    last = None
    for it in range(max_iter + 1):
        v = vm * np.exp(1j * va)
        i_bus = pat.ybus @ v
        s = v * np.conj(i_bus)
        if injection is not None:
            inj_p, inj_q, inj_dp, inj_dq = injection(vm, va)
            s = s - (inj_p + 1j * inj_q)
        dp = np.where(p_eq, s.real - p_spec, 0.0)
        dq = np.where(q_eq, s.imag - q_spec, 0.0)
        abs_p, abs_q = np.abs(dp), np.abs(dq)
        per_bus = np.maximum(abs_p, abs_q)
        worst = int(np.argmax(per_bus)) if pat.n else 0
        mis = float(per_bus[worst]) if pat.n else 0.0
        if not np.isfinite(mis):
            if last is None:
                return NewtonOutcome("diverged", 0, vm, va, s, float("nan"), worst, "P",
                                     "non-finite power mismatch at the starting point")
            return _diverged(last, it - 1, "non-finite power mismatch")
        kind = "P" if pat.n == 0 or abs_p[worst] >= abs_q[worst] else "Q"
        last = NewtonOutcome("max_iter", it, vm.copy(), va.copy(), s, mis, worst, kind)
        if mis <= tol_pu:
            last.status = "converged"
            return last
        if mis > MISMATCH_DIVERGED_PU:
            return _diverged(last, it, f"mismatch grew to {mis:.3g} pu")
        if it == max_iter:
            return last
        data = jacobian_values(pat, v, vm, i_bus)
        if injection is not None:  # d(-injection)/dVm on each bus's own 2 x 2 block
            data[pat.diag[1::2] - 1] -= inj_dp
            data[pat.diag[1::2]] -= inj_dq
        data[zero_mask] = 0.0
        data[unit_pos] = 1.0
        f = np.empty(2 * pat.n)
        f[0::2], f[1::2] = dp, dq
        try:
            dx = _newton_step(pat, lu, data, f, refactor=it > 0)
        except SingularMatrixError as exc:
            last.status = "singular"
            last.detail = f"singular Jacobian at iteration {it + 1} ({exc})"
            return last
        dx[held] = 0.0  # exactly: pivoting may leave round-off in the unit rows
        dva, dvm = dx[0::2], dx[1::2]
        bad = _bad_step(dva, dvm, vm + dvm, bus_ids)
        if bad:
            return _diverged(last, it, bad)
        va += dva
        vm += dvm
    return last  # pragma: no cover  (loop always returns)


def _newton_step(pat: JacobianPattern, lu: LUBackend, data, f, refactor: bool) -> np.ndarray:
    """Solve J dx = -f.  After the first iteration of a solve the pattern and (nearly) the
    pivot order are known, so a numeric-only refactorization is tried first and kept only if
    its solution has a small residual; otherwise the matrix is factored afresh with pivoting."""
    jac = sp.csc_matrix((data, pat.indices, pat.indptr), shape=(2 * pat.n,) * 2)
    if refactor:
        try:
            lu.refactor(data)
            dx = -lu.solve(f)
            scale = max(float(np.max(np.abs(f))), 1e-300)
            if float(np.max(np.abs(jac @ dx + f))) <= REFACTOR_RESIDUAL * scale:
                return dx
        except SingularMatrixError:
            pass  # stale pivots can fail where fresh ones do not
    lu.factor(jac)
    return -lu.solve(f)


def _bad_step(dva, dvm, vm_new, bus_ids) -> str:
    """Why a Newton step is taken as divergence, or "" when it is acceptable."""
    if len(dva) == 0:
        return ""
    if not (np.all(np.isfinite(dva)) and np.all(np.isfinite(dvm))):
        return "non-finite Newton step"
    k = int(np.argmax(np.abs(dva)))
    if abs(dva[k]) > MAX_ANGLE_STEP_RAD:
        return f"angle step of {np.degrees(dva[k]):.4g} deg at bus {bus_ids[k]}"
    k = int(np.argmax(np.abs(dvm)))
    if abs(dvm[k]) > MAX_VM_STEP_PU:
        return f"voltage step of {dvm[k]:.4g} pu at bus {bus_ids[k]}"
    k = int(np.argmin(vm_new))
    if vm_new[k] < VM_DIVERGED_LOW_PU:
        return f"voltage magnitude driven to {vm_new[k]:.4g} pu at bus {bus_ids[k]}"
    k = int(np.argmax(vm_new))
    if vm_new[k] > VM_DIVERGED_HIGH_PU:
        return f"voltage magnitude driven to {vm_new[k]:.4g} pu at bus {bus_ids[k]}"
    return ""


def _diverged(last: NewtonOutcome, it: int, why: str) -> NewtonOutcome:
    last.status = "diverged"
    last.detail = f"diverged at iteration {it + 1}: {why}"
    return last
