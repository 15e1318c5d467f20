"""Time-domain engine benchmark: 20 s simulated at half-cycle steps.

Prints one table row per case: variables, Jacobian non-zeros, steps, Newton iterations,
factorizations, warm wall time (best of N, JIT compiled), time per step, real-time factor;
and the first-run time of a fresh process with an empty JIT cache.

    python benchmarks/bench_engine.py            # reference cases + synthetic 1k and 10k
    python benchmarks/bench_engine.py --quick    # reference cases + synthetic 1k
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casa_dyn.network.synthetic import synthetic_grid  # noqa: E402
from casa_dyn.case.typical import add_typical_dynamics  # noqa: E402
from casa_dyn.io import read_case  # noqa: E402
from casa_dyn.network.powerflow import solve_power_flow  # noqa: E402
from casa_dyn.solver.events import BusFault  # noqa: E402
from casa_dyn.solver.layout import build_system  # noqa: E402
from casa_dyn.solver.options import SimOptions  # noqa: E402
from casa_dyn.solver.simulate import simulate  # noqa: E402

T_END_S = 20.0


def machine_info() -> str:
    cpu = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.date.today()}"


def fault_at_middle_bus(case):
    bus = int(case["bus"]["id"][len(case["bus"]["id"]) // 2])
    return [BusFault(bus, 1.0, 1.1, 0.0, 0.01)]


def bench(name, case, repeat=3, preset=None):
    if preset:
        case = add_typical_dynamics(case, preset)
    pf = solve_power_flow(case)
    sysm = build_system(case, pf)
    ev = fault_at_middle_bus(case)
    opts = SimOptions(t_end_s=T_END_S, channels=("gen/*/speed_pu", "bus/*/vm_pu"), loss_of_sync_deg=0.0)
    simulate(case, ev, SimOptions(t_end_s=1.2), pf=pf)  # compile / warm
    best, res = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = simulate(case, ev, opts, pf=pf, system=build_system(case, pf))
        best = min(best, time.perf_counter() - t0)
    c = res.counters
    print(f"| {name:<22} | {sysm.n:>7} | {sysm.ai.size:>8} | {c['steps']:>5} | {c['newton_iterations']:>6} | "
          f"{c['factorizations']:>5} | {best:>8.3f} | {1e6 * best / c['steps']:>9.1f} | "
          f"{T_END_S / best:>8.1f} | {res.status} |", flush=True)


def cold_start() -> float:
    """Wall time of a fresh process (empty JIT cache) running wscc9 for 1 s."""
    code = ("import time; t0 = time.perf_counter(); from casa_dyn.io import read_case;"
            "from casa_dyn.solver.simulate import simulate; from casa_dyn.solver.options import SimOptions;"
            f"simulate(read_case('{ROOT}/cases/wscc9.h5'), [], SimOptions(t_end_s=1.0));"
            "print(time.perf_counter() - t0)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        cold = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()[-1])
        warm = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()[-1])
    return cold, warm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"casa_dyn engine benchmark — {machine_info()}")
    print(f"20 s simulated, half-cycle steps, fault 1.0–1.1 s at a middle bus (0.01 pu reactance)\n")
    print("| case                   | vars    | jac nnz  | steps | iters  | facts | wall s   | us/step   | x realtime | status |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ("wscc9", "kundur2area", "ieee39"):
        path = ROOT / "cases" / f"{name}.h5"
        if path.exists():
            bench(name, read_case(str(path)))
    sizes = (1000,) if args.quick else (1000, 10000)
    for n in sizes:
        bench(f"synthetic {n} (classical)", synthetic_grid(n, seed=1), repeat=1 if n > 1000 else 3,
              preset="classical")
        bench(f"synthetic {n} (full)", synthetic_grid(n, seed=1), repeat=1 if n > 1000 else 3, preset="full")
    cold, warm = cold_start()
    print(f"\nwhole process, wscc9 1 s: empty JIT cache {cold:.1f} s; cached {warm:.2f} s")


if __name__ == "__main__":
    main()
