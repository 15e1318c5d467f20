"""HVDC benchmark: the cost of the HVDC models per step and the CIGRE benchmark's wall time.

Prints
* per family (dc_node, dc_branch, lcc) the time of one residual evaluation, with and
  without the Jacobian, and of one discrete update (inside compiled loops), on the CIGRE
  case (2 converters, 5 DC nodes + the virtual zero node, 2 branches) and the
  three-terminal bipole (6 converters);
* the share of the whole system evaluation they take;
* wall time of 10 s of the CIGRE case at 5 ms steps: flat, current-order step, inverter AC
  fault (100 ms), DC line fault (best of N, JIT compiled), with steps / Newton iterations /
  factorizations and the time per step;
* the step-response and recovery numbers quoted in docs/hvdc.md (the current step also at
  1 ms steps and as predicted by the linearized closed loop);
* the first-run time of a fresh process with an empty JIT cache.

    python benchmarks/bench_hvdc.py
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_engine import machine_info  # noqa: E402
from casa_dyn._jit import njit  # noqa: E402
import casa_dyn.models.hvdc.dc_branch as m_branch  # noqa: E402
import casa_dyn.models.hvdc.dc_node as m_node  # noqa: E402
import casa_dyn.models.hvdc.lcc as m_lcc  # noqa: E402
from casa_dyn.io import read_case  # noqa: E402
from casa_dyn.network.powerflow import solve_power_flow  # noqa: E402
from casa_dyn.solver.events import BusFault, DcLineFault, PowerOrderChange  # noqa: E402
from casa_dyn.solver.kernel import eval_system  # noqa: E402
from casa_dyn.solver.layout import build_system  # noqa: E402
from casa_dyn.solver.options import SimOptions  # noqa: E402
from casa_dyn.solver.simulate import simulate  # noqa: E402

DT = 0.005
N_CALLS = 20000


def _per_call(fn, n=N_CALLS):
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


@njit
def _loop_eval(n, t, z, p, col, r, jl, ds, jac, which):
    for _ in range(n):
        if which == 0:
            m_node._eval(t, z, p, col, r, jl, ds, jac)
        elif which == 1:
            m_branch._eval(t, z, p, col, r, jl, ds, jac)
        else:
            m_lcc._eval(t, z, p, col, r, jl, ds, jac)


@njit
def _loop_disc(n, t, z, p, col, ds, which):
    k = 0
    for _ in range(n):
        if which == 0:
            k += m_node._update_discrete(t, z, p, col, ds)
        else:
            k += m_lcc._update_discrete(t, z, p, col, ds)
    return k


@njit
def _loop_system(n, z, net, F, fns, rg, jd):
    for _ in range(n):
        eval_system(0.0, z, net, F, fns, rg, jd, True)


def _timed(fn, n):
    fn(1)
    t0 = time.perf_counter()
    fn(n)
    return (time.perf_counter() - t0) / n * 1e6


def family_costs(label, case):
    """Time per call inside compiled loops (no Python call overhead)."""
    from casa_dyn.models.functions import function_tables

    pf = solve_power_flow(case)
    sysm = build_system(case, pf)
    z = sysm.z0.copy()
    print(f"\n{label}: {sysm.n} variables")
    print("| family | units | eval us | eval+jac us | discrete update us |")
    print("|---|---|---|---|---|")
    tot = 0.0
    for which, name in enumerate(("dc_node", "dc_branch", "lcc")):
        f = sysm.family(name)
        p, col, rowg, r, jl, ds = f.as_tuple()[:6]
        a = _timed(lambda n: _loop_eval(n, 0.0, z, p, col, r, jl, ds, False, which), N_CALLS)
        b = _timed(lambda n: _loop_eval(n, 0.0, z, p, col, r, jl, ds, True, which), N_CALLS)
        tot += b
        if name == "dc_branch":
            c = float("nan")
        else:
            w = 0 if name == "dc_node" else 1
            zz, pp, dd = z.copy(), p.copy(), ds.copy()
            c = _timed(lambda n: _loop_disc(n, 0.0, zz, pp, col, dd, w), N_CALLS)
        print(f"| {name} | {f.n} | {a:.3f} | {b:.3f} | {c:.3f} |")
    net = (sysm.ybus.indptr.astype(np.int64), sysm.ybus.indices.astype(np.int64), sysm.yg, sysm.yb,
           sysm.npos)
    F, fns = sysm.family_tuple(), function_tables()
    rg, jd = np.zeros(sysm.n), np.zeros(sysm.ai.size)
    whole = _timed(lambda n: _loop_system(n, z, net, F, fns, rg, jd), 5000)
    print(f"whole system eval+jac (network, machines, HVDC, scatter): {whole:.2f} us; "
          f"HVDC kernels {tot:.2f} us of it ({100 * tot / whole:.0f} %)")


def cigre_runs(case, repeat=3):
    pf = solve_power_flow(case)
    runs = {
        "flat": [],
        "current order -10 %": [PowerOrderChange(1, 1.0, i_ka=1.8)],
        "inverter AC fault 100 ms": [BusFault(3, 1.0, 1.1)],
        "DC line fault (mid-point)": [DcLineFault(2, 1.0)],
    }
    print("\nCIGRE benchmark, 10 s at 5 ms steps")
    print("| run | steps | iters | facts | step fails | wall s (best) | us/step | x realtime |")
    print("|---|---|---|---|---|---|---|---|")
    out = {}
    for name, ev in runs.items():
        opts = SimOptions(t_end_s=10.0, dt_s=DT)
        simulate(case, ev, SimOptions(t_end_s=1.5, dt_s=DT), pf=pf)  # warm
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = simulate(case, ev, opts, pf=pf)
            best = min(best, time.perf_counter() - t0)
        c = r.counters
        print(f"| {name} | {c['steps']} | {c['newton_iterations']} | {c['factorizations']} | "
              f"{c['step_failures']} | {best:.3f} | {1e6 * best / c['steps']:.1f} | {10.0 / best:.0f} |")
        out[name] = r
    return out


def _step_metrics(t, i, t0):
    """10-90 % rise (ms), overshoot (%) and 2 % settling time (ms) of the 2.0 -> 1.8 kA step."""
    m = t >= t0
    frac = (i[m] - 2.0) / (1.8 - 2.0)
    t10, t90 = t[m][np.argmax(frac >= 0.1)], t[m][np.argmax(frac >= 0.9)]
    bad = np.flatnonzero(np.abs(frac - 1.0) > 0.02)
    return 1e3 * (t90 - t10), 100 * (frac.max() - 1), 1e3 * (t[m][bad[-1]] - t0)


def numbers(case, res):
    r = res["current order -10 %"]
    fine = simulate(case, [PowerOrderChange(1, 1.0, i_ka=1.8)], SimOptions(t_end_s=1.6, dt_s=0.001))
    for label, rr in (("5 ms steps", r), ("1 ms steps", fine)):
        rise, over, settle = _step_metrics(rr.t_s, rr.channel("conv/1/id_ka"), 1.0)
        print(f"\ncurrent-order step 2.0 -> 1.8 kA ({label}): rise 10-90 % {rise:.1f} ms, "
              f"overshoot {over:.1f} %, settling (2 %) {settle:.0f} ms", end="")
    # the small-signal prediction (tests/test_hvdc_smallsignal.py; docs/hvdc.md)
    from test_hvdc_smallsignal import _closed_loop, _step

    a, b, c, d = _closed_loop(case)
    t, y = _step(a, b, c, d, t_end_s=0.6)
    rise, over, settle = _step_metrics(t + 1.0, 2.0 - 0.2 * y / y[-1], 1.0)
    ev = np.linalg.eigvals(a)
    ev = ev[ev.imag > 1.0]
    print(f"\nlinearized closed loop: rise {rise:.1f} ms, overshoot {over:.1f} %, settling {settle:.0f} ms;"
          " oscillatory poles " + ", ".join(f"{e.real:.1f} +- j{e.imag:.1f} (zeta {-e.real / abs(e):.2f})"
                                           for e in sorted(ev, key=lambda e: e.imag)))
    for name, t_clear in (("inverter AC fault 100 ms", 1.1), ("DC line fault (mid-point)", 1.0)):
        r = res[name]
        p = -r.channel("conv/2/p_ac_mw")
        k = np.flatnonzero((r.t_s > t_clear) & (p >= 0.9 * p[0]))
        blk = r.t_s[r.channel("conv/1/blocked") > 0.5]
        print(f"{name}: inverter power back to 90 % of {p[0]:.0f} MW "
              f"{1e3 * (r.t_s[k[0]] - t_clear):.0f} ms after {'clearing' if 'AC' in name else 'the fault'}"
              + (f"; rectifier angle forced {blk[0]:.3f}-{blk[-1]:.3f} s" if len(blk) else ""))


def cold_start():
    code = ("import time; t0 = time.perf_counter(); from casa_dyn.io import read_case;"
            "from casa_dyn.solver.simulate import simulate; from casa_dyn.solver.options import SimOptions;"
            f"simulate(read_case('{ROOT}/cases/cigre_hvdc.h5'), [], SimOptions(t_end_s=1.0, dt_s=0.005));"
            "print(time.perf_counter() - t0)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        def run():
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True)
            return float(out.stdout.split()[-1])

        cold = run()
        warm = run()
    print(f"\nwhole process, CIGRE 1 s: empty JIT cache {cold:.1f} s; cached {warm:.2f} s")


def main():
    from hvdc_cases import three_terminal
    from test_hvdc_dynamics import with_machines

    print(f"casa_dyn HVDC benchmark — {machine_info()}; load average "
          + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    cigre = read_case(str(ROOT / "cases" / "cigre_hvdc.h5"))
    family_costs("CIGRE benchmark (2 converters)", cigre)
    family_costs("three-terminal bipole (6 converters)", with_machines(three_terminal()))
    numbers(cigre, cigre_runs(cigre))
    cold_start()


if __name__ == "__main__":
    main()
