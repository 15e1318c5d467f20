"""AC power-flow benchmark: synthetic grids of 1k, 10k and 100k buses and the reference cases.

Prints one row per (case, LU backend): buses, branches, Newton iterations, wall time of the whole
``solve_power_flow`` call from a flat start (best of N), time per bus and per bus and Newton
iteration (set-up included, so small cases pay a fixed cost per bus); then the sparse-LU
size per bus from KLU's symbolic analysis, which shows how the factorization scales with the
grid; then a machine line (CPU, cores, load average, date).

    python benchmarks/bench_powerflow.py              # synthetic 1k, 10k, 100k + cases/*.h5
    python benchmarks/bench_powerflow.py --sizes 1000 10000 --repeat 3
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

import nbklu  # noqa: E402

from casa_dyn.network.synthetic import synthetic_grid  # noqa: E402
from casa_dyn.io import read_case  # noqa: E402
from casa_dyn.linalg.backend import available_backends  # noqa: E402
from casa_dyn.network._newton import jacobian_pattern  # noqa: E402
from casa_dyn.network.powerflow import PowerFlowOptions, _prepare, solve_power_flow  # noqa: E402
from casa_dyn.network.ybus import build_ybus  # noqa: E402

REFERENCE_CASES = ("wscc9", "kundur2area", "ieee39")


def machine_info() -> str:
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load}, {datetime.datetime.now():%Y-%m-%d %H:%M}")


def lu_size(case) -> tuple[float, float]:
    """KLU (BTF + AMD) symbolic estimate for the power-flow Jacobian: (L+U entries, flops)."""
    pat = jacobian_pattern(build_ybus(case, _prepare(case).br))
    klu = nbklu.KLUSolver(index_bits=32)
    klu.analyze(2 * pat.n, pat.indptr, pat.indices)
    sym = klu.symbolic
    return float(sym.lnz + sym.unz), float(sym.est_flops)


def time_pf(case, backend: str, repeat: int):
    opts = PowerFlowOptions(flat_start=True, backend=backend)
    best, res = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = solve_power_flow(case, opts, raise_on_failure=False)
        best = min(best, time.perf_counter() - t0)
    return res, best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    ap.add_argument("--repeat", type=int, default=5, help="best of N (at least 3 above 50k buses)")
    args = ap.parse_args(argv)

    cases = []
    for n in args.sizes:
        t0 = time.perf_counter()
        case = synthetic_grid(n, seed=0)
        print(f"# built synthetic {n} in {time.perf_counter() - t0:.2f} s", flush=True)
        cases.append((f"synthetic {n // 1000}k" if n % 1000 == 0 else f"synthetic {n}", case))
    for name in REFERENCE_CASES:
        path = ROOT / "cases" / f"{name}.h5"
        if path.exists():
            cases.append((name, read_case(str(path))))
        else:
            print(f"# {path.name} not present, skipped")

    head = (f"{'case':<16} {'backend':<8} {'buses':>7} {'branches':>8} {'iter':>4} "
            f"{'best wall (ms)':>14} {'us/bus':>8} {'us/bus/iter':>11}  status")
    print()
    print("AC power flow, flat start, tolerance 1e-8 pu, reactive limits enforced; best of N")
    print(head)
    print("-" * len(head))
    per_bus = {}
    for name, case in cases:
        nb = case.n("bus")
        repeat = min(args.repeat, 3) if nb > 50_000 else args.repeat
        for backend in available_backends():
            res, best = time_pf(case, backend, repeat)
            per_bus[(name, backend)] = best / nb
            status = "ok" if res.converged else "FAILED: " + res.message
            print(f"{name:<16} {backend:<8} {nb:>7} {case.n('line') + case.n('transformer'):>8} "
                  f"{res.iterations:>4} {best * 1e3:>14.2f} {best / nb * 1e6:>8.2f} "
                  f"{best / nb / max(res.iterations, 1) * 1e6:>11.2f}  "
                  f"{status} (N={repeat})", flush=True)

    print()
    print("sparse LU of the Newton Jacobian (KLU symbolic analysis, BTF + AMD)")
    print(f"{'case':<16} {'unknowns':>9} {'L+U entries/bus':>16} {'flop/bus':>9}")
    for name, case in cases:
        entries, flops = lu_size(case)
        nb = case.n("bus")
        print(f"{name:<16} {2 * nb:>9} {entries / nb:>16.1f} {flops / nb:>9.0f}")

    syn = [name for name, _ in cases if name.startswith("synthetic")]
    if len(syn) >= 2:
        print()
        for backend in available_backends():
            ratios = ", ".join(f"{b}/{a}: {per_bus[(b, backend)] / per_bus[(a, backend)]:.2f}"
                               for a, b in zip(syn, syn[1:]))
            print(f"time per bus, growth between sizes ({backend}): {ratios}")
    print()
    print("machine:", machine_info())
    return 0


if __name__ == "__main__":
    sys.exit(main())
