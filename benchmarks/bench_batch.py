"""Batch throughput and driver memory.

1. IEEE 39 N-1 sweep: every in-service branch (34 lines + 12 transformers), a bolted fault at
   each end cleared after 100 ms by tripping the branch, 10 s simulated each (92 scenarios), run
   with 1 worker (in the driver), 2 local worker processes and a local Dask cluster of 2
   one-thread workers.  Each executor runs the batch twice: cold (fresh workers, which load the
   compiled kernels) and warm (same workers).  Prints wall time and scenarios per second of
   both (whole batch: reading the study, running, writing every result file and the summary),
   parallel efficiency of the warm runs against 1 worker, simulated seconds per wall second
   (runs that lose synchronism stop there, before 10 s), and whether all summaries are equal.
2. Driver memory over a batch of about 1,000 scenarios (the same sweep x 11 clearing times,
   2 local workers): resident set size of the driver sampled while it runs.

    python benchmarks/bench_batch.py                   # both parts
    python benchmarks/bench_batch.py --skip-memory     # part 1 only
    python benchmarks/bench_batch.py --dynamics classical

``--dynamics case`` (default) uses the case's own dynamic data (PES-TR18 GENROU + ESST1A +
IEEEST in cases/ieee39.h5) when it has any, else the typical classical preset.
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casa_dyn.study.batch import BatchOptions, load, run_batch  # noqa: E402

CLEARING_11 = [0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.14, 0.15]


def machine_info() -> str:
    cpu = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{datetime.datetime.now():%Y-%m-%d %H:%M}, load average {load[0]:.2f} at start")


def study_text(dynamics: str | None, clearing: list[float], keep: str = "all") -> str:
    dyn = f'dynamics = "{dynamics}"\n' if dynamics else ""
    return (f'name = "ieee39-n1"\n[[case]]\npath = "{ROOT / "cases" / "ieee39.h5"}"\n{dyn}'
            f'[options]\nt_end_s = 10.0\n[[n1_branch]]\n[[sweep]]\nparameter = "clearing_time_s"\n'
            f'values = {clearing}\n[output]\nkeep = "{keep}"\n')


class Watch:
    """Samples the driver's RSS and the number of finished result files."""

    def __init__(self, out: pathlib.Path, period_s: float = 0.25):
        self.out, self.period, self.samples, self._stop = out, period_s, [], threading.Event()
        self.t0 = time.perf_counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss_mb(key="VmRSS") -> float:
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
        return float("nan")

    def _run(self):
        while not self._stop.is_set():
            d = self.out / "results"
            n = len(os.listdir(d)) if d.is_dir() else 0
            self.samples.append((time.perf_counter() - self.t0, n, self.rss_mb()))
            self._stop.wait(self.period)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def timed_batch(study: str, out: pathlib.Path, opts: BatchOptions, executor=None):
    with Watch(out) as w:
        t0 = time.perf_counter()
        rep = run_batch(study, str(out), opts, stream=None, executor=executor)
        wall = time.perf_counter() - t0
    return rep, wall, w.samples


def simulated_s(out: pathlib.Path) -> float:
    """Seconds simulated by a batch: unstable runs stop at the loss of synchronism, before 10 s."""
    import csv

    with open(out / "summary.csv", newline="") as fh:
        return sum(float(r["t_stop_s"] or 0.0) for r in csv.DictReader(fh))


def part1(tmp: pathlib.Path, dynamics: str | None, keep: str = "all"):
    """Each executor runs the study twice into fresh folders: cold (new worker processes that
    load the compiled kernels: start-up included) and warm (the same workers again)."""
    from casa_dyn.study.executors import DaskExecutor, InProcess, LocalPool

    study = tmp / "n1.toml"
    study.write_text(study_text(dynamics, [0.1], keep))
    n = len(load(str(study))[2])
    print(f"\n### IEEE 39 N-1: {n} scenarios x 10 s (dynamics: {dynamics or 'the case own data'}; "
          f"trajectories kept: {keep})\n")
    print("| executor | workers | cold: wall s | cold: scenarios/s | warm: wall s | warm: scenarios/s "
          "| parallel efficiency (warm) | simulated s per wall s (warm) | statuses |")
    print("|---|---|---|---|---|---|---|---|---|")
    makers = [("in-process", 1, InProcess), ("local processes", 2, lambda: LocalPool(2)),
              ("Dask, local cluster of 2 one-thread workers", 2, lambda: DaskExecutor("local", 2))]
    base, summaries = None, []
    for k, (name, workers, make) in enumerate(makers):
        ex = make()
        try:
            rep, cold, _ = timed_batch(str(study), tmp / f"cold-{k}", BatchOptions(progress=False), ex)
            rep2, warm, _ = timed_batch(str(study), tmp / f"warm-{k}", BatchOptions(progress=False), ex)
        finally:
            ex.close()
        rate = rep2.n_run / warm
        base = base or rate
        st = ", ".join(f"{v} {s}" for s, v in sorted(rep2.statuses.items()))
        sim_rate = simulated_s(tmp / f"warm-{k}") / warm
        print(f"| {name} | {workers} | {cold:.1f} | {rep.n_run / cold:.2f} | {warm:.1f} | {rate:.2f} | "
              f"{100 * rate / (workers * base):.0f} % | {sim_rate:.0f} | {st} |", flush=True)
        summaries += [(tmp / f"{run}-{k}" / "summary.csv").read_bytes() for run in ("cold", "warm")]
    print(f"\nsummary tables identical across the six runs: {'yes' if len(set(summaries)) == 1 else 'NO'}")


def reset_peak_rss() -> bool:
    """Start VmHWM afresh (Linux: write 5 to /proc/self/clear_refs), so that the peak printed
    after the 1,000-scenario batch is that batch's, not part 1's in-process runs'."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def part2(tmp: pathlib.Path, dynamics: str | None):
    study = tmp / "n1x11.toml"
    study.write_text(study_text(dynamics, CLEARING_11, keep="none"))
    _, _, items = load(str(study))
    out = tmp / "mem"
    print(f"\n### Driver memory over {len(items)} scenarios (2 local workers, trajectories not kept)\n")
    hwm = reset_peak_rss()
    rss0 = Watch.rss_mb()
    rep, wall, w_samples = timed_batch(str(study), out, BatchOptions(workers=2, progress=False))
    print(f"driver RSS before the batch: {rss0:.0f} MB; peak RSS (VmHWM) "
          f"{'during this batch' if hwm else 'of the process'}: {Watch.rss_mb('VmHWM'):.0f} MB")
    print("| scenarios done | driver RSS MB |")
    print("|---|---|")
    n = len(items)
    for frac in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        target = frac * n
        s = min(w_samples, key=lambda x: abs(x[1] - target))
        print(f"| {s[1]} | {s[2]:.1f} |")
    mid = [s[2] for s in w_samples if 0.1 * n <= s[1] <= n]
    if mid:
        statuses = ", ".join(f"{v} {k}" for k, v in sorted(rep.statuses.items()))
        print(f"\nRSS from 10 % to 100 % done: min {min(mid):.1f} MB, max {max(mid):.1f} MB "
              f"(growth {max(mid) - min(mid):.1f} MB over {n} scenarios); {wall:.0f} s, "
              f"{rep.n_run / wall:.2f} scenarios/s; {statuses}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dynamics", choices=["case", "classical", "full"], default="case")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--keep", choices=["all", "none"], default="all",
                    help="[output] keep of the throughput study (none: no trajectories written)")
    args = ap.parse_args()
    from casa_dyn.io import read_case
    from casa_dyn.case import schema

    dyn = None if args.dynamics == "case" else args.dynamics
    if dyn is None:
        c = read_case(str(ROOT / "cases" / "ieee39.h5"))
        if not any(schema.get(t).family == "generator" for t in c.tables):
            dyn = "classical"
    print(f"# casa_dyn batch benchmark\n\n{machine_info()}")
    with tempfile.TemporaryDirectory(prefix="casa-bench-") as d:
        tmp = pathlib.Path(d)
        if not args.skip_throughput:
            part1(tmp, dyn, args.keep)
        if not args.skip_memory:
            part2(tmp, dyn)


if __name__ == "__main__":
    main()
