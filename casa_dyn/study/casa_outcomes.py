"""CASA-1000 study: run the scenario library and reduce every run to the numbers an engineer
reads (docs/casa1000.md).  Regenerate the committed numbers and tables with::

    python -m casa_dyn.study.casa_outcomes            # runs everything (minutes), rewrites
                                                      # docs/casa1000_outcomes.json and the
                                                      # generated blocks of docs/casa1000.md
    python -m casa_dyn.study.casa_outcomes --check    # the same runs; exit 1 if the committed
                                                      # files differ from what they give

What each outcome means (computed from the channels of one run; ``t_c`` is the clearing
instant: the last fault removal, or the event instant without faults,
``casa_dyn.study.metrics.clearing_time``):

* ``stable``: the run completed (Newton converged throughout), no rotor angle went 180 deg
  from its side's centre-of-inertia angle (``angle_<side>_max_deg``; the solver's own test
  compares each machine with its own AC island in the same way, ``casa_dyn.solver.sync``), every
  bus voltage is within 0.9-1.1 pu at the end, and the swings have died down: over the last
  2 s no online machine's speed leaves its side's centre-of-inertia speed by more than
  ``SWING_TOL_PU``.
* ``cf``: commutation failures, counted as rises of the ``conv/<id>/cf`` flag of any
  inverter, and the instant of the first.
* ``p_pre_mw`` / ``p_end_mw``: power delivered by the inverters (sum of ``-conv/<id>/p_ac_mw``)
  before the event and over the last 0.5 s; ``t_rec90_ms``: time after ``t_c`` from which
  that power stays at or above 90 % of ``p_pre_mw`` (``casa_dyn.study.metrics.recovery_time``);
  None when it ends below (a block), ``inf`` when it never gets back.
* Frequencies per AC side: the inertia-weighted mean of the online machines' speeds
  (weights H S_base) of Central Asia (areas 1-3), Pakistan (area 4) and Afghanistan (area 5),
  times the rated frequency: extremes after the event and the mean of the last second.
* ``v_min_pu`` / ``v_min_bus``: the lowest bus voltage from ``t_c`` on (the faulted bus is
  at zero during a bolted fault, so the minimum during the fault says nothing).
* ``rocof_hz_s``: Central Asian frequency change over the first 0.1 s after the event, and the
  inertia estimate ``dP f0 / (2 sum H S)`` for the power lost (bipole block).

The SCR sweep repeats the Nowshera-fault scenario with the NTDC equivalent's impedance set for
short-circuit ratios 2 to 6 (``with_scr``: the source voltage is re-set so that Nowshera keeps
its base-case voltage and power flow).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np

from casa_dyn.study.metrics import _post_index, clearing_time, coi_weights_from_case, recovery_time

#: largest speed deviation from the island's centre of inertia in the last 2 s of a stable run
SWING_TOL_PU = 2e-4
#: a machine this far from its side's centre-of-inertia angle has lost synchronism, deg
LOSS_OF_SYNC_DEG = 180.0
#: areas of the AC sides in the CASA cases (``bus.area``)
SIDES = {"Central Asia": (1, 2, 3), "Pakistan": (4,), "Afghanistan": (5,)}
#: short-circuit ratios of the sweep at Nowshera
SCR_SWEEP = (2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
#: the sweep's scenario and the scenario whose outcome is compared in the fast test
SWEEP_SCENARIO = "nowshera_fault"
RECOVERY_FRACTION = 0.9
#: window of the initial rate of change of frequency, s
ROCOF_WINDOW_S = 0.1
#: lines whose power-flow MW the case facts report (Datka-Sugd, the two CAPS ties)
TIE_LINES = {122101: "Datka-Sugd", 223101: "Regar-CAPS", 113101: "Toktogul-CAPS"}
#: digits kept in the JSON (numbers are rounded before they are stored and compared)
DIGITS = 6


# ------------------------------------------------------------------ reducing one run
def side_of_generators(case) -> dict:
    """{side name: [generator ids]} from the areas of the generators' buses."""
    area = dict(zip(case["bus"]["id"].tolist(), case["bus"]["area"].tolist()))
    out = {}
    for g, b in zip(case["generator"]["id"].tolist(), case["generator"]["bus"].tolist()):
        for side, areas in SIDES.items():
            if area[int(b)] in areas:
                out.setdefault(side, []).append(int(g))
    return out


def side_frequency(res, case, gens, t_trip: dict) -> np.ndarray | None:
    """Inertia-weighted mean frequency (Hz) of ``gens``; a tripped unit leaves the mean."""
    w = coi_weights_from_case(case)
    cols = [(g, res.index(f"gen/{g}/speed_pu")) for g in gens if f"gen/{g}/speed_pu" in res.names]
    if not cols:
        return None
    t = res.t_s
    num = np.zeros(t.size)
    den = np.zeros(t.size)
    for g, k in cols:
        on = t < t_trip.get(g, math.inf)
        num += np.where(on, w.get(g, 1.0) * res.data[:, k], 0.0)
        den += np.where(on, w.get(g, 1.0), 0.0)
    return case.freq_hz * num / den


def side_angle_max_deg(res, case, gens, t_trip: dict) -> float | None:
    """Largest |delta_i - delta_COI| (deg) over time and the side's online machines, the COI
    angle inertia-weighted over that side only (the sides are asynchronous)."""
    w = coi_weights_from_case(case)
    cols = [(g, res.index(f"gen/{g}/delta_deg")) for g in gens if f"gen/{g}/delta_deg" in res.names]
    if len(cols) < 2:
        return None
    t = res.t_s
    on = np.array([[tt < t_trip.get(g, math.inf) for g, _ in cols] for tt in t])
    d = res.data[:, [k for _, k in cols]]
    wa = np.where(on, np.array([w.get(g, 1.0) for g, _ in cols]), 0.0)
    coi = (d * wa).sum(axis=1) / wa.sum(axis=1)
    return float(np.max(np.where(on, np.abs(d - coi[:, None]), 0.0)))


def accelerating_power_mw(res, gens, t_trip: dict, t_ev: float) -> float | None:
    """Mean over ``(t_ev, t_ev + ROCOF_WINDOW_S]`` of the sum of (mechanical - electrical) power
    of the side's online machines: the power that accelerates that side in the window over
    which ``rocof_ca_hz_s`` is measured (trapezoidal mean over the recorded instants)."""
    t = res.t_s
    k0 = _post_index(t, t_ev)
    k1 = int(np.searchsorted(t, t_ev + ROCOF_WINDOW_S, side="right"))
    if t[-1] < t_ev + ROCOF_WINDOW_S or k1 - k0 < 2:
        return None
    acc = np.zeros(k1 - k0)
    for g in gens:
        if f"gen/{g}/pm_mw" in res.names and t_trip.get(g, math.inf) > t_ev:
            acc += (res.channel(f"gen/{g}/pm_mw") - res.channel(f"gen/{g}/pe_mw"))[k0:k1]
    tw = t[k0:k1]
    return float(np.trapezoid(acc, tw) / (tw[-1] - tw[0])) if tw.size > 1 else None


def _trips(events) -> dict:
    return {int(e["gen"]): float(e["t_s"]) for e in events if e.get("type") == "GenTrip"}


def _event_start(events) -> float:
    times = [e[k] for e in events for k in ("t_s", "t_on_s") if e.get(k) is not None]
    return float(min(times)) if times else 0.0


def inverter_power(res, case) -> np.ndarray:
    """Power delivered by all inverters, MW (``-p_ac`` summed)."""
    cv = case["lcc_converter"]
    inv = [int(i) for i, k in zip(cv["id"], cv["kind"]) if k == 2]
    return -sum(res.channel(f"conv/{i}/p_ac_mw") for i in inv)


def swing_ok(res, case, side_gens, t_trip) -> bool:
    """Over the last 2 s, every online machine's speed within SWING_TOL_PU of its side's COI."""
    t = res.t_s
    tail = t >= t[-1] - 2.0
    w = coi_weights_from_case(case)
    for gens in side_gens.values():
        cols = [(g, res.index(f"gen/{g}/speed_pu")) for g in gens
                if f"gen/{g}/speed_pu" in res.names and t_trip.get(g, math.inf) > t[-1]]
        if not cols:
            continue
        ws = np.array([w.get(g, 1.0) for g, _ in cols])
        sp = res.data[np.ix_(tail, [k for _, k in cols])]
        coi = sp @ ws / ws.sum()
        if np.max(np.abs(sp - coi[:, None])) > SWING_TOL_PU:
            return False
    return True


def outcome(case, res) -> dict:
    """The outcome row of one run (definitions in the module docstring); quantities a run that
    stopped early never reached are None."""
    events = res.meta.get("events", [])
    t = np.asarray(res.t_s, dtype=float)
    t_ev, t_c = _event_start(events), clearing_time(events)
    trips = _trips(events)
    pre = t < t_ev
    after = t >= t_ev
    post = (np.arange(t.size) >= _post_index(t, t_c)) & (t >= t_c)   # from the t+ sample
    vm_idx = [k for k, n in enumerate(res.names) if n.startswith("bus/") and n.endswith("/vm_pu")]
    v = res.data[:, vm_idx]
    side_gens = side_of_generators(case)
    row = {"status": res.status, "t_stop_s": float(res.t_stop_s), "v_min_pu": None, "v_min_bus": None,
           "v_end_min_pu": float(v[-1].min()), "v_end_max_pu": float(v[-1].max())}
    if post.any():
        k_min = np.unravel_index(int(np.argmin(v[post])), v[post].shape)
        row["v_min_pu"] = float(v[post][k_min])
        row["v_min_bus"] = int(res.names[vm_idx[k_min[1]]].split("/")[1])
    cf_idx = [k for k, n in enumerate(res.names) if n.startswith("conv/") and n.endswith("/cf")]
    flags = res.data[:, cf_idx] > 0.5
    rises = flags[1:] & ~flags[:-1]
    row["cf_count"] = int(rises.sum())
    row["t_first_cf_s"] = float(t[1:][rises.any(axis=1)][0]) if rises.any() else None
    p = inverter_power(res, case)
    p0 = float(p[pre][-1]) if pre.any() else float(p[0])
    row["p_pre_mw"] = p0
    row["p_end_mw"] = float(p[t >= t[-1] - 0.5].mean())
    row["p_min_mw"] = float(p[after].min()) if after.any() else None
    rec = recovery_time(t, p, RECOVERY_FRACTION * p0, t_c) if post.any() else None
    row["t_rec90_ms"] = (None if rec is None or row["p_end_mw"] < RECOVERY_FRACTION * p0
                         else 1000.0 * rec)
    for side, gens in side_gens.items():
        f = side_frequency(res, case, gens, trips)
        key = {"Central Asia": "ca", "Pakistan": "pk", "Afghanistan": "af"}[side]
        row[f"f_{key}_max_hz"] = float(f[after].max()) if after.any() else None
        row[f"f_{key}_min_hz"] = float(f[after].min()) if after.any() else None
        row[f"f_{key}_end_hz"] = float(f[t >= t[-1] - 1.0].mean())
        row[f"angle_{key}_max_deg"] = side_angle_max_deg(res, case, gens, trips)
        if key == "ca":
            row["dp_ca_mw"] = accelerating_power_mw(res, gens, trips, t_ev)
            win = (t > t_ev) & (t <= t_ev + ROCOF_WINDOW_S)
            row["rocof_ca_hz_s"] = (float((f[win][-1] - f[pre][-1]) / ROCOF_WINDOW_S)
                                    if pre.any() and win.any() and t[win][-1] >= t_ev + 0.999 * ROCOF_WINDOW_S
                                    else None)
    angles_ok = all(v is None or v < LOSS_OF_SYNC_DEG for k, v in row.items()
                    if k.startswith("angle_") and k.endswith("_max_deg"))
    row["stable"] = bool(res.status == "completed" and angles_ok and row["v_end_min_pu"] >= 0.9
                         and row["v_end_max_pu"] <= 1.1 and swing_ok(res, case, side_gens, trips))
    return _rounded(row)


def inertia_rocof_hz_s(case, p_lost_mw: float, side: str = "Central Asia") -> float:
    """Initial rate of change of frequency for a power surplus ``p_lost_mw`` on one side,
    from the swing equation of the aggregated machines: ``dP f0 / (2 sum H S)`` (Kundur 1994,
    sec. 3.9 and 11.1.2)."""
    w = coi_weights_from_case(case)
    e_kin = sum(w.get(g, 0.0) for g in side_of_generators(case)[side])
    return p_lost_mw * case.freq_hz / (2.0 * e_kin)


def governor_gain_mw_per_pu(case, pf, gens) -> float:
    """Steady-state governor response of ``gens``, MW per pu speed deviation: HYGOV
    ``S (At/R + Dturb g0)`` (at steady state the gate moves by -dw/R, and h = 1, q = g, so
    pm = At (g - qNL) - Dturb dw g), TGOV1 ``S/R``; g0 from the power-flow output."""
    mbase = dict(zip(case["generator"]["id"].tolist(), case["generator"]["mbase_mva"].tolist()))
    p0 = dict(zip(case["generator"]["id"].tolist(), pf.gen_p_mw.tolist()))
    gens = set(gens)
    total = 0.0
    if case.has("hygov"):
        h = case["hygov"]
        for k, g in enumerate(h["gen"].tolist()):
            if g in gens:
                g0 = p0[g] / mbase[g] / h["a_t"][k] + h["q_nl_pu"][k]
                total += mbase[g] * (h["a_t"][k] / h["r_pu"][k] + h["d_turb_pu"][k] * g0)
    if case.has("tgov1"):
        tg = case["tgov1"]
        for k, g in enumerate(tg["gen"].tolist()):
            if g in gens:
                total += mbase[g] / tg["r_pu"][k]
    return float(total)


def _rounded(d):
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and math.isfinite(v):
            out[k] = float(f"{v:.{DIGITS}g}") + 0.0   # + 0.0: no "-0"
        elif isinstance(v, float):
            out[k] = "inf" if v > 0 else "-inf" if v < 0 else None
        else:
            out[k] = v
    return out


# ------------------------------------------------------------------ short-circuit ratio
def short_circuit_mva(case, bus_id: int) -> float:
    """Three-phase short-circuit power at a bus from the network (lines, transformers) and every
    machine's subtransient reactance (X''d, or X'd of a classical model), loads and shunts
    excluded (the usual definition of SCR; ESCR would count the filters)."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    from casa_dyn.network.ybus import branches, build_ybus, positions, shunt_admittance

    y = build_ybus(case, branches(case)).tolil()
    y.setdiag(y.diagonal() - shunt_admittance(case))
    base = case.base_mva
    mbase = dict(zip(case["generator"]["id"].tolist(), case["generator"]["mbase_mva"].tolist()))
    gbus = dict(zip(case["generator"]["id"].tolist(), case["generator"]["bus"].tolist()))
    for table, col in (("genrou", "xdpp_pu"), ("gensal", "xdpp_pu"), ("gencls", "xdp_pu")):
        if case.has(table):
            for g, x in zip(case[table]["gen"].tolist(), case[table][col].tolist()):
                k = int(positions(case, [gbus[g]])[0])
                y[k, k] += 1.0 / (1j * x * base / mbase[g])
    k = int(positions(case, [bus_id])[0])
    e = np.zeros(case.n("bus"), dtype=complex)
    e[k] = 1.0
    z = spl.spsolve(sp.csc_matrix(y), e)[k]
    return base / abs(z)


def with_scr(case, scr: float, p_dc_mw: float = 1300.0, line_id: int = 415101,
             gen_id: int = 411, bus_id: int = 410):
    """A copy of ``case`` in which the NTDC equivalent gives short-circuit ratio ``scr`` at
    Nowshera (the Thevenin branch ``line_id`` set to ``base / (scr p_dc)`` minus the machine's
    X''d at the branch's R/X angle) and whose source voltage is re-set so that Nowshera keeps
    the voltage and power flow of the base case."""
    from casa_dyn.network.powerflow import solve_power_flow
    from casa_dyn.network.ybus import positions

    base_pf = solve_power_flow(case)
    out = case.copy()
    ln = out["line"]
    r = int(np.flatnonzero(ln["id"] == line_id)[0])
    g = out["generator"]
    gr = int(np.flatnonzero(g["id"] == gen_id)[0])
    x_m = float(out["genrou"]["xdpp_pu"][out["genrou"]["gen"] == gen_id][0]) * case.base_mva / g["mbase_mva"][gr]
    z_old = complex(ln["r_pu"][r], ln["x_pu"][r])
    ang = np.angle(z_old + 1j * x_m)
    z_new = case.base_mva / (scr * p_dc_mw) * np.exp(1j * ang) - 1j * x_m
    ln["r_pu"][r], ln["x_pu"][r] = z_new.real, z_new.imag
    # the branch's current from the base case, from the Nowshera end towards the source
    kb = int(positions(case, [bus_id])[0])
    v = base_pf.vm_pu[kb] * np.exp(1j * np.radians(base_pf.va_deg[kb]))
    sgn = 1.0 if ln["from_bus"][r] == bus_id else -1.0
    s_out = complex(base_pf.branch_p_from_mw[r], base_pf.branch_q_from_mvar[r]) if sgn > 0 else \
        complex(base_pf.branch_p_to_mw[r], base_pf.branch_q_to_mvar[r])
    i_out = np.conj(s_out / case.base_mva / v)
    e = v - z_new * i_out
    g["vm_set_pu"][gr] = abs(e)
    # start the power flow at the base solution (taps included): on a very weak system the
    # inverter-tap / AC-voltage iteration started from tap 1 need not find its way back
    out["bus"]["vm_pu"][:] = base_pf.vm_pu
    out["bus"]["va_deg"][:] = base_pf.va_deg
    ks = int(positions(out, [g["bus"][gr]])[0])
    out["bus"]["vm_pu"][ks] = abs(e)
    out["bus"]["va_deg"][ks] = np.degrees(np.angle(e))
    out["lcc_converter"]["tap_pu"][:] = base_pf.dc.tap_pu
    out.name = f"{case.name}_scr{scr:g}"
    return out


def case_facts(case) -> dict:
    """Short-circuit ratios at the converter buses and the power flow's key numbers."""
    from casa_dyn.network.powerflow import solve_power_flow

    pf = solve_power_flow(case)
    cv = case["lcc_converter"]
    facts = {"scr": {}}
    for bus in sorted(set(cv["bus"].tolist())):
        rated = float(sum(ir * 500.0 for ir, b in zip(cv["i_rated_ka"], cv["bus"]) if b == bus))
        facts["scr"][int(bus)] = short_circuit_mva(case, int(bus)) / rated
    facts["v_min_pu"] = float(pf.vm_pu.min())
    facts["v_max_pu"] = float(pf.vm_pu.max())
    dc = pf.dc
    facts["converters"] = {
        int(i): {"p_ac_mw": float(p), "q_ac_mvar": float(q), "vd_kv": float(vd), "id_ka": float(i_),
                 "angle_deg": float(a if k == 1 else g), "tap_pu": float(tp)}
        for i, k, p, q, vd, i_, a, g, tp in zip(dc.conv_ids, dc.kind, dc.p_ac_mw, dc.q_ac_mvar,
                                                 dc.vd_kv, dc.id_ka, dc.alpha_deg, dc.gamma_deg,
                                                 dc.tap_pu)}
    ln = case["line"]
    facts["line_mw"] = {int(i): float(pf.branch_p_from_mw[k]) for k, i in enumerate(ln["id"])
                        if int(i) in TIE_LINES}
    return _rounded_nested(facts)


def _rounded_nested(d):
    if isinstance(d, dict):
        return {str(k): _rounded_nested(v) for k, v in d.items()}
    if isinstance(d, float):
        return float(f"{d:.{DIGITS}g}")
    return d


# ------------------------------------------------------------------ running the library
def library(folder: str) -> list:
    """``(name, toml path, Scenario, case path)`` of every ``*.toml`` in ``folder``, sorted; a
    scenario's ``case`` is a path relative to its file."""
    from casa_dyn.io.scenario import read_scenario

    out = []
    for fn in sorted(os.listdir(folder)):
        if fn.endswith(".toml"):
            path = os.path.join(folder, fn)
            sc = read_scenario(path)
            if not sc.case:
                raise ValueError(f"{path}: no 'case' key (a path relative to the file)")
            out.append((fn[:-5], path, sc, os.path.normpath(os.path.join(folder, sc.case))))
    return out


def _sha256(path: str) -> str:
    from casa_dyn.io.doc_files import read_bytes

    return hashlib.sha256(read_bytes(path)).hexdigest()


def run_one(case, scenario) -> dict:
    """Simulate one scenario on ``case`` and reduce it to its outcome row."""
    from casa_dyn.study.single import run_scenario

    res = run_scenario(case, scenario)
    row = outcome(case, res)
    row["wall_s"] = round(float(res.wall_s), 2)   # information only: never compared
    return row


def run_all(folder: str, root: str, progress=print) -> dict:
    """Every scenario of the library, the SCR sweep and the case facts, as one JSON-ready dict.
    ``root``: the repository root, to which stored paths are relative."""
    from casa_dyn.io import read_case

    cases, scen = {}, {}
    loaded = {}
    for name, path, sc, case_path in library(folder):
        if case_path not in loaded:
            loaded[case_path] = read_case(case_path)
            c = loaded[case_path]
            cases[c.name] = {"file": os.path.relpath(case_path, root), "hash": c.content_hash(),
                             "facts": case_facts(c)}
        case = loaded[case_path]
        progress(f"{name}: {sc.purpose}")
        scen[name] = {"file": os.path.relpath(path, root), "toml_sha256": _sha256(path),
                      "case": case.name, "purpose": sc.purpose, "outcome": run_one(case, sc)}
    sweep = []
    name, path, sc, case_path = next(x for x in library(folder) if x[0] == SWEEP_SCENARIO)
    for scr in SCR_SWEEP:
        progress(f"{SWEEP_SCENARIO} at SCR {scr:g}")
        c = with_scr(loaded[case_path], scr)
        sweep.append({"scr": scr, "escr": _rounded({"x": _escr(c, 410, 1300.0)})["x"],
                      "outcome": run_one(c, sc)})
    base = loaded[next(x for x in library(folder) if x[0] == "bipole_block")[3]]
    check = _bipole_check(base, scen["bipole_block"]["outcome"])
    return {"command": "python -m casa_dyn.study.casa_outcomes", "cases": cases,
            "scenarios": scen, "scr_sweep": sweep, "bipole_check": check}


def _escr(case, bus_id: int, p_dc_mw: float) -> float:
    """Effective SCR: short-circuit power less the shunt compensation at the bus, over P_dN."""
    sh = case["shunt"]
    q = float(sh["b_mvar"][(sh["bus"] == bus_id) & (sh["in_service"] == 1)].sum())
    return (short_circuit_mva(case, bus_id) - q) / p_dc_mw


def _bipole_check(case, row: dict) -> dict:
    """Simulated initial RoCoF of the Central Asian side against the swing-equation estimate,
    for the rectifiers' pre-block power and for the surplus the machines actually see."""
    cv = case["lcc_converter"]
    from casa_dyn.network.powerflow import solve_power_flow

    pf = solve_power_flow(case)
    p_rect = float(pf.dc.p_ac_mw[cv["kind"] == 1].sum())
    per_mw = inertia_rocof_hz_s(case, 1.0)
    gain = governor_gain_mw_per_pu(case, pf, side_of_generators(case)["Central Asia"])
    return _rounded({"p_lost_mw": p_rect, "dp_ca_mw": row["dp_ca_mw"],
                     "governor_gain_mw_per_pu": gain, "df_droop_hz": p_rect / gain * case.freq_hz,
                     "rocof_sim_hz_s": row["rocof_ca_hz_s"],
                     "rocof_inertia_hz_s": per_mw * p_rect,
                     "rocof_surplus_hz_s": per_mw * row["dp_ca_mw"],
                     "e_kin_ca_mws": case.freq_hz / (2.0 * per_mw)})


# ------------------------------------------------------------------ rendering (JSON -> markdown)
BLOCKS = ("facts", "outcomes", "scr-sweep", "bipole-check", "readme-nowshera")


def _verdict(o: dict) -> str:
    if o["status"] != "completed":
        return f"**no: {o['status']} at {o['t_stop_s']:.3f} s**"
    return "yes" if o["stable"] else "**no**"


def _n0(v) -> str:
    """A number to the unit, never "-0"."""
    return str(int(round(v)))


def _f(v, fmt="{:.3f}", none="-"):
    if v is None:
        return none
    if v == "inf":
        return "not recovered"
    return fmt.format(v)


def render_facts(data: dict) -> str:
    lines = ["| case | SCR at Sangtuda (250) | SCR at Nowshera (410) | SCR at Kabul (510) | "
             "bus voltages (pu) | " + " | ".join(f"{v} (MW)" for v in TIE_LINES.values()) + " |",
             "|---" * (5 + len(TIE_LINES)) + "|"]
    for name, c in sorted(data["cases"].items()):
        f = c["facts"]
        scr = f["scr"]
        lines.append(f"| `{name}` | {_f(scr.get('250'), '{:.2f}')} | {_f(scr.get('410'), '{:.2f}')} | "
                     f"{_f(scr.get('510'), '{:.2f}')} | {f['v_min_pu']:.3f} - {f['v_max_pu']:.3f} | "
                     + " | ".join(f"{f['line_mw'][str(i)]:.0f}" for i in TIE_LINES) + " |")
    lines += ["", "| case | converter | P at the AC bus (MW) | Q drawn (Mvar) | Vd (kV) | Id (kA) | "
              "alpha or gamma (deg) | tap (pu) |", "|---|---|---|---|---|---|---|---|"]
    for name, c in sorted(data["cases"].items()):
        for cid, v in sorted(c["facts"]["converters"].items(), key=lambda kv: int(kv[0])):
            lines.append(f"| `{name}` | {cid} | {v['p_ac_mw']:.1f} | {v['q_ac_mvar']:.1f} | "
                         f"{v['vd_kv']:.1f} | {v['id_ka']:.4f} | {v['angle_deg']:.2f} | "
                         f"{v['tap_pu']:.5f} |")
    return "\n".join(lines)


def _trio(o, key):
    vals = [o[f"f_{key}_{x}_hz"] for x in ("max", "min", "end")]
    return " / ".join(_f(v) for v in vals)


def _vmin(o):
    return "-" if o["v_min_pu"] is None else f"{o['v_min_pu']:.3f} ({o['v_min_bus']})"


def render_outcomes(data: dict) -> str:
    lines = ["| scenario | stable | commutation failures (first, s) | inverter P before / lowest / "
             "end (MW) | back to 90 % P after clearing (ms) | Central Asia f max / min / end (Hz) | "
             "Pakistan f max / min / end (Hz) | lowest V after clearing (pu, bus) |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in sorted(data["scenarios"].items()):
        o = s["outcome"]
        cf = f"{o['cf_count']} ({o['t_first_cf_s']:.3f})" if o["cf_count"] else "0"
        rec = _f(o["t_rec90_ms"], "{:.0f}", none=f"ends at {_n0(o['p_end_mw'])} MW")
        pmin = "-" if o["p_min_mw"] is None else _n0(o["p_min_mw"])
        lines.append(f"| [`{name}`]({os.path.relpath(s['file'], 'docs')}) | {_verdict(o)} | {cf} | "
                     f"{_n0(o['p_pre_mw'])} / {pmin} / {_n0(o['p_end_mw'])} | {rec} | "
                     f"{_trio(o, 'ca')} | {_trio(o, 'pk')} | {_vmin(o)} |")
    lines += ["", "Purposes (first line of each scenario file):", ""]
    lines += [f"- `{name}`: {s['purpose']}" for name, s in sorted(data["scenarios"].items())]
    return "\n".join(lines)


def render_sweep(data: dict) -> str:
    lines = ["| SCR at Nowshera | ESCR | stable | commutation failures | lowest inverter P (MW) | "
             "back to 90 % P after clearing (ms) | lowest V after clearing (pu, bus) | "
             "Pakistan f min (Hz) |", "|---|---|---|---|---|---|---|---|"]
    for r in data["scr_sweep"]:
        o = r["outcome"]
        pmin = "-" if o["p_min_mw"] is None else _n0(o["p_min_mw"])
        lines.append(f"| {r['scr']:g} | {r['escr']:.2f} | {_verdict(o)} | {o['cf_count']} | {pmin} | "
                     f"{_f(o['t_rec90_ms'], '{:.0f}', none='not recovered')} | {_vmin(o)} | "
                     f"{_f(o['f_pk_min_hz'])} |")
    return "\n".join(lines)


def render_bipole(data: dict) -> str:
    b = data["bipole_check"]
    o = data["scenarios"]["bipole_block"]["outcome"]
    ratio = b["rocof_sim_hz_s"] / b["rocof_surplus_hz_s"]
    return (f"Bipole block: the rectifiers drew {_n0(b['p_lost_mw'])} MW before the block. "
            f"The Central Asian machines hold {b['e_kin_ca_mws'] / 1000:.1f} GW s of kinetic "
            f"energy (sum of H S), so the swing equation, dP f0 / (2 sum H S), gives "
            f"{b['rocof_inertia_hz_s']:.3f} Hz/s for {_n0(b['p_lost_mw'])} MW. Over the first "
            f"{1000 * ROCOF_WINDOW_S:.0f} ms the machines' electrical output is on average "
            f"{_n0(b['dp_ca_mw'])} MW below their mechanical power, not {_n0(b['p_lost_mw'])}: the "
            f"converters' reactive demand is gone, the voltages rise and the constant-impedance "
            f"loads take the rest. For that surplus the estimate is "
            f"{b['rocof_surplus_hz_s']:.3f} Hz/s; the simulation gives "
            f"{b['rocof_sim_hz_s']:.3f} Hz/s ({100 * ratio:.0f} % of it). The frequency peaks at {o['f_ca_max_hz']:.3f} Hz and "
            f"settles at {o['f_ca_end_hz']:.3f} Hz under governor action (the droop estimate, "
            f"{_n0(b['p_lost_mw'])} MW over the governors' steady-state gain, is "
            f"{b['df_droop_hz']:.3f} Hz).")


def render_readme(data: dict) -> str:
    """What an engineer reads from the main job's figure (README), with its numbers."""
    o = data["scenarios"][SWEEP_SCENARIO]["outcome"]
    cf = (f"commutation fails at {o['t_first_cf_s']:.3f} s (flag `cf`; {o['cf_count']} "
          f"failure(s) counted over the two poles)" if o["cf_count"] else
          "no commutation failure is flagged")
    rec = ("does not get back to 90 %" if o["t_rec90_ms"] in (None, "inf") else
           f"is back at 90 % of its pre-fault {_n0(o['p_pre_mw'])} MW {o['t_rec90_ms']:.0f} ms "
           f"after clearing")
    return (f"What the figure shows: the bolted fault at 1.0 s takes the Nowshera voltage to "
            f"zero; {cf}, and the power the inverters deliver drops to {_n0(o['p_min_mw'])} MW "
            f"while the rectifiers at Sangtuda, pushed to a large firing angle, stop drawing "
            f"power too. After clearing at 1.1 s the voltage-dependent current limit (VDCOL) lets "
            f"the current back as the DC voltage recovers, and the delivered power {rec}. "
            f"Frequency on each side (the inertia-weighted means of each side's machines; the "
            f"figure shows the two equivalents' speeds): the Central Asian machines, suddenly "
            f"unloaded, speed up to {o['f_ca_max_hz']:.3f} Hz and swing back; in Pakistan the "
            f"fault first unloads the machines as well ({o['f_pk_max_hz']:.3f} Hz), then the "
            f"missing infeed pulls the frequency to {o['f_pk_min_hz']:.3f} Hz. At 10 s the two "
            f"sides are at {o['f_ca_end_hz']:.3f} and {o['f_pk_end_hz']:.3f} Hz. Every "
            f"scenario's numbers: [docs/casa1000.md](docs/casa1000.md).")


def render_blocks(data: dict) -> dict:
    return {"facts": render_facts(data), "outcomes": render_outcomes(data),
            "scr-sweep": render_sweep(data), "bipole-check": render_bipole(data)}


def _markers(name):
    return (f"<!-- BEGIN GENERATED {name} (python -m casa_dyn.study.casa_outcomes; do not edit) -->",
            f"<!-- END GENERATED {name} -->")


def replace_blocks(text: str, blocks: dict) -> str:
    """``text`` with the content between each block's markers replaced."""
    for name, body in blocks.items():
        begin, end = _markers(name)
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            raise ValueError(f"the document has no '{begin}' ... '{end}' block")
        text = text[: i + len(begin)] + "\n" + body + "\n" + text[j:]
    return text


def extract_blocks(text: str) -> dict:
    out = {}
    for name in BLOCKS:
        begin, end = _markers(name)
        i, j = text.find(begin), text.find(end)
        out[name] = None if i < 0 or j < i else text[i + len(begin): j].strip("\n")
    return out


def comparable(data: dict) -> dict:
    """The stored numbers without run times (which differ from run to run)."""
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k != "wall_s"}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


# ------------------------------------------------------------------ command
def main(argv=None) -> int:
    from casa_dyn.io.doc_files import dumps_json, read_json, read_text, write_json, write_text

    ap = argparse.ArgumentParser(prog="python -m casa_dyn.study.casa_outcomes",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default="cases/scenarios", help="scenario folder")
    ap.add_argument("--doc", default="docs/casa1000.md", help="document with generated blocks")
    ap.add_argument("--json", dest="json_path", default="docs/casa1000_outcomes.json",
                    help="stored numbers")
    ap.add_argument("--readme", default="README.md", help="README with the main job's block")
    ap.add_argument("--check", action="store_true",
                    help="run, compare with the committed files, write nothing; exit 1 if they differ")
    ap.add_argument("--render-only", action="store_true",
                    help="re-render the document from the stored numbers without running")
    a = ap.parse_args(argv)
    data = read_json(a.json_path) if a.render_only else run_all(a.scenarios, os.getcwd())
    doc, readme = read_text(a.doc), read_text(a.readme)
    new_doc = replace_blocks(doc, render_blocks(data))
    new_readme = replace_blocks(readme, {"readme-nowshera": render_readme(data)})
    if a.check:
        old = read_json(a.json_path)
        same_json = dumps_json(comparable(old)) == dumps_json(comparable(data))
        same_doc = new_doc == doc and new_readme == readme
        print(f"numbers {'match' if same_json else 'DIFFER'}; documents {'match' if same_doc else 'DIFFER'}")
        return 0 if same_json and same_doc else 1
    if not a.render_only:
        write_json(a.json_path, data)
    write_text(a.doc, new_doc)
    write_text(a.readme, new_readme)
    print(f"wrote {a.doc}, {a.readme}" + ("" if a.render_only else f" and {a.json_path}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
