"""What a worker does with one task: simulate (or bisect), compute the metrics, write one
result file, return its record.  Plain module-level functions of picklable arguments, so the
same code runs in the driver, in a local process pool and on Dask workers.

A failure inside a scenario (power flow, initialization, Newton) is a result, not an
exception: the file is written with status ``failed`` (a ``CasaDynError``) or ``error``
(anything else, which is a bug: the message carries the exception type).
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from fnmatch import fnmatch

import numpy as np

from casa_dyn.errors import CasaDynError
from casa_dyn.study.spec import MetricOptions, OutputOptions


@dataclass(frozen=True)
class Settings:
    out_dir: str
    metrics: MetricOptions = MetricOptions()
    output: OutputOptions = OutputOptions()
    criteria: tuple = ()


def run_scenario(sc, case, settings: Settings) -> dict:
    """Simulate one ``StudyScenario`` on its (prepared, unmodified) case and write its file."""
    from casa_dyn.io.study_files import write_scenario_result
    from casa_dyn.study.metrics import coi_weights_from_case, compute_metrics, evaluate
    from casa_dyn.study.modify import apply_mods
    from casa_dyn.study.scenarios import canonical_event

    events = [canonical_event(e) for e in sc.events]
    wall0 = time.perf_counter()
    weights = {}
    try:
        c = apply_mods(case, sc.mods)
        weights = coi_weights_from_case(c)
        from casa_dyn.solver.simulate import simulate

        res = simulate(c, sc.events, sc.sim_options())
    except CasaDynError as e:
        res = _empty(case, events, "failed", str(e), wall0)
    except Exception as e:  # noqa: BLE001 - a bug must not stop the batch; it is recorded
        res = _empty(case, events, "error", f"{type(e).__name__}: {e}", wall0, traceback.format_exc())
    metrics = compute_metrics(res, settings.metrics, weights, events)
    passed, why = evaluate(res.status, metrics, settings.criteria)
    record = {"scenario_id": sc.id, "kind": sc.kind, "label": sc.label, "case": sc.case,
              "params": dict(sc.params), "metrics": metrics, "metric_options": settings.metrics.to_dict(),
              "coi_weights": {str(k): v for k, v in weights.items()}}
    res.meta["study"] = record
    write_scenario_result(settings.out_dir, sc.id, _thin(res, settings.output, passed))
    return {**record, "status": res.status, "message": res.message, "t_stop_s": float(res.t_stop_s),
            "passed": int(passed), "violations": why}


def run_cct(job, case, settings: Settings) -> dict:
    """One CCT bisection chain; writes ``cct/<id>.json``."""
    from casa_dyn.io.study_files import write_cct_result
    from casa_dyn.study.cct import find_cct
    from casa_dyn.study.modify import apply_mods

    trip = (job.trip_table, job.trip_branch) if job.trip_branch is not None else None
    record = {"cct_id": job.id, "kind": "cct", "label": job.label, "case": job.case, "params": dict(job.params)}
    try:
        r = find_cct(apply_mods(case, job.mods), job.fault_bus, trip, t_on_s=job.t_on_s, tol_s=job.tol_s,
                     max_clearing_s=job.max_clearing_s, options=job.sim_options(), r_pu=job.r_pu, x_pu=job.x_pu)
        record.update(r.to_dict())
    except CasaDynError as e:
        record.update(status="failed", message=str(e), cct_s=None, stable_s=None, unstable_s=None,
                      tol_s=job.tol_s, runs=[])
    except Exception as e:  # noqa: BLE001
        record.update(status="error", message=f"{type(e).__name__}: {e}", cct_s=None, stable_s=None,
                      unstable_s=None, tol_s=job.tol_s, runs=[], traceback=traceback.format_exc())
    write_cct_result(settings.out_dir, job.id, record)
    return record


def warm_jit(case) -> None:
    """Compile (or load from numba's disk cache) every kernel a run of ``case`` uses, with a
    3-step run that applies and clears a fault; errors are left for the real runs to report."""
    from casa_dyn.solver.events import BusFault
    from casa_dyn.solver.options import SimOptions
    from casa_dyn.solver.simulate import simulate

    try:
        h = SimOptions().step_s(case.freq_hz)
        bus = int(case["bus"]["id"][0])
        simulate(case, [BusFault(bus, h, 2 * h)], SimOptions(t_end_s=3 * h))
    except Exception:  # noqa: BLE001
        pass


def warm_jit_all(cases) -> int:
    """``warm_jit`` on each of ``cases`` in turn.  A process compiles only the model families
    its case uses, so a study with several cases (different models) needs one short run per
    case before the workers fan out; otherwise workers would meet an uncompiled family in
    their first scenario of that case and compile it at the same time.  Returns the count."""
    n = 0
    for case in cases:
        warm_jit(case)
        n += 1
    return n


def _empty(case, events, status, message, wall0, tb=None):
    from casa_dyn.solver.results import Results

    meta = {"case_name": case.name, "case_hash": case.content_hash(), "events": events}
    if tb:
        meta["traceback"] = tb
    return Results(t_s=np.zeros(0), data=np.zeros((0, 0)), names=[], units=[], kinds=[],
                   elements=np.zeros(0, dtype=np.int64), status=status, message=message, t_stop_s=0.0,
                   counters={}, wall_s=time.perf_counter() - wall0, meta=meta)


def _thin(res, out: OutputOptions, passed: bool):
    """The channels and samples the study keeps (metrics were computed on everything)."""
    from casa_dyn.solver.results import Results

    keep_all = out.keep == "all" or (out.keep == "violations" and not passed)
    cols = [k for k, n in enumerate(res.names) if not out.channels or any(fnmatch(n, p) for p in out.channels)]
    cols = cols if keep_all else []
    rows = np.arange(res.t_s.size)
    if out.decimation > 1 and rows.size:
        t = res.t_s
        event = np.zeros(t.size, dtype=bool)
        event[1:] |= t[1:] == t[:-1]
        event[:-1] |= t[:-1] == t[1:]
        rows = rows[(rows % out.decimation == 0) | event | (rows == rows[-1])]
    if len(cols) == len(res.names) and rows.size == res.t_s.size:
        return res
    return Results(t_s=res.t_s[rows], data=res.data[np.ix_(rows, cols)], names=[res.names[k] for k in cols],
                   units=[res.units[k] for k in cols], kinds=[res.kinds[k] for k in cols],
                   elements=np.asarray(res.elements)[cols], status=res.status, message=res.message,
                   t_stop_s=res.t_stop_s, counters=res.counters, wall_s=res.wall_s, meta=res.meta)
