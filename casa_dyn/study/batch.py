"""``casa-dyn batch``: run every scenario of a study once, resumably, and write the summary.

1. Read the study and its cases; expand and check every scenario (nothing runs on an error).
2. Keep this shard's slice; remove attempt folders left by killed runs; skip every scenario
   whose result file already holds its id (and the same metric options).
3. Warm the JIT cache in one worker with a short run of every case of the study (a process
   compiles only the model families its case uses; this worker writes numba's disk cache if
   it has to compile), then fan the rest out, so that workers never compile at the same time.
4. Build the summary from the result files (the single source of truth), in scenario order,
   with the pass/fail criteria evaluated now; write it atomically (HDF5 and CSV).

The summary has no wall times and no worker names, so the same study gives the same table
whatever ran it.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field

from casa_dyn.study.metrics import METRIC_NAMES, evaluate

SCENARIO_HEAD = ("scenario_id", "case", "kind", "label")
SCENARIO_TAIL = ("status", "message", "t_stop_s") + METRIC_NAMES + ("passed", "violations")
CCT_HEAD = ("cct_id", "case", "label")
CCT_TAIL = ("status", "message", "cct_s", "stable_s", "unstable_s", "tol_s", "n_runs")
NOT_RUN = "not_run"


@dataclass(frozen=True)
class BatchOptions:
    workers: int = 1
    scheduler: str | None = None          # Dask scheduler address, or "local"
    shard: tuple[int, int] | None = None  # (I, N), 1-based
    progress: bool = True


@dataclass
class BatchReport:
    n_total: int = 0
    n_skipped: int = 0
    n_run: int = 0
    statuses: Counter = field(default_factory=Counter)
    n_passed: int = 0
    n_cct: int = 0
    executor: str = ""
    wall_s: float = 0.0
    paths: list = field(default_factory=list)
    infra_errors: list = field(default_factory=list)

    def line(self) -> str:
        st = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        rate = self.n_run / self.wall_s if self.wall_s > 0 else 0.0
        n_sc = self.n_total - self.n_cct
        return (f"{self.n_total} tasks ({n_sc} scenarios, {self.n_cct} CCT): {st or 'none'}; "
                f"{self.n_passed}/{n_sc} scenarios passed; ran {self.n_run}, skipped {self.n_skipped} finished; "
                f"{self.executor}, {self.wall_s:.1f} s, {rate:.2f} tasks/s; summary: {self.paths[0] if self.paths else '-'}")


def parse_shard(text: str) -> tuple[int, int]:
    from casa_dyn.study.spec import StudyError

    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise StudyError(f"--shard {text!r}: expected I/N, e.g. 3/8") from None
    if not (n >= 1 and 1 <= i <= n):
        raise StudyError(f"--shard {text!r}: need 1 <= I <= N")
    return i, n


def load(study_path: str):
    """(study, {label: prepared case}, every task in order); raises on any problem."""
    from casa_dyn.io.study_toml import read_study, read_study_cases
    from casa_dyn.study.modify import prepare_case
    from casa_dyn.study.scenarios import expand

    study = read_study(study_path)
    raw = read_study_cases(study)
    cases = {c.label: prepare_case(raw[c.label], c.dynamics) for c in study.cases}
    return study, cases, expand(study, cases)


def run_batch(study_path: str, out_dir: str, opts: BatchOptions = BatchOptions(), stream=sys.stderr,
              executor=None) -> BatchReport:
    """Run a study (see the module docstring).  ``executor``: an open executor to use (and
    leave open) instead of making one from ``opts``, e.g. to run several studies on warm workers."""
    from casa_dyn.io import study_files as F
    from casa_dyn.study.executors import Job, make_executor
    from casa_dyn.study.progress import Progress
    from casa_dyn.study.scenarios import CctJob, shard
    from casa_dyn.study.tasks import Settings, run_cct, run_scenario

    wall0 = time.perf_counter()
    study, cases, items = load(study_path)
    if opts.shard:
        items = shard(items, *opts.shard)
    F.prepare_output(out_dir)
    F.clean_partials(out_dir, [it.id for it in items])
    todo = [it for it in items if not _finished(out_dir, it, study)]
    report = BatchReport(n_total=len(items), n_skipped=len(items) - len(todo),
                         n_cct=sum(isinstance(it, CctJob) for it in items))
    settings = Settings(out_dir, study.metrics, study.output, study.criteria)
    if todo:
        with (nullcontext(executor) if executor is not None else make_executor(opts.workers, opts.scheduler)) as ex:
            report.executor = f"{ex.name}, {ex.n_workers} worker{'s' if ex.n_workers != 1 else ''}"
            ex.warm([cases[label] for label in dict.fromkeys(it.case for it in todo)])  # each case once
            shared = {label: ex.share(cases[label]) for label in {it.case for it in todo}}
            bar = Progress(len(todo), stream if opts.progress else None,
                           label=f"batch ({report.n_skipped} done before)" if report.n_skipped else "batch")

            def on_done(job, record, error):
                report.n_run += record is not None
                if error:
                    report.infra_errors.append(f"{job.key}: {error}")
                bar.update()

            jobs = (Job(it.id, run_cct if isinstance(it, CctJob) else run_scenario, (it, shared[it.case], settings))
                    for it in todo)
            ex.run(jobs, on_done)
            bar.close()
        F.clean_partials(out_dir, [it.id for it in todo])
    else:
        report.executor = "nothing to run"
    tables = summary_tables(out_dir, items, study)
    report.statuses = Counter(r["status"] for r in tables["scenarios"][1] + tables["cct"][1])
    report.n_passed = sum(int(r["passed"] or 0) for r in tables["scenarios"][1])
    stem = f"summary-shard-{opts.shard[0]}-of-{opts.shard[1]}" if opts.shard else "summary"
    attrs = {"study": study.name, "study_file": study.source, "n_scenarios": len(tables["scenarios"][1]),
             "n_cct": len(tables["cct"][1]), "metric_options": study.metrics.to_dict()}
    report.paths = F.write_summary(out_dir, stem, tables, attrs)
    F.remove_empty_partial(out_dir)
    report.wall_s = time.perf_counter() - wall0
    return report


def _finished(out_dir, item, study) -> bool:
    from casa_dyn.io import study_files as F
    from casa_dyn.study.scenarios import CctJob

    if isinstance(item, CctJob):
        rec = F.read_cct_record(out_dir, item.id)
        return rec is not None and rec.get("cct_id") == item.id
    rec = F.read_scenario_record(out_dir, item.id)
    return (rec is not None and rec.get("scenario_id") == item.id
            and rec.get("metric_options") == study.metrics.to_dict())


def summary_tables(out_dir: str, items, study) -> dict:
    """{"scenarios": (columns, rows), "cct": (columns, rows)} read back from the result files."""
    from casa_dyn.io import study_files as F
    from casa_dyn.study.scenarios import CctJob, param_columns

    scen = [it for it in items if not isinstance(it, CctJob)]
    ccts = [it for it in items if isinstance(it, CctJob)]
    rows = []
    for it in scen:
        rec = F.read_scenario_record(out_dir, it.id) or {}
        metrics = rec.get("metrics") or dict.fromkeys(METRIC_NAMES)
        status = rec.get("status", NOT_RUN)
        passed, why = evaluate(status, metrics, study.criteria)
        rows.append({"scenario_id": it.id, "case": it.case, "kind": it.kind, "label": it.label, **dict(it.params),
                     "status": status, "message": rec.get("message", "no result file (not run, or interrupted)"),
                     "t_stop_s": rec.get("t_stop_s"), **{m: metrics.get(m) for m in METRIC_NAMES},
                     "passed": int(passed), "violations": why})
    crow = []
    for it in ccts:
        rec = F.read_cct_record(out_dir, it.id) or {}
        crow.append({"cct_id": it.id, "case": it.case, "label": it.label, **dict(it.params),
                     "status": rec.get("status", NOT_RUN), "message": rec.get("message", "no result file"),
                     "cct_s": rec.get("cct_s"), "stable_s": rec.get("stable_s"), "unstable_s": rec.get("unstable_s"),
                     "tol_s": it.tol_s, "n_runs": len(rec.get("runs", []))})
    scols = list(SCENARIO_HEAD) + param_columns(scen) + list(SCENARIO_TAIL)
    ccols = list(CCT_HEAD) + param_columns(ccts) + list(CCT_TAIL)
    return {"scenarios": (scols, rows), "cct": (ccols, crow)}
