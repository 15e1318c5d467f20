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
from casa_dyn.case.index import positions
from casa_dyn.errors import ModelInitError
from casa_dyn.linalg import klu_numba
from casa_dyn.solver import channels as ch
from casa_dyn.solver import kernel as K
from casa_dyn.solver import sync
from casa_dyn.solver.events import actions, apply, check_events
from casa_dyn.solver.layout import System, build_system
from casa_dyn.solver.sync import SyncState
from casa_dyn.solver.workspace import Workspace
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.results import COMPLETED, FAILED, UNSTABLE, Results

#: actions after which the synchronous islands are recomputed
TOPOLOGY_KINDS = ("branch_open", "branch_close", "gen_trip")
#: the initial point must satisfy every equation to this (pu / state units per second)
INIT_RESIDUAL_TOL = 1e-6


@dataclass
class RunState:
    branch_on: np.ndarray
    sync: SyncState


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
    acts = actions(events)
    n_steps_est = int(np.ceil(opts.t_end_s / h)) + 1
    n_out = n_steps_est // max(opts.decimation, 1) + 3 * len(acts) + 8
    sel, chans = ch.plan(sysm, opts.channels)
    opt = np.array([opts.tol, opts.max_iter, opts.rcond_min, opts.dt_min_s,
                    np.radians(opts.loss_of_sync_deg), h * max(opts.decimation, 1)])
    state = _run_state(sysm)
    ws = Workspace(sysm, opt, sel, n_out, state.sync.kernel_arrays())
    coi_segments = [(0, state.sync.coi_weights())]   # (first sample, weights) of the COI channel
    islands = [_islands_record(sysm, state, 0.0)]     # synchronous islands, for the metrics
    cnt, z = ws.cnt, ws.z

    status, message, t = COMPLETED, "", 0.0
    try:
        if not klu_numba.klu_analyze(ws.common, sysm.ap, sysm.ai, ws.handles):
            raise ModelInitError("symbolic analysis of the Jacobian failed")
        ws.call(K.TASK_EVAL, 0.0)
        _check_initial_point(sysm, ws.work[0])
        ws.rold[:] = ws.work[0]
        ws.call(K.TASK_RECORD, 0.0)
        cnt[K.C_BE_NEXT] = 0
        cnt[K.C_REFRESH] = 1
        bounds = sorted({a.t_s for a in acts if a.t_s < opts.t_end_s} | {opts.t_end_s})
        for t_next in bounds:
            if t_next > t:
                code, t = ws.call(K.TASK_INTEGRATE, t, t_next, h)
                if code != K.OK:
                    status, message = _stop_reason(code, t, opts)
                    break
            due = [a for a in acts if abs(a.t_s - t_next) < 1e-12 and a.t_s < opts.t_end_s]
            if not due:
                continue
            if cnt[K.C_NOUT] == 0 or ws.out_t[cnt[K.C_NOUT] - 1] != t:
                ws.call(K.TASK_RECORD, t)  # the t- point
            for a in due:
                apply(sysm, state, a)
            if any(a.kind in TOPOLOGY_KINDS for a in due):
                sync.update(sysm, state.sync, state.branch_on, t)
                ws.sync = state.sync.kernel_arrays()
                coi_segments.append((int(cnt[K.C_NOUT]), state.sync.coi_weights()))
                islands.append(_islands_record(sysm, state, t))
            if ws.call(K.TASK_RESOLVE, t)[0] != K.OK:
                status, message = FAILED, (f"t = {t:.4f} s: the network equations have no solution after "
                                           f"{', '.join(a.kind for a in due)} (Newton did not converge)")
                break
            ws.call(K.TASK_RECORD, t)
    finally:
        ws.free()
    k = int(cnt[K.C_NOUT])
    data = ch.compute(ws.out_z[:k], chans, coi_segments)
    counters = {"steps": cnt[K.C_STEPS], "newton_iterations": cnt[K.C_ITERS],
                "factorizations": cnt[K.C_FACTS], "step_failures": cnt[K.C_FAILS],
                "limiter_changes": cnt[K.C_DISC]}
    meta = {"case_name": case.name, "case_hash": case.content_hash(), "software_version": casa_dyn.__version__,
            "options": opts.to_dict(), "events": [_event_dict(e) for e in events], "dt_s": h,
            "n_variables": sysm.n, "jacobian_nnz": int(sysm.ai.size),
            "sync_islands": islands,
            "separated_generators": [{"gen": int(sysm.case["generator"]["id"][sysm.unit_gen_row[u]]), "t_s": ts}
                                     for u, ts in sorted(state.sync.separated.items())]}
    return Results(t_s=ws.out_t[:k].copy(), data=data, names=[c.name for c in chans], units=[c.unit for c in chans],
                   kinds=[c.kind for c in chans], elements=np.array([c.element for c in chans], dtype=np.int64),
                   status=status, message=message or f"completed at t = {t:.4f} s", t_stop_s=t,
                   counters=counters, wall_s=time.perf_counter() - wall0, meta=meta)


def _run_state(sysm: System) -> RunState:
    gen = sysm.case["generator"]
    st = SyncState(delta_idx=np.array([u["delta"] for u in sysm.units], dtype=np.int64),
                   w0=_coi_weights(sysm),
                   unit_bus=positions(sysm.case, gen["bus"][sysm.unit_gen_row]),
                   online=np.ones(len(sysm.units), dtype=bool))
    state = RunState(branch_on=sysm.branches.on.copy(), sync=st)
    sync.update(sysm, st, state.branch_on, None)
    return state


def _islands_record(sysm, state, t_s) -> dict:
    """The AC island of every unit from ``t_s`` on (generator ids), for metrics per island."""
    gen_ids = sysm.case["generator"]["id"][sysm.unit_gen_row]
    return {"t_s": float(t_s), "gen": [int(g) for g in gen_ids],
            "island": [int(i) for i in state.sync.island]}


def _coi_weights(sysm: System) -> np.ndarray:
    """H * mbase of each unit (the centre-of-inertia weights)."""
    w = np.zeros(len(sysm.units))
    mbase = sysm.case["generator"]["mbase_mva"]
    for f in sysm.families:
        if f.spec.family == "generator" and f.n:
            w[f.unit] = f.p[:, f.pcol("h_s")] * mbase[sysm.unit_gen_row[f.unit]]
    return w


def _check_initial_point(sysm, rg) -> None:
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
