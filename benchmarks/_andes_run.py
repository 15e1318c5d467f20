"""Run one ANDES time-domain simulation and save the trajectories to an .npz file.

Executed by the python of a separate ANDES virtual environment (ANDES is GPL; casa_dyn never
imports it), started by ``compare_andes.py``; not part of the casa_dyn package.  Uses ANDES's
API (``andes.load``, ``System.add``, ``PFlow.run``, ``TDS.init``/``TDS.run``, for the variants
``System.prepare`` on a private copy of the generated code) and, for the fixed step, replaces
one step-size function at run time (``_strictly_fixed_step``); ANDES's files are not changed.

    python _andes_run.py CASE.raw CASE.dyr OUT.npz --fault-bus 7 --t-end 20 --dt 0.008333

Config keys (from the config table in ANDES's ``routines/tds.py``): ``tstep`` the step,
``fixt = 1`` a fixed step, ``shrinkt = 0`` no step shrinking on non-convergence, ``tf`` the end
time; ``PV.pv2pq = 1`` reactive limits in the power flow.  The fault is ANDES's ``Fault`` model
(shunt 1/(rf + j xf) at the bus between ``tf`` and ``tc``).  Loads keep ANDES's default TDS
conversion, constant impedance (``PQ.config.p2z = q2z = 1``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _parse(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("dyr")
    ap.add_argument("out")
    ap.add_argument("--fault-bus", type=int, default=None, help="no fault when omitted (flat run)")
    ap.add_argument("--t-on", type=float, default=1.0)
    ap.add_argument("--t-off", type=float, default=1.1)
    ap.add_argument("--xf", type=float, default=1e-4, help="fault reactance, pu system base")
    ap.add_argument("--t-end", type=float, default=20.0)
    ap.add_argument("--dt", type=float, required=True)
    ap.add_argument("--tol", type=float, default=None,
                    help="ANDES Newton tolerance (default: ANDES's)")
    ap.add_argument("--step-control", default="fixed", choices=("fixed", "andes"),
                    help="fixed: every step is --dt but ANDES's 1e-4 s steps at event times "
                    "(see _strictly_fixed_step); andes: ANDES's own fixt = 1 behaviour, which "
                    "also shortens steps after Newton solves of 7+ iterations")
    ap.add_argument("--patch", action="append", default=[], metavar="MODEL.VAR=EXPR",
                    help="variant: replace one equation of an ANDES model (its e_str) and "
                    "regenerate that model's code in a private copy of ANDES's pycode")
    return ap.parse_args(argv)


def _machine_arrays(ss):
    """Rotor angle (rad) and speed (pu) of every synchronous machine, keyed 'BUS/ID'."""
    names, delta_cols, omega_cols, tm_cols, vf_cols = [], [], [], [], []
    for model_name in ("GENROU", "GENCLS", "GENSAL"):
        model = getattr(ss, model_name, None)
        if model is None or model.n == 0:
            continue
        for k in range(model.n):
            if model.u.v[k] == 0:
                continue
            gen_idx = model.gen.v[k]
            bus = ss.StaticGen.get(src="bus", idx=gen_idx, attr="v")
            sub = ss.StaticGen.get(src="subidx", idx=gen_idx, attr="v")
            names.append(f"{int(bus)}/{str(sub).strip() if sub is not None else '1'}")
            delta_cols.append(model.delta.a[k])
            omega_cols.append(model.omega.a[k])
            tm_cols.append(model.tm.a[k])
            vf_cols.append(model.vf.a[k])
    as_int = [np.array(c, dtype=int) for c in (delta_cols, omega_cols, tm_cols, vf_cols)]
    return (names, *as_int)


def _patched_pycode(patches: list[str]) -> tuple[str, dict]:
    """A private copy of ANDES's generated code (so the user's ~/.andes stays untouched) and
    the parsed patches {model: {var: expr}}."""
    import atexit
    import os
    import shutil
    import tempfile

    src = os.path.join(os.path.expanduser("~"), ".andes", "pycode")
    tmp = tempfile.mkdtemp(prefix="andes_pycode_")
    atexit.register(shutil.rmtree, tmp, True)
    dst = os.path.join(tmp, "pycode")
    shutil.copytree(src, dst)
    out: dict = {}
    for p in patches:
        lhs, expr = p.split("=", 1)
        model, var = lhs.split(".")
        out.setdefault(model, {})[var] = expr
    return dst, out


def _strictly_fixed_step() -> None:
    """Keep every ANDES step at ``tstep``.  With ``fixt = 1, shrinkt = 0`` ANDES still scales
    the next step by the Newton iteration count of the last one (x0.5 at 15+ iterations, x0.95
    at 7-14, x1.1 below, capped at ``tstep``: ``ImplicitIter.niter_next_h``), so after an event
    it runs for a while at half a step and less.  Here the next step is always the cap.
    ANDES's two extra steps of 1e-4 s at each event time +-1e-4 s
    (``System.store_switch_times(eps=1e-4)``) are kept: they are how ANDES finds the algebraic
    variables just after a switching (without them its first step after the fault fails to
    converge), and they shift its grid by 1e-4 s until the next event."""
    from andes.routines import daeint

    daeint.ImplicitIter.niter_next_h = staticmethod(lambda niter, h, h_min, h_max: h_max)


def main(argv=None) -> int:
    args = _parse(argv)
    import andes  # noqa: PLC0415  (only inside the ANDES venv)

    andes.config_logger(stream_level=40)
    t_load = time.perf_counter()
    extra = {}
    if args.patch:
        pycode, patches = _patched_pycode(args.patch)
        extra["pycode_path"] = pycode
    # PV.pv2pq: generators stop at their reactive limits in the power flow (off by default in
    # ANDES), so that ANDES starts from the RAW file's solved operating point as casa_dyn does
    ss = andes.load(args.raw, addfile=args.dyr, setup=False, no_output=True,
                    default_config=True, config_option=["PV.pv2pq=1"], **extra)
    if args.patch:
        for model, eqs in patches.items():
            for var, expr in eqs.items():
                getattr(getattr(ss, model), var).e_str = expr
        ss.prepare(models=list(patches), quick=True, nomp=True)
    if args.fault_bus is not None:
        ss.add("Fault", {"bus": args.fault_bus, "tf": args.t_on, "tc": args.t_off,
                         "xf": args.xf, "rf": 0.0})
    ss.setup()
    if ss.Toggle.n:   # compare_andes.py takes ANDES's event records out of the DYR text
        print(json.dumps({"error": "the DYR file holds ANDES Toggle records; remove them"}))
        return 1
    if (ss.PQ.config.p2z, ss.PQ.config.q2z) != (1.0, 1.0):
        print(json.dumps({"error": "expected ANDES's default constant-impedance loads in TDS"}))
        return 1
    if not ss.PFlow.run():
        print(json.dumps({"error": "ANDES power flow did not converge"}))
        return 1
    cfg = ss.TDS.config
    cfg.tf, cfg.tstep, cfg.fixt, cfg.shrinkt = args.t_end, args.dt, 1, 0
    cfg.no_tqdm, cfg.criteria = 1, 0
    if args.tol is not None:
        cfg.tol = args.tol
    ss.TDS.init()
    if args.step_control == "fixed":
        _strictly_fixed_step()
    load_s = time.perf_counter() - t_load
    ok = ss.TDS.run(no_summary=True)
    ts = ss.dae.ts
    t = np.asarray(ts.t, dtype=float)
    names, dcols, wcols, tmcols, vfcols = _machine_arrays(ss)
    x = np.asarray(ts.x)
    y = np.asarray(ts.y)
    bus_ids = np.array([int(b) for b in ss.Bus.idx.v])
    np.savez(args.out, t=t, gen=np.array(names), delta_rad=x[:, dcols], omega_pu=x[:, wcols],
             bus=bus_ids, vm_pu=y[:, ss.Bus.v.a], pm_mw=y[:, tmcols] * float(ss.config.mva),
             efd_pu=y[:, vfcols], exec_s=float(ss.TDS.exec_time),
             load_s=load_s, ok=bool(ok), andes_version=andes.__version__,
             tol=float(cfg.tol), steps=np.unique(np.round(np.diff(t), 9)))
    print(json.dumps({"ok": bool(ok), "exec_s": float(ss.TDS.exec_time), "steps": int(t.size),
                      "load_s": load_s}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
