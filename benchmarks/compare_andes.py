"""Side by side with ANDES: the PSS/E cases ANDES ships, the same fault, the same fixed step.

    python -m venv /tmp/andes-venv && /tmp/andes-venv/bin/pip install andes
    python benchmarks/compare_andes.py [--cases kundur,ieee14,npcc,wecc] [--align] [--json F]

ANDES is GPL, so it is never imported here: ``_andes_run.py`` runs inside ANDES's own virtual
environment (``--andes-python``) as a separate process and hands its trajectories back in an
.npz file.  The case files are read from that installation (``andes/cases/``), never copied
into this repository.

Per case: convert RAW + DYR with ``casa_dyn.io.psse`` in strict mode (no record or model may be
dropped; ANDES's own event records, ``Line 'Toggle' ...``, are taken out of the DYR text for
both tools), a 20 s flat run in casa_dyn (largest speed deviation), then both tools with a
three-phase fault (on 1.0 s, off 1.1 s, shunt reactance 1e-4 pu, ANDES's default) at
half-cycle steps for 20 s.  Both start from the RAW file's solved operating point (ANDES with
``PV.pv2pq = 1``: its generators stop at their reactive limits).  Loads are constant impedance
in both (ANDES's default conversion in TDS, ``PQ.config.p2z = q2z = 1``; casa_dyn's load rows
are set to ``p_z = q_z = 1``).  ANDES steps at ``tstep`` throughout (see ``_andes_run.py``) except
for its two 1e-4 s steps at each event time.

Differences: rotor angles relative to the first machine (the tools' angle references differ by
a constant), speeds and bus voltage magnitudes, on the half-cycle grid (ANDES's samples
interpolated linearly), leaving out the switching instants themselves, where each tool keeps
both sides of the jump.  Wall times: ANDES's ``TDS.exec_time`` (its time loop only, after
loading and initialization), casa_dyn's ``simulate`` call with the JIT cache warm (best of
``--repeat``, after one untimed run).

Variants (``--casa-variant``, ``--andes-variant``, ``--casa-rename``, ``--align`` for all at
once, ``--drop-models`` to leave models out of both) each remove one modelling difference
between the tools, to show what a difference is due to; benchmarks/README.md lists them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's casa_dyn, not an installed copy
T_ON_S, T_OFF_S, T_END_S, X_FAULT_PU = 1.0, 1.1, 20.0, 1e-4


@dataclass(frozen=True)
class CaseSpec:
    name: str
    raw: str          # relative to ANDES's cases folder
    dyr: str          # the DYR set with the full dynamic models
    fault_bus: int    # a well-connected bus without generators (printed with the row)


CASES = (
    CaseSpec("kundur", "kundur/kundur.raw", "kundur/kundur_full.dyr", 8),   # tie-line midpoint
    CaseSpec("ieee14", "ieee14/ieee14.raw", "ieee14/ieee14.dyr", 4),        # load bus, 3 lines
    CaseSpec("npcc", "npcc/npcc.raw", "npcc/npcc_full.dyr", 105),           # 220 kV, 11 branches
    CaseSpec("wecc", "wecc/wecc.raw", "wecc/wecc_full.dyr", 141),           # 500 kV, 8 branches
)
#: ANDES's DYR files may carry its own timed events ("Line 'Toggle' Line_1 1.0 /"): not PSS/E
#: data, and not the event of this comparison, so they are left out for both tools
_ANDES_EVENT = re.compile(r"^\s*[A-Za-z_]\w*\s+'")


def andes_cases_dir(andes_python: str) -> str:
    code = "import andes, os; print(os.path.join(os.path.dirname(andes.__file__), 'cases'))"
    out = subprocess.run([andes_python, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def psse_dyr_only(src: str, dst: str, drop_models: frozenset = frozenset()) -> int:
    """Copy a DYR file without ANDES's event records (and without the records of
    ``drop_models``, for the variants that isolate a difference); returns how many ANDES event
    records were left out.  A record runs to the line holding its closing '/'."""
    with open(src) as f:
        lines = f.readlines()
    keep, n_events, dropping = [], 0, False
    for ln in lines:
        starts = not dropping and ln.strip() and not ln.lstrip().startswith("/")
        if starts and _ANDES_EVENT.match(ln):
            n_events += 1
            continue
        if starts:
            m = re.match(r"^\s*\S+\s+'([^']*)'", ln)
            dropping = bool(m) and m.group(1).strip().upper() in drop_models
        if not dropping:
            keep.append(ln)
        if dropping and "/" in ln:
            dropping = False
    with open(dst, "w") as f:
        f.writelines(keep)
    return n_events


def renamed_models(src: str, dst: str, renames: dict) -> None:
    """Copy a DYR file with model names replaced (``{'EXDC2': 'IEEEX1'}``): a variant for
    casa_dyn only, for models with the same CONs that differ in one modelling choice."""
    with open(src) as f:
        text = f.read()
    for old, new in renames.items():
        text = re.sub(rf"'\s*{re.escape(old)}\s*'", f"'{new}'", text, flags=re.IGNORECASE)
    with open(dst, "w") as f:
        f.write(text)


def convert(raw: str, dyr: str):
    from casa_dyn.io.psse import ConvertOptions, psse_to_case

    case, report = psse_to_case(raw, dyr, ConvertOptions(strict=True))
    for k in ("p_z", "q_z"):
        case.tables["load"][k][:] = 1.0
    for k in ("p_i", "q_i"):
        case.tables["load"][k][:] = 0.0
    return case, report


def q_split_from_raw(case) -> int:
    """Variant: at buses with several units, set symmetric reactive ranges in proportion to
    each unit's RAW QG, so that casa_dyn's power-flow rule (every unit at the same fraction of
    its range) reproduces the RAW file's split; returns the number of units changed."""
    g = case.tables["generator"]
    n = 0
    for b in np.unique(g["bus"]):
        k = np.flatnonzero((g["bus"] == b) & (g["in_service"] == 1))
        qg = g["q_mvar"][k]
        if k.size < 2 or np.any(qg == 0.0) or np.any(np.sign(qg) != np.sign(qg[0])):
            continue
        scale = 1e4 / np.abs(qg).sum()
        g["q_max_mvar"][k] = np.abs(qg) * scale
        g["q_min_mvar"][k] = -np.abs(qg) * scale
        n += k.size
    return n


def ieeeg1_rates_on_system_base(case) -> int:
    """Variant: IEEEG1 valve rate limits Uo, Uc read in pu of the system base, as ANDES does
    (its IEEEG1 converts K, PMAX, PMIN to the system base but not UO, UC), i.e. times
    SBASE / MBASE on casa_dyn's machine base."""
    t, g = case.tables.get("ieeeg1"), case.tables["generator"]
    if t is None:
        return 0
    mbase = dict(zip(g["id"], g["mbase_mva"]))
    f = np.array([float(case.base_mva) / mbase[k] for k in t["gen"]])
    t["u_o_pu_per_s"][:] *= f
    t["u_c_pu_per_s"][:] *= f
    return len(f)


def dc_exciter_zeros_as_andes(case) -> int:
    """Variant: ESDC2A VRMAX = 0 read as 999 and KE = 0 as (nearly) 0, as ANDES does, instead
    of PSS/E's rules (VRMAX = 0: VRMAX = (SE(E2) + KE) E2, VRMIN = -VRMAX; KE = 0: KE set so
    that VR = 10 % of VRMAX at start)."""
    t = case.tables.get("esdc2a")
    if t is None:
        return 0
    n = int(np.count_nonzero((t["vrmax_pu"] == 0.0) | (t["ke"] == 0.0)))
    t["vrmax_pu"][t["vrmax_pu"] == 0.0] = 999.0
    t["ke"][t["ke"] == 0.0] = 1e-6   # 0 means "computed" in casa_dyn; 1e-6 is ANDES's 0
    return n


#: ANDES-side variants: equations of ANDES models replaced by PSS/E's (``_andes_run.py
#: --patch``): the swing equation with the mechanical torque (Pm - D dw)/w instead of ANDES's
#: tm - D dw, and EXDC2's field voltage without ANDES's speed multiplier
SWING_PSSE = "ue * ((tm - D * (omega - 1)) / omega - te)"
ANDES_PATCHES = {"swing": (f"GENROU.omega={SWING_PSSE}", f"GENCLS.omega={SWING_PSSE}"),
                 "exdc2-speed": ("EXDC2.vout=ue * vp - vout",)}
#: casa_dyn reads EXDC2 as IEEEX1: the same block diagram and CONs, regulator limits not
#: scaled by the terminal voltage (as ANDES's EXDC2)
ALIGN_RENAMES = {"EXDC2": "IEEEX1"}
#: casa_dyn-side variants that each take over one ANDES convention (--casa-variant)
CASA_VARIANTS = {"raw-q-split": q_split_from_raw, "ieeeg1-rates": ieeeg1_rates_on_system_base,
                 "esdc2a-zeros": dc_exciter_zeros_as_andes}


def run_casa(case, fault_bus: int | None, dt_s: float, repeat: int):
    from casa_dyn.solver.events import BusFault
    from casa_dyn.solver.options import SimOptions
    from casa_dyn.solver.simulate import simulate

    events = [] if fault_bus is None else [BusFault(fault_bus, T_ON_S, T_OFF_S, x_pu=X_FAULT_PU)]
    opts = SimOptions(t_end_s=T_END_S, dt_s=dt_s, loss_of_sync_deg=0.0)
    best, res = float("inf"), None
    for _ in range(max(repeat, 1)):
        t0 = time.perf_counter()
        res = simulate(case, events, opts)
        best = min(best, time.perf_counter() - t0)
    if res.status != "completed":
        raise RuntimeError(f"casa_dyn run {res.status}: {res.message}")
    return res, best


def run_andes(andes_python: str, raw: str, dyr: str, out: str, fault_bus: int, dt_s: float,
              extra: list[str]) -> dict:
    cmd = [andes_python, os.path.join(HERE, "_andes_run.py"), raw, dyr, out, "--fault-bus",
           str(fault_bus), "--t-on", str(T_ON_S), "--t-off", str(T_OFF_S), "--xf", str(X_FAULT_PU),
           "--t-end", str(T_END_S), "--dt", repr(dt_s), *extra]
    env = dict(os.environ, PYTHONPATH="")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"ANDES run failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return dict(np.load(out, allow_pickle=False))


def _mid(text: str) -> str:
    """Machine ID as text; ANDES keeps a numeric PSS/E ID as a float ('1.0')."""
    text = str(text).strip().strip("'").strip()
    try:
        f = float(text)
        return str(int(f)) if f == int(f) else text
    except ValueError:
        return text.upper()


def machine_keys(case) -> list[str]:
    g = case.tables["generator"]
    return [f"{int(b)}/{_mid(n)}" for b, n in zip(g["bus"], g["name"])]


def compare(case, res, a: dict, dt_s: float) -> dict:
    """Largest differences on the common k * dt grid (switching instants left out)."""
    n = int(round(T_END_S / dt_s))
    grid = np.arange(n + 1) * dt_s
    keep = np.ones(grid.size, dtype=bool)
    for t_sw in (T_ON_S, T_OFF_S):
        keep &= np.abs(grid - t_sw) > 1e-6
    grid = grid[keep]

    def on_grid(t, y):
        t = np.asarray(t)
        # one side of each jump per tool: drop a sample whose time repeats the next one
        ok = np.append(np.diff(t) > 1e-9, True)
        return np.interp(grid, t[ok], y[ok])

    keys = machine_keys(case)
    gid = {k: int(i) for k, i in zip(keys, case.tables["generator"]["id"])}
    a_keys = [f"{str(k).split('/')[0]}/{_mid(str(k).split('/', 1)[1])}" for k in a["gen"]]
    common = [k for k in a_keys if k in gid]
    if not common:
        raise RuntimeError(f"no machine matched between the tools: {a_keys[:5]} vs {keys[:5]}")
    ref = common[0]
    ai = {k: a_keys.index(k) for k in common}
    d_ref_c = on_grid(res.t_s, res.channel(f"gen/{gid[ref]}/delta_deg"))
    d_ref_a = on_grid(a["t"], np.degrees(a["delta_rad"][:, ai[ref]]))
    worst = {"angle_deg": (0.0, "", 0.0), "speed_pu": (0.0, "", 0.0), "vm_pu": (0.0, "", 0.0)}

    def upd(kind, diff, where):
        k = int(np.argmax(np.abs(diff)))
        if abs(diff[k]) > worst[kind][0]:
            worst[kind] = (float(abs(diff[k])), where, float(grid[k]))

    for k in common:
        dc = on_grid(res.t_s, res.channel(f"gen/{gid[k]}/delta_deg")) - d_ref_c
        da = on_grid(a["t"], np.degrees(a["delta_rad"][:, ai[k]])) - d_ref_a
        upd("angle_deg", dc - da, f"gen {k}")
        wc = on_grid(res.t_s, res.channel(f"gen/{gid[k]}/speed_pu"))
        wa = on_grid(a["t"], a["omega_pu"][:, ai[k]])
        upd("speed_pu", wc - wa, f"gen {k}")
    dv0 = 0.0
    for j, b in enumerate(a["bus"]):
        name = f"bus/{int(b)}/vm_pu"
        if name in res.names:
            dv = on_grid(res.t_s, res.channel(name)) - on_grid(a["t"], a["vm_pu"][:, j])
            upd("vm_pu", dv, f"bus {int(b)}")
            dv0 = max(dv0, abs(float(dv[0])))
    worst["initial_dv_pu"] = dv0   # the two power flows
    worst["machines"] = len(common)
    worst["ref"] = ref
    return worst


def flat_run_deviation(case, dt_s: float) -> float:
    res, _ = run_casa(case, None, dt_s, 1)
    _, w = res.select("gen/*/speed_pu")
    return float(np.max(np.abs(w - 1.0)))


def one_case(spec: CaseSpec, cases_dir: str, andes_python: str, repeat: int, work: str,
             andes_extra: list[str], drop_models: frozenset = frozenset(),
             casa_renames: dict | None = None, variants: tuple = (),
             steps_per_cycle: int = 2) -> dict:
    raw = os.path.join(cases_dir, spec.raw)
    dyr = os.path.join(work, f"{spec.name}.dyr")
    n_events = psse_dyr_only(os.path.join(cases_dir, spec.dyr), dyr, drop_models)
    casa_dyr = dyr
    if casa_renames:
        casa_dyr = os.path.join(work, f"{spec.name}_casa.dyr")
        renamed_models(dyr, casa_dyr, casa_renames)
    case, report = convert(raw, casa_dyr)
    for v in variants:
        CASA_VARIANTS[v](case)
    dt_s = 1.0 / (steps_per_cycle * float(case.freq_hz))
    flat = flat_run_deviation(case, dt_s)
    res, casa_s = run_casa(case, spec.fault_bus, dt_s, repeat + 1)  # first run warms the JIT
    a = run_andes(andes_python, raw, dyr, os.path.join(work, f"{spec.name}.npz"),
                  spec.fault_bus, dt_s, andes_extra)
    np.savez(os.path.join(work, f"{spec.name}_casa.npz"), t=res.t_s, data=res.data,
             names=np.array(res.names))
    d = compare(case, res, a, dt_s)
    return {"case": spec.name, "fault_bus": spec.fault_bus, "dt_s": dt_s, "flat_dw_pu": flat,
            "andes_events_left_out": n_events, "notes": report.notes,
            "andes_s": float(a["exec_s"]), "casa_s": casa_s, "ratio": float(a["exec_s"]) / casa_s,
            "andes_version": str(a["andes_version"]), "andes_tol": float(a["tol"]),
            "steps_casa": int(res.counters.get("steps", 0)), **d}


def print_row(r: dict) -> None:
    ang, spd, vm = r["angle_deg"], r["speed_pu"], r["vm_pu"]
    print(f"| {r['case']} | {r['fault_bus']} | {r['machines']} | {r['flat_dw_pu']:.1e} | "
          f"{r['initial_dv_pu']:.1e} | "
          f"{r['andes_s']:.2f} | {r['casa_s']:.3f} | {r['ratio']:.0f} | "
          f"{ang[0]:.3f} ({ang[1]}, {ang[2]:.2f} s) | {spd[0]:.1e} ({spd[1]}, {spd[2]:.2f} s) | "
          f"{vm[0]:.1e} ({vm[1]}, {vm[2]:.2f} s) |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--andes-python", default="/tmp/andes-venv/bin/python")
    ap.add_argument("--cases", default=",".join(c.name for c in CASES))
    ap.add_argument("--repeat", type=int, default=3, help="casa_dyn timed runs (best is kept)")
    ap.add_argument("--json", default=None, help="also write all rows to this file")
    ap.add_argument("--drop-models", default="",
                    help="variant: leave these DYR models out in both tools (e.g. TGOV1,EXDC2)")
    ap.add_argument("--casa-rename", default="",
                    help="variant: read these DYR models as another casa_dyn model with the same "
                    "CONs (e.g. EXDC2=IEEEX1)")
    ap.add_argument("--casa-variant", action="append", default=[], choices=sorted(CASA_VARIANTS),
                    help="variant: casa_dyn takes over one ANDES convention (repeatable)")
    ap.add_argument("--andes-variant", action="append", default=[], choices=sorted(ANDES_PATCHES),
                    help="variant: ANDES takes over one PSS/E convention (repeatable)")
    ap.add_argument("--align", action="store_true",
                    help="all variants at once (every traced difference removed)")
    ap.add_argument("--steps-per-cycle", type=int, default=2,
                    help="step = one cycle / this (2: half a cycle, the comparison's step)")
    ap.add_argument("--keep", default=None, help="save both tools' trajectories in this folder")
    ap.add_argument("--andes-arg", action="append", default=[],
                    help="extra argument for _andes_run.py (e.g. --andes-arg=--step-control=andes)")
    args = ap.parse_args(argv)
    if args.align:
        args.casa_variant = sorted(CASA_VARIANTS)
        args.andes_variant = sorted(ANDES_PATCHES)
        args.casa_rename = ",".join(f"{k}={v}" for k, v in ALIGN_RENAMES.items())
    for v in args.andes_variant:
        args.andes_arg += [f"--patch={p}" for p in ANDES_PATCHES[v]]
    if not os.path.exists(args.andes_python):
        print(f"error: no ANDES python at {args.andes_python}; install it with\n"
              "  python -m venv /tmp/andes-venv && /tmp/andes-venv/bin/pip install andes",
              file=sys.stderr)
        return 1
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = sorted(set(names) - {c.name for c in CASES})
    if unknown:
        print(f"error: unknown case(s) {', '.join(unknown)}; choose from "
              f"{', '.join(c.name for c in CASES)}", file=sys.stderr)
        return 1
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    cases_dir = andes_cases_dir(args.andes_python)
    chosen = [c for c in CASES if c.name in names]
    print(f"ANDES cases: {cases_dir}; load average {os.getloadavg()[0]:.1f}")
    variants = args.casa_variant + args.andes_variant + ([args.casa_rename] if args.casa_rename
                                                          else [])
    print("variants: " + (", ".join(variants) if variants else "none (both tools as shipped)")
          + (f"; models left out: {args.drop_models}" if args.drop_models else ""))
    print("| case | fault bus | machines | flat run max dw (pu) | initial d Vm (pu) | ANDES (s) | "
          "casa_dyn (s) | ratio | max d angle (deg) | max d speed (pu) | max d Vm (pu) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for spec in chosen:
            drop = frozenset(m.strip().upper() for m in args.drop_models.split(",") if m.strip())
            renames = dict(kv.upper().split("=") for kv in args.casa_rename.split(",") if kv)
            r = one_case(spec, cases_dir, args.andes_python, args.repeat, args.keep or work,
                         args.andes_arg, drop, renames, tuple(args.casa_variant),
                         args.steps_per_cycle)
            rows.append(r)
            print_row(r)
    print(f"load average after: {os.getloadavg()[0]:.1f}; ANDES {rows[0]['andes_version']} "
          f"(Newton tol {rows[0]['andes_tol']:g}), step {rows[0]['dt_s']:.6f} s" if rows else "")
    for r in rows:
        for note in r["notes"]:
            print(f"{r['case']}: conversion note: {note[:150]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
