"""The README's main job as a user runs it: whole ``casa-dyn run`` processes.

Runs the Nowshera-fault scenario on the shipped CASA-1000 case (10 s simulated) in fresh
processes: once with an empty JIT cache (the first run after installing: compiles the kernels
the case uses) and then N times with the cache warm.  Wall time of the whole process, from
start to exit, as a user sees it.

    python benchmarks/bench_main_job.py [--repeat 7] [--skip-cold]
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_engine import machine_info  # noqa: E402

CMD = ["-m", "casa_dyn.cli", "run", "cases/casa1000.h5", "--scenario",
       "cases/scenarios/nowshera_fault.toml"]


def one_run(cache_dir: str, out: str) -> float:
    env = {**os.environ, "CASA_DYN_CACHE_DIR": cache_dir}
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # an installed package has its .pyc files
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *CMD, "-o", out], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"the run failed:\n{p.stderr}")
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--skip-cold", action="store_true")
    a = ap.parse_args()
    print(f"{machine_info()}; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"load average at start {os.getloadavg()[0]:.2f}\n")
    with tempfile.TemporaryDirectory(prefix="casa-main-") as d:
        out = str(pathlib.Path(d) / "nowshera_fault.h5")
        cache = str(pathlib.Path(d) / "jit")
        cold = None if a.skip_cold else one_run(cache, out)
        if a.skip_cold:
            one_run(cache, out)   # fill the cache, untimed
        warm = [one_run(cache, out) for _ in range(a.repeat)]
    print("| run | processes | wall s (whole process) |")
    print("|---|---|---|")
    if cold is not None:
        print(f"| cold: empty JIT cache (compiles the kernels) | 1 | {cold:.1f} |")
    print(f"| warm: JIT cache filled | {len(warm)} | median {statistics.median(warm):.2f}, "
          f"min {min(warm):.2f}, max {max(warm):.2f} |")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
