"""Small-signal analysis benchmark: full eigen-analysis (dense QR) of ieee39 and a 1k-bus
synthetic case, band search (0.1-2.5 Hz, damping within +-0.3) of a 10k-bus synthetic case.

Prints one row per case: variables, states, method, eigenvalues found, modes in the band,
shift-invert runs, and wall times of the power flow + system build, the linearization (DAE
Jacobian and, for the dense method, the state matrix is part of "eigen"), and the eigen-analysis.

    python benchmarks/bench_modes.py            # ieee39, synthetic 1k, synthetic 10k
    python benchmarks/bench_modes.py --quick    # ieee39, synthetic 1k
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casa_dyn.network.synthetic import synthetic_grid  # noqa: E402
from casa_dyn.case.typical import add_typical_dynamics  # noqa: E402
from casa_dyn.io import read_case  # noqa: E402
from casa_dyn.network.powerflow import solve_power_flow  # noqa: E402
from casa_dyn.solver.layout import build_system  # noqa: E402
from casa_dyn.study.modes import ModeOptions, analyze_modes  # noqa: E402


def machine_info() -> str:
    cpu = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.date.today()}, "
            f"load average {load:.1f}, OPENBLAS_NUM_THREADS={blas}")


def bench(name, models, case, method):
    t0 = time.perf_counter()
    sysm = build_system(case, solve_power_flow(case))
    t_build = time.perf_counter() - t0
    res = analyze_modes(case, ModeOptions(method=method), system=sysm)
    s = res.summary()
    print(f"| {name:<18} | {models:<22} | {sysm.n:>7} | {s['n_states']:>6} | {res.method:<5} | "
          f"{s['n_eigenvalues']:>6} | {s['n_in_band']:>5} | {s['n_shifts']:>6} | {s['zeta_searched']:>6.3f} | "
          f"{t_build:>7.3f} | {res.timing_s['linearize']:>9.3f} | {res.timing_s['eigen']:>8.2f} |", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 10k-bus band search")
    args = ap.parse_args()
    print(f"casa_dyn modal analysis benchmark -- {machine_info()}\n")
    print("| case               | models                 | vars    | states | meth. | eigval | band  | shifts | zeta   | build s | lineariz s | eigen s |")
    print("|--------------------|------------------------|---------|--------|-------|--------|-------|--------|--------|---------|-----------|---------|")
    # warm the JIT (the linearization calls the compiled residual/Jacobian kernels)
    analyze_modes(read_case(str(ROOT / "cases" / "wscc9.h5")))
    bench("ieee39", "genrou+esst1a+ieeest", read_case(str(ROOT / "cases" / "ieee39.h5")), "dense")
    runs = [(1000, "classical", "dense"), (1000, "full", "dense")]
    if not args.quick:  # the classical 10k case has ~3000 states: dense QR is feasible too
        runs += [(10000, "classical", "band"), (10000, "classical", "dense"), (10000, "full", "band")]
    grids = {}
    for n, preset, method in runs:
        grid = grids.setdefault(n, synthetic_grid(n, seed=0))
        models = {"classical": "gencls", "full": "genrou+sexs+tgov1"}[preset]
        bench(f"synthetic{n}", models, add_typical_dynamics(grid, preset), method)


if __name__ == "__main__":
    main()
