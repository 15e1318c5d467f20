"""``simulate(case, events, options)``: power flow → DAE system → compiled time loop → Results.

Python runs once per event segment: it applies the event to the system's arrays, re-solves
the algebraic variables at the event instant, and hands the next segment to the compiled
``integrate`` kernel.  A run that cannot go on stops with status ``failed`` (or ``unstable``
on loss of synchronism) and keeps everything computed up to that time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import casa_dyn
from casa_dyn.errors import ModelInitError
from casa_dyn.linalg import klu_numba
from casa_dyn.solver import channels as ch
from casa_dyn.solver import kernel as K
from casa_dyn.solver.events import actions, apply, check_events
from casa_dyn.solver.layout import System, build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.results import COMPLETED, FAILED, UNSTABLE, Results

#: the initial point must satisfy every equation to this (pu / state units per second)
INIT_RESIDUAL_TOL = 1e-6


@dataclass
class RunState:
    branch_on: np.ndarray
    sync_idx: np.ndarray
    sync_w: np.ndarray
    sync_unit: np.ndarray


def simulate(case, events=(), options: SimOptions | None = None, pf=None, system: System | None = None) -> Results:
    opts = options or SimOptions()
    if not klu_numba.AVAILABLE:
        raise RuntimeError("the compiled time loop needs KLU from the 'nbklu' package")
    wall0 = time.perf_counter()
    check_events(case, events, opts.t_end_s)
    if pf is None:
        from casa_dyn.network.powerflow import solve_power_flow

        pf = solve_power_flow(case)
    sysm = system or build_system(case, pf)
    h = float(opts.step_s(case.freq_hz))
    z = sysm.z0.copy()
    F = sysm.family_tuple()
    net = (sysm.ybus.indptr.astype(np.int64), sysm.ybus.indices.astype(np.int64), sysm.yg, sysm.yb, sysm.npos)
    common, handles = klu_numba.new_buffers()
    jd = np.zeros(sysm.ai.size)
    lin = (sysm.ap, sysm.ai, jd, sysm.diag, sysm.rowof, sysm.is_diff, common, handles)
    n = sysm.n
    work = (np.zeros(n), np.zeros(n), np.zeros(n))
    rold, zold = np.zeros(n), np.zeros(n)
    acts = actions(events)
    n_steps_est = int(np.ceil(opts.t_end_s / h)) + 1
    n_out = n_steps_est // max(opts.decimation, 1) + 3 * len(acts) + 8
    sel, chans = ch.plan(sysm, opts.channels)
    out_t, out_z = np.zeros(n_out), np.zeros((n_out, sel.size))
    opt = np.array([opts.tol, opts.max_iter, opts.rcond_min, opts.dt_min_s,
                    np.radians(opts.loss_of_sync_deg), h * max(opts.decimation, 1)])
    cnt = np.zeros(K.N_COUNTERS, dtype=np.int64)
    ts = np.array([np.nan, h * max(opts.decimation, 1)])
    state = _run_state(sysm)
    sync = (state.sync_idx, state.sync_w)

    status, message, t = COMPLETED, "", 0.0
    try:
        if not klu_numba.klu_analyze(common, sysm.ap, sysm.ai, handles):
            raise ModelInitError("symbolic analysis of the Jacobian failed")
        _check_initial_point(sysm, z, net, F, work, jd)
        K.eval_system(0.0, z, net, F, work[0], jd, False)
        rold[:] = work[0]
        K.record(0.0, z, sel, out_t, out_z, cnt)
        cnt[K.C_BE_NEXT] = 0
        cnt[K.C_REFRESH] = 1
        bounds = sorted({a.t_s for a in acts if a.t_s < opts.t_end_s} | {opts.t_end_s})
        for t_next in bounds:
            if t_next > t:
                code, t = K.integrate(float(t), float(t_next), float(h), z, rold, zold, net, F, lin, work, opt, cnt, ts,
                                      sel, out_t, out_z, sync)
                if code != K.OK:
                    status, message = _stop_reason(code, t, opts)
                    break
            due = [a for a in acts if abs(a.t_s - t_next) < 1e-12 and a.t_s < opts.t_end_s]
            if not due:
                continue
            if cnt[K.C_NOUT] == 0 or out_t[cnt[K.C_NOUT] - 1] != t:
                K.record(t, z, sel, out_t, out_z, cnt)  # the t- point
            for a in due:
                apply(sysm, state, a)
            if not K.resolve_algebraic(float(t), z, rold, zold, net, F, lin, work, opt, cnt, ts):
                status, message = FAILED, (f"t = {t:.4f} s: the network equations have no solution after "
                                           f"{', '.join(a.kind for a in due)} (Newton did not converge)")
                break
            K.record(t, z, sel, out_t, out_z, cnt)
    finally:
        klu_numba.klu_free(common, handles)
    k = int(cnt[K.C_NOUT])
    weights = _coi_weights(sysm)
    data = ch.compute(out_z[:k], chans, weights)
    counters = {"steps": cnt[K.C_STEPS], "newton_iterations": cnt[K.C_ITERS],
                "factorizations": cnt[K.C_FACTS], "step_failures": cnt[K.C_FAILS],
                "limiter_changes": cnt[K.C_DISC]}
    meta = {"case_name": case.name, "case_hash": case.content_hash(), "software_version": casa_dyn.__version__,
            "options": opts.to_dict(), "events": [_event_dict(e) for e in events], "dt_s": h,
            "n_variables": n, "jacobian_nnz": int(sysm.ai.size)}
    return Results(t_s=out_t[:k].copy(), data=data, names=[c.name for c in chans], units=[c.unit for c in chans],
                   kinds=[c.kind for c in chans], elements=np.array([c.element for c in chans], dtype=np.int64),
                   status=status, message=message or f"completed at t = {t:.4f} s", t_stop_s=t,
                   counters=counters, wall_s=time.perf_counter() - wall0, meta=meta)


def _run_state(sysm: System) -> RunState:
    idx, w = [], []
    for u in range(len(sysm.units)):
        idx.append(sysm.units[u]["delta"])
    w = _coi_weights(sysm)
    return RunState(branch_on=sysm.branches.on.copy(), sync_idx=np.array(idx, dtype=np.int64),
                    sync_w=w.copy(), sync_unit=np.arange(len(sysm.units)))


def _coi_weights(sysm: System) -> np.ndarray:
    """H * mbase of each unit (the centre-of-inertia weights)."""
    w = np.zeros(len(sysm.units))
    mbase = sysm.case["generator"]["mbase_mva"]
    for f in sysm.families:
        if f.spec.family == "generator" and f.n:
            w[f.unit] = f.p[:, f.pcol("h_s")] * mbase[sysm.unit_gen_row[f.unit]]
    return w


def _check_initial_point(sysm, z, net, F, work, jd) -> None:
    rg = work[0]
    K.eval_system(0.0, z, net, F, rg, jd, False)
    bad = np.flatnonzero(~(np.abs(rg) < INIT_RESIDUAL_TOL))
    if len(bad):
        worst = bad[np.argsort(-np.nan_to_num(np.abs(rg[bad]), nan=np.inf))][:10]
        lines = [f"  - {sysm.names[i]}: residual {rg[i]:.3e}" for i in worst]
        raise ModelInitError("the initial point is not an equilibrium (a model's initialization does not "
                             f"match its equations or a limit is active at t = 0):\n" + "\n".join(lines))


def _stop_reason(code, t, opts):
    if code == K.LOSS_OF_SYNC:
        return UNSTABLE, (f"loss of synchronism at t = {t:.4f} s: a rotor angle left the centre of inertia "
                          f"by more than {opts.loss_of_sync_deg:g} deg")
    if code == K.FAILED:
        return FAILED, (f"Newton did not converge at t = {t:.4f} s even with the step cut to "
                        f"{opts.dt_min_s:g} s (voltage collapse or an impossible operating point)")
    return FAILED, f"output buffer full at t = {t:.4f} s"


def _event_dict(e) -> dict:
    from dataclasses import asdict

    return {"type": type(e).__name__, **asdict(e)}
