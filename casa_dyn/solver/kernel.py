"""The compiled time loop: implicit trapezoidal rule with Newton, Jacobian reuse and KLU.

Method (Milano, Power System Modelling and Scripting, 2010, ch. 7; Stott, Proc. IEEE 67(2),
1979, simultaneous implicit solution; DESIGN.md section 2):

* differential rows  ``x_i - x_i,old - c (f_i(z) + beta f_i(z_old)) = 0`` with ``c = h/2,
  beta = 1`` (trapezoid), ``c = h, beta = 0`` (backward Euler, used for a half step after
  every discontinuity to damp the trapezoid's ringing, followed by a trapezoidal half step
  back onto the step grid) or ``c = 0`` (algebraic re-solve at an
  event instant: states fixed, algebraic variables jump);
* algebraic rows     ``g_i(z) = 0``;
* Newton with the Jacobian kept across iterations and steps; it is refactored (numeric only,
  same pattern) after events, when ``c`` changes, on slow convergence, or after a failure;
* a step that does not converge is retried at half the size (down to ``h_min``), then the run
  stops with a status and the results so far.

Everything per step and per iteration is here, in compiled code; Python runs only between
event segments.

Compile time: Numba re-optimizes every callee linked into a compiled entry point, so the model
kernels are called through function pointers (``fns``: a tuple from
``casa_dyn.models.functions.function_tables``) and Python enters through one function, ``run``.
Constant arguments are written ``bool(False)``, ``int(2)`` (also when first assigned to a
variable, which SSA keeps literal): Numba types a bare constant as a literal and would compile
(and cache) a second copy of the callee for it.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.linalg.klu_numba import klu_refactor, klu_solve
from casa_dyn.models.base import scatter

#: a reused Jacobian is refreshed when one Newton iteration shrinks the residual by less than
#: this factor (measured on wscc9/kundur: 0.5 → ~5.5 iterations and 0.14 factorizations per
#: step; 0.2 → ~4.1 and 0.43; 0.1 → ~3.4 and 0.72, with the linear predictor)
SLOW_CONTRACTION = 0.2

#: functions called only from compiled code: no CPython or C-callable wrapper (the wrappers
#: unbox the tuples of arrays and function values and were most of the compile time)
_inner = njit(no_cpython_wrapper=True, no_cfunc_wrapper=True)


@_inner
def _copy(dst, src):
    """``dst[:] = src`` for equal sizes, as a loop: a slice assignment brings a shape-mismatch
    error path that formats a message (about 1,300 instructions of string code per module)."""
    for i in range(dst.size):
        dst[i] = src[i]

# options vector (float64) indices
O_TOL, O_MAXIT, O_RCOND, O_HMIN, O_LOS_RAD, O_DT_OUT = range(6)
# counters (int64) indices
C_STEPS, C_ITERS, C_FACTS, C_FAILS, C_NOUT, C_REFRESH, C_BE_NEXT, C_DISC = range(8)
N_COUNTERS = 8
# tstate (float64): [current c of the factorization, next output time]
T_CFACT, T_NEXT_OUT = range(2)
# return codes
OK, FAILED, LOSS_OF_SYNC, OUT_FULL = 0, 1, 2, 3


@_inner
def eval_system(t, z, net, F, fns, rg, jd, want_jac):
    """Right-hand sides of all rows into ``rg`` (and, if asked, Jacobian values into ``jd``)."""
    yptr, yind, yg, yb, npos = net
    rg[:] = 0.0
    if want_jac:
        jd[:] = 0.0
    nb = yptr.size - 1
    for i in range(nb):
        ar = 0.0
        ai = 0.0
        for k in range(yptr[i], yptr[i + 1]):
            j = yind[k]
            g = yg[k]
            b = yb[k]
            vr = z[2 * j]
            vi = z[2 * j + 1]
            ar += g * vr - b * vi
            ai += b * vr + g * vi
            if want_jac:
                jd[npos[k, 0]] += g
                jd[npos[k, 1]] -= b
                jd[npos[k, 2]] += b
                jd[npos[k, 3]] += g
        rg[2 * i] += ar
        rg[2 * i + 1] += ai
    for k in range(len(F)):
        f = F[k]
        if f[0].shape[0] > 0:
            fns[k](0, t, z, f[0], f[1], f[3], f[4], f[5], want_jac)
            scatter(f, rg, jd, want_jac)


@_inner
def update_discrete(t, z, F, fns):
    """Limiter flags and timers of every family between steps; how many changed."""
    n = 0
    for k in range(len(F)):
        f = F[k]
        if f[0].shape[0] > 0:
            n += fns[k](1, t, z, f[0], f[1], f[3], f[4], f[5], False)
    return n


@_inner
def newton(t, h, mode, z, zold, rold, net, F, fns, lin, work, opt, cnt, ts):
    """Solve one step (mode 0 trapezoid, 1 backward Euler, 2 algebraic re-solve); True if
    converged.  On return ``work[0]`` (rg) holds the right-hand sides at the final ``z``."""
    ap, ai, jd, diag, rowof, isdiff, common, handles = lin
    rg, res, dz = work[0], work[1], work[2]
    n = z.size
    c = 0.5 * h if mode == 0 else (h if mode == 1 else 0.0)
    beta = 1.0 if mode == 0 else 0.0
    if ts[T_CFACT] != c:
        cnt[C_REFRESH] = 1
    tol = opt[O_TOL]
    maxit = int(opt[O_MAXIT])
    prev = np.inf
    # the algebraic re-solve at an event instant is rare and a failure there ends the run:
    # full Newton; steps reuse the Jacobian until convergence slows, then go full Newton
    full = mode == 2
    for it in range(maxit + 1):
        need = cnt[C_REFRESH] != 0 or full
        eval_system(t, z, net, F, fns, rg, jd, need)
        fn = 0.0
        for i in range(n):
            if isdiff[i] != 0:
                res[i] = z[i] - zold[i] - c * (rg[i] + beta * rold[i])
            else:
                res[i] = rg[i]
            a = abs(res[i])
            if not a <= fn:  # also catches NaN
                fn = a if a == a else np.inf
        if fn < tol:
            return True
        if it == maxit or not math.isfinite(fn):
            return False
        if not need and fn > SLOW_CONTRACTION * prev:
            # slow convergence: refresh the Jacobian at this iterate (full Newton from here)
            cnt[C_REFRESH] = 1
            full = True
            need = bool(True)
            eval_system(t, z, net, F, fns, rg, jd, need)
        if need:
            for k in range(jd.size):
                if isdiff[rowof[k]] != 0:
                    jd[k] *= -c
            for i in range(n):
                if isdiff[i] != 0:
                    jd[diag[i]] += 1.0
            cnt[C_FACTS] += 1
            if not klu_refactor(common, ap, ai, jd, handles, opt[O_RCOND]):
                return False
            cnt[C_REFRESH] = 0
            ts[T_CFACT] = c
        for i in range(n):
            dz[i] = -res[i]
        if not klu_solve(common, handles, dz):
            return False
        cnt[C_ITERS] += 1
        for i in range(n):
            z[i] += dz[i]
        prev = fn
    return False


@_inner
def record(t, z, sel, out_t, out_z, cnt):
    k = cnt[C_NOUT]
    if k >= out_t.size:
        return False
    out_t[k] = t
    for j in range(sel.size):
        out_z[k, j] = z[sel[j]]
    cnt[C_NOUT] = k + 1
    return True


@_inner
def max_angle_sep(z, sync):
    """Largest rotor-angle deviation (rad) of an online machine from the centre of inertia of
    its own synchronous island (``casa_dyn.solver.sync``): machines ``idx[start[g]:start[g+1]]``
    with weights ``w`` form island group ``g``."""
    idx, w, start = sync
    worst = 0.0
    for g in range(start.size - 1):
        sw = 0.0
        sd = 0.0
        for k in range(start[g], start[g + 1]):
            sw += w[k]
            sd += w[k] * z[idx[k]]
        if sw <= 0.0:
            continue
        coi = sd / sw
        for k in range(start[g], start[g + 1]):
            d = abs(z[idx[k]] - coi)
            if d > worst:
                worst = d
    return worst


@_inner
def integrate(t0, t1, h_nom, z, rold, zold, net, F, fns, lin, work, opt, cnt, ts, sel, out_t, out_z, sync):
    """Advance from ``t0`` to exactly ``t1``.  Returns (code, t reached)."""
    t = t0
    h = h_nom
    n_good = 0
    rg = work[0]
    zp = work[3]  # start of the previous step, for the predictor
    h_prev = 0.0  # 0 = no smooth previous step to extrapolate from
    half_pending = False
    while t1 - t > 1e-9 * h_nom:
        mode = 1 if cnt[C_BE_NEXT] != 0 else 0
        hh = h
        if mode == 1 or half_pending:
            # after a discontinuity: a backward-Euler half step, then a trapezoidal half step
            # to return to the step grid (BE's local error falls with the square of its step)
            hh = 0.5 * h
            half_pending = mode == 1
        if t + hh > t1 - 1e-6 * h_nom:
            hh = t1 - t  # land exactly on the segment end (an event or t_end)
        _copy(zold, z)
        if mode == 0 and h_prev > 0.0:
            # linear predictor from the last smooth step: Newton starts O(h^2) from the answer
            k = hh / h_prev
            for i in range(z.size):
                z[i] += k * (z[i] - zp[i])
        ok = newton(t + hh, hh, mode, z, zold, rold, net, F, fns, lin, work, opt, cnt, ts)
        _copy(zp, zold)
        h_prev = hh if (ok and mode == 0) else 0.0
        if not ok:
            _copy(z, zold)
            cnt[C_FAILS] += 1
            cnt[C_REFRESH] = 1
            cnt[C_BE_NEXT] = 1
            h = 0.5 * hh
            n_good = 0
            if h < opt[O_HMIN]:
                return FAILED, t
            continue
        t += hh
        cnt[C_STEPS] += 1
        _copy(rold, rg)
        cnt[C_BE_NEXT] = 0
        if update_discrete(t, z, F, fns) > 0:
            # a limiter changed state: the next step is backward Euler with a new Jacobian,
            # from right-hand sides evaluated at the (possibly clamped) point
            cnt[C_DISC] += 1
            cnt[C_BE_NEXT] = 1
            cnt[C_REFRESH] = 1
            h_prev = 0.0
            eval_system(t, z, net, F, fns, rg, lin[2], bool(False))
            _copy(rold, rg)
        if t >= ts[T_NEXT_OUT] - 1e-6 * h_nom:
            if not record(t, z, sel, out_t, out_z, cnt):
                return OUT_FULL, t
            ts[T_NEXT_OUT] += opt[O_DT_OUT]
            while ts[T_NEXT_OUT] <= t + 1e-6 * h_nom:
                ts[T_NEXT_OUT] += opt[O_DT_OUT]
        if opt[O_LOS_RAD] > 0.0 and max_angle_sep(z, sync) > opt[O_LOS_RAD]:
            record(t, z, sel, out_t, out_z, cnt)
            return LOSS_OF_SYNC, t
        if h < h_nom:
            n_good += 1
            if n_good >= 4:
                h = min(2.0 * h, h_nom)
                n_good = 0
    return OK, t


@_inner
def resolve_algebraic(t, z, rold, zold, net, F, fns, lin, work, opt, cnt, ts):
    """At an event instant: keep the states, re-solve the algebraic variables (c = 0)."""
    _copy(zold, z)
    cnt[C_REFRESH] = 1
    ok = newton(t, 0.0, int(2), z, zold, rold, net, F, fns, lin, work, opt, cnt, ts)
    if ok:
        _copy(rold, work[0])
    cnt[C_REFRESH] = 1
    cnt[C_BE_NEXT] = 1
    return ok


TASK_INTEGRATE, TASK_RESOLVE, TASK_EVAL, TASK_EVAL_JAC, TASK_RECORD = range(5)


@njit(no_cfunc_wrapper=True)   # called from Python only: no C-callable wrapper to load
def run(task, t0, t1, h, z, rold, zold, net, F, fns, lin, work, opt, cnt, ts, sel, out_t, out_z, sync):
    """The single compiled entry point.  Returns (code, t):

    * ``TASK_INTEGRATE``: advance from t0 to exactly t1 with step h;
    * ``TASK_RESOLVE``:  re-solve the algebraic variables at t0 (an event instant);
    * ``TASK_EVAL`` / ``TASK_EVAL_JAC``: right-hand sides into ``work[0]`` (and Jacobian values
      into ``lin[2]``) at ``z``;
    * ``TASK_RECORD``: append ``z[sel]`` at t0 to the output buffers.
    """
    if task == TASK_INTEGRATE:
        return integrate(t0, t1, h, z, rold, zold, net, F, fns, lin, work, opt, cnt, ts, sel, out_t, out_z, sync)
    if task == TASK_RESOLVE:
        ok = resolve_algebraic(t0, z, rold, zold, net, F, fns, lin, work, opt, cnt, ts)
        return (OK if ok else FAILED), t0
    if task == TASK_EVAL or task == TASK_EVAL_JAC:
        eval_system(t0, z, net, F, fns, work[0], lin[2], task == TASK_EVAL_JAC)
        return OK, t0
    ok = record(t0, z, sel, out_t, out_z, cnt)
    return (OK if ok else OUT_FULL), t0
