"""CASA-1000 small-signal study: the electromechanical modes of ``cases/casa1000.h5``, named by
the machines that swing against each other, without and with an HVDC power-oscillation
damping control (POD, ``casa_dyn.models.hvdc.pod``) on the Sangtuda rectifiers.

    python -m casa_dyn.study.casa_modes           # rewrites the "modes" block of docs/casa1000.md
    python -m casa_dyn.study.casa_modes --check   # exit 1 if the committed block differs

What the table shows (all from ``casa_dyn.study.modes.analyze_modes``, dense QR):

* **Which modes.** Oscillatory modes in 0.1-2.5 Hz whose rotor states (angle and speed of the
  machines) carry at least ``ROTOR_SHARE`` of the mode's participation (sum of |p_ki|).  Modes
  of identical units that coincide (their eigenvalues equal to 1e-6 relative) are one row,
  with their number.
* **Naming.** Each machine's entry of the speed mode shape is weighted by its inertia
  ``2 H S`` (MW s): in an electromechanical mode the swinging momenta balance, so the weighted
  shape shows which *groups* move against which, however large or small each group is (a
  large equivalent barely moves but carries as much momentum as the plants it swings
  against).  Summed per plant (``plant_of``: the generator name before " G<n>") and per side
  of the system (``SIDES``: Kyrgyz, Tajik, CAPS, Pakistan):
  - *intra-plant*: every plant's momentum is small against its units' own (``COHERENT`` =
    0.5): units of one plant against each other;
  - *local (inter-plant)*: the sides' momenta are small against their plants' (same test):
    plants of one side against each other;
  - *inter-area*: sides against sides;
  - *frequency*: the involved groups all in phase (the system's common motion, set by the
    governors).
  A group is involved when its momentum is at least ``INVOLVED`` of the largest; the largest
  is the 0 deg reference and the others are split by phase (within 90 deg: with it).
* **With the POD.** The same case with a ``POD`` row on each of ``POD_CONVERTERS``, added in
  memory (``with_pod``); each mode is matched to the POD case's eigenvalue nearest to it, in
  eigenvalue and in speed mode shape (``match``).  The summary line covers every eigenvalue,
  not only the table's.

The POD settings (``POD``) and why: target the least-damped inter-area mode, the Tajik
plants against the CAPS equivalent (0.87 Hz, zeta 0.16 without the POD).

* Input: speed of Nurek unit 1 (the largest Tajik plant, 0.93 of the mode shape) minus the
  CAPS equivalent's: the two ends of the target mode, and nearly blind to the Toktogul mode
  (residue 140 times smaller) so that it does not act on it.
* Output: both poles' rectifiers at Sangtuda, at the sending end of the oscillating power;
  drawing more DC power while the Tajik machines run ahead brakes them, so a positive gain
  damps (the residue of the open loop, ``residue``, is at -172 deg: nearly a pure braking
  torque).
* Phase: for a pure leftward shift of the eigenvalue, ``arg(H(lambda) R) = 180 deg``; with a
  0.05 s filter for measuring and sending the two remote speeds (wide-area signals; assumed
  typical latency) and the 10 s washout, one lead-lag 0.20/0.16 s gives the remaining +7 deg
  (``tests/test_casa_modes.py`` checks the compensated angle is within 15 deg of 180).
* Gain 20,000 MW per pu of speed difference per pole (400 MW per Hz; residue 2.0e-5 pu/MW
  for both poles together): raises the target's damping ratio from 0.16 to 0.25, that of the
  other inter-area mode (Toktogul, 0.25), which the POD barely sees.  A higher gain would
  not raise the least damping ratio of the system any further, only the modulation for a
  given swing; no other mode loses more than 0.003 of damping ratio (the table).
* Limit +-50 MW per pole (7.7 % of 650 MW): below the current margin (0.1 x 1.3 kA at
  ~500 kV = 65 MW), so that the rectifier's order never drops below the inverter's margin
  order and the inverter keeps extinction-angle control while modulating.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

#: the case and the document (relative to the repository root)
CASE_FILE = os.path.join("cases", "casa1000.h5")
DOC_FILE = os.path.join("docs", "casa1000.md")
BEGIN = "<!-- BEGIN GENERATED modes (python -m casa_dyn.study.casa_modes; do not edit) -->"
END = "<!-- END GENERATED modes -->"

#: reported band, Hz
BAND_HZ = (0.1, 2.5)
#: a mode is electromechanical when rotor angle and speed states carry this share of |p|
ROTOR_SHARE = 0.3
#: a group whose momentum is at least this fraction of the largest group's is involved
INVOLVED = 0.1
#: a plant (side) moves as one when its momentum is at least this fraction of the sum of
#: its units' (plants') momentum magnitudes
COHERENT = 0.5
#: side of the system of each plant (the generator name before " G<n>")
SIDES = {"Toktogul": "Kyrgyz", "Nurek": "Tajik", "Rogun": "Tajik", "Sangtuda-1": "Tajik",
         "CAPS equivalent": "CAPS", "NTDC equivalent": "Pakistan"}

#: the POD on each Sangtuda rectifier (hvdc_pod columns; see the module docstring)
POD = dict(gen_a=231, gen_b=310, k_mw_per_pu=20000.0, t_w_s=10.0, t1_s=0.20, t2_s=0.16,
           t3_s=0.0, t4_s=0.05, p_max_mw=50.0)
POD_CONVERTERS = (11, 12)


# ------------------------------------------------------------------ cases and analysis
def with_pod(case, pod: dict = POD):
    """A copy of ``case`` with a POD row (settings ``pod``) on each of ``POD_CONVERTERS``."""
    from casa_dyn.case import schema as S
    from casa_dyn.case.case import normalize_table

    out = case.copy()
    n = len(POD_CONVERTERS)
    cols = {"id": np.arange(1, n + 1), "conv": np.array(POD_CONVERTERS)}
    cols.update({k: np.full(n, v) for k, v in pod.items()})
    out.tables["hvdc_pod"] = normalize_table(S.get("hvdc_pod"), cols)
    return out


def analyze(case):
    """(system, modal result) of ``case`` at its power-flow operating point (dense QR)."""
    from casa_dyn.network.powerflow import solve_power_flow
    from casa_dyn.solver.layout import build_system
    from casa_dyn.study.modes import ModeOptions, analyze_modes

    sysm = build_system(case, solve_power_flow(case))
    return sysm, analyze_modes(case, ModeOptions(band_hz=BAND_HZ, method="dense"), system=sysm)


def residue(sysm, lam: complex, gen_a: int, gen_b: int, converters=POD_CONVERTERS) -> complex:
    """Residue at the eigenvalue ``lam`` of the open loop from the converters' auxiliary input
    (MW, the same on each) to ``omega_a - omega_b`` (pu): ``R = lim (s - lam) G(s)`` with
    ``G(s) = C (sE - J)^-1 B`` on the DAE pencil, estimated as ``eps G(lam + eps)``.  With a
    feedback ``u = H(s) y`` into the auxiliary input the eigenvalue moves by ``H(lam) R``
    (to first order)."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from casa_dyn.study.modes import linearize

    lin = linearize(sysm)
    sh = sysm.meta["shared"]
    b = np.zeros(sysm.n, dtype=complex)
    for c in converters:
        b[sh[f"lcc/{c}/paux"]] = 1.0
    c_row = np.zeros(sysm.n)
    c_row[sh[f"gen/{gen_a}/omega"]] = 1.0
    if gen_b:
        c_row[sh[f"gen/{gen_b}/omega"]] = -1.0
    eps = 1e-6 * abs(lam)
    pencil = sp.csc_matrix((lam + eps) * sp.diags(lin.e_diag) - lin.jac, dtype=complex)
    return complex(eps * (c_row @ spla.splu(pencil).solve(b)))


def pod_transfer(s: complex, p: dict = POD) -> complex:
    """The POD's transfer function (MW per pu), limits not reached."""
    h = p["k_mw_per_pu"] * s * p["t_w_s"] / (1 + s * p["t_w_s"])
    for lead, lag in (("t1_s", "t2_s"), ("t3_s", "t4_s")):
        h *= (1 + s * p[lead]) / (1 + s * p[lag])
    return h


# ------------------------------------------------------------------ naming
def plant_of(name: str) -> str:
    """'Nurek G3' -> 'Nurek'; an equivalent keeps its name."""
    head, sep, tail = name.rpartition(" G")
    return head if sep and tail.isdigit() else name


def machine_groups(case, res):
    """Per machine of ``res``: plant name, side and inertia 2 H S (MW s)."""
    gen = case["generator"]
    row = {int(g): k for k, g in enumerate(gen["id"])}
    h = {}
    for t in ("gencls", "genrou", "gensal"):
        if case.has(t):
            h.update({int(g): float(v) for g, v in zip(case[t]["gen"], case[t]["h_s"])})
    plants, sides, inertia = [], [], []
    for gid in res.gen_ids:
        plant = plant_of(str(gen["name"][row[int(gid)]]))
        if plant not in SIDES:
            raise KeyError(f"generator {gid} ({plant}): no side in casa_modes.SIDES")
        plants.append(plant)
        sides.append(SIDES[plant])
        inertia.append(2.0 * h[int(gid)] * float(gen["mbase_mva"][row[int(gid)]]))
    return plants, sides, np.array(inertia)


def rotor_share(res) -> np.ndarray:
    """Share of each mode's |participation| in rotor angle and speed states."""
    rotor = np.array([n.endswith("/omega") or n.endswith("/delta") for n in res.state_names])
    p = np.abs(res.participation)
    return p[rotor].sum(axis=0) / np.maximum(p.sum(axis=0), 1e-300)


def _sum_by(keys, values):
    out = {}
    for k, v in zip(keys, values):
        out[k] = out.get(k, 0.0) + v
    return out


def name_mode(groups, shape: np.ndarray) -> dict:
    """Kind and the involved groups (name, momentum share, phase deg) of one mode."""
    plants, sides, inertia = groups
    m = shape * inertia
    by_plant = _sum_by(plants, m)
    by_plant_abs = _sum_by(plants, np.abs(m))
    side_of = {p: s for p, s in zip(plants, sides)}
    top_plant = max(by_plant_abs, key=by_plant_abs.get)
    if max(abs(v) for v in by_plant.values()) < COHERENT * max(by_plant_abs.values()):
        return {"kind": "intra-plant", "groups": [[top_plant, 1.0, 0.0]], "against": []}
    by_side = _sum_by([side_of[p] for p in by_plant], list(by_plant.values()))
    side_abs = _sum_by([side_of[p] for p in by_plant], [abs(v) for v in by_plant.values()])
    if max(abs(v) for v in by_side.values()) < COHERENT * max(side_abs.values()):
        side = max(side_abs, key=side_abs.get)  # plants of one side against each other
        kind, parts = "local (inter-plant)", {p: v for p, v in by_plant.items() if side_of[p] == side}
    else:
        kind, parts = "inter-area", by_side
    big = max(parts.values(), key=abs)
    ref = np.angle(big)
    involved = sorted(((k, abs(v) / abs(big), float(np.degrees(np.angle(v * np.exp(-1j * ref)))))
                       for k, v in parts.items() if abs(v) >= INVOLVED * abs(big)),
                      key=lambda x: -x[1])
    with_ref = [g for g in involved if abs(g[2]) <= 90.0]
    against = [g for g in involved if abs(g[2]) > 90.0]
    if not against:
        kind = "frequency"
    return {"kind": kind, "groups": [list(g) for g in with_ref], "against": [list(g) for g in against]}


def _members(groups, side):
    plants, sides, _ = groups
    return sorted({p for p, s in zip(plants, sides) if s == side})


def mode_label(named: dict, groups) -> str:
    """'Tajik (Nurek, Rogun, Sangtuda-1) vs CAPS', 'Nurek units against each other', ..."""
    def side_text(g):
        name = g[0]
        if name not in SIDES.values():
            return name  # a plant
        inside = _members(groups, name)
        if len(inside) == 1 and inside[0].startswith(name):
            return inside[0]  # 'CAPS equivalent', not 'CAPS (CAPS equivalent)'
        return f"{name} ({', '.join(inside)})"

    a = " + ".join(side_text(g) for g in named["groups"])
    if named["kind"] == "intra-plant":
        return f"{a} units against each other"
    if not named["against"]:
        return f"{a} alone" if len(named["groups"]) == 1 else f"{a} in phase"
    return f"{a} vs {' + '.join(side_text(g) for g in named['against'])}"


def shape_text(named: dict) -> str:
    if named["kind"] == "intra-plant":
        return "units in antiphase, the plant's momentum cancels"
    parts = [f"{g[0]} {g[1]:.2f} {int(round(g[2])) or 0:+d}°" for g in named["groups"] + named["against"]]
    return ", ".join(parts)


# ------------------------------------------------------------------ the table's numbers
def em_modes(res) -> list[list[int]]:
    """Electromechanical modes in the band, coinciding ones grouped, by frequency."""
    idx = np.flatnonzero(res.in_band() & (rotor_share(res) >= ROTOR_SHARE))
    idx = idx[np.argsort(res.freq_hz[idx], kind="stable")]
    out = []
    for i in idx:
        for grp in out:
            if abs(res.values[i] - res.values[grp[0]]) <= 1e-6 * abs(res.values[i]):
                grp.append(int(i))
                break
        else:
            out.append([int(i)])
    return out


def match(base, other, i: int) -> int:
    """The eigenvalue of ``other`` that is mode ``i`` of ``base``: nearest in eigenvalue
    (relative) plus dissimilarity of the speed mode shapes (1 - |cos|)."""
    s0 = base.speed_shape[:, i]
    cand = np.flatnonzero(other.values.imag > 0)
    sh = other.speed_shape[:, cand]
    cos = np.abs(s0.conj() @ sh) / (np.linalg.norm(s0) * np.linalg.norm(sh, axis=0) + 1e-300)
    d = np.abs(other.values[cand] - base.values[i]) / abs(base.values[i]) + (1.0 - cos)
    return int(cand[np.argmin(d)])


def _summary(res) -> dict:
    osc = np.flatnonzero(res.in_band())
    nz = np.abs(res.values) > 1e-6
    return {"n_states": len(res.state_names), "n_in_band": int(len(osc)),
            "zeta_min_band": float(res.zeta[osc].min()),
            "max_real": float(res.values.real[nz].max()),
            "n_unstable": int(res.summary()["n_unstable"])}


def compute(root: str = ".") -> dict:
    """Every number of the generated block."""
    from casa_dyn.io import read_case

    case = read_case(os.path.join(root, CASE_FILE))
    sys0, base = analyze(case)
    sys1, pod = analyze(with_pod(case))
    groups = machine_groups(case, base)
    rows = []
    for grp in em_modes(base):
        i = grp[0]
        j = match(base, pod, i)
        named = name_mode(groups, base.speed_shape[:, i])
        rows.append({"label": mode_label(named, groups), "kind": named["kind"],
                     "shape": shape_text(named), "count": len(grp),
                     "f_hz": float(base.freq_hz[i]), "zeta": float(base.zeta[i]),
                     "f_pod_hz": float(pod.freq_hz[j]), "zeta_pod": float(pod.zeta[j]),
                     "lam": [float(base.values[i].real), float(base.values[i].imag)],
                     "lam_pod": [float(pod.values[j].real), float(pod.values[j].imag)]})
    target = min((r for r in rows if r["kind"] == "inter-area"), key=lambda r: r["zeta"])
    lam = complex(*target["lam"])
    r = residue(sys0, lam, POD["gen_a"], POD["gen_b"])
    return {"rows": rows, "without": _summary(base), "with": _summary(pod),
            "target": target["label"], "residue_abs": abs(r),
            "residue_deg": float(np.degrees(np.angle(r))),
            "compensated_deg": float(np.degrees(np.angle(r * pod_transfer(lam))))}


# ------------------------------------------------------------------ rendering
def render(data: dict) -> str:
    p, w, v = POD, data["without"], data["with"]
    lines = [
        f"Electromechanical modes of `casa1000` in {BAND_HZ[0]:g}–{BAND_HZ[1]:g} Hz (rotor angle and "
        f"speed states carry at least {ROTOR_SHARE:.0%} of the participation), without and with "
        "the POD on the Sangtuda rectifiers. Shape: each group's inertia-weighted speed "
        "(momentum) relative to the largest, with its phase. Kinds: inter-area (sides of the "
        "system against each other), local (plants of one side), intra-plant (units of one "
        "plant), frequency (every group in phase: the common motion the governors set).",
        "",
        "| mode | kind | shape (momentum, phase) | f (Hz) | ζ | f with POD (Hz) | ζ with POD |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        label = r["label"] + (f" (×{r['count']})" if r["count"] > 1 else "")
        lines.append(f"| {label} | {r['kind']} | {r['shape']} | {r['f_hz']:.3f} | {r['zeta']:.3f} "
                     f"| {r['f_pod_hz']:.3f} | {r['zeta_pod']:.3f} |")
    lines += [
        "",
        f"All eigenvalues ({w['n_states']} states without the POD, {v['n_states']} with): "
        f"{w['n_in_band']} / {v['n_in_band']} oscillatory modes in the band, the least damping "
        f"ratio among them {w['zeta_min_band']:.3f} / {v['zeta_min_band']:.3f}, the largest real "
        f"part of a non-zero eigenvalue {w['max_real']:.4f} / {v['max_real']:.4f} 1/s, "
        f"{w['n_unstable']} / {v['n_unstable']} unstable.",
        "",
        f"POD (`hvdc_pod`, one per rectifier {', '.join(str(c) for c in POD_CONVERTERS)}): input "
        f"speed of generator {p['gen_a']} (Nurek G1) minus {p['gen_b']} (CAPS equivalent), gain "
        f"{p['k_mw_per_pu']:,.0f} MW/pu, washout {p['t_w_s']:g} s, lead-lag {p['t1_s']:g}/"
        f"{p['t2_s']:g} s, filter {p['t4_s']:g} s, limits ±{p['p_max_mw']:g} MW. Target: "
        f"{data['target']}; open-loop residue {data['residue_abs']:.2e} pu/MW at "
        f"{data['residue_deg']:.0f}°, with the POD's phase {data['compensated_deg']:.0f}° "
        "(180°: the eigenvalue moves straight to the left).",
    ]
    return "\n".join(lines)


def replace_block(text: str, body: str) -> str:
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise ValueError(f"the document has no '{BEGIN}' ... '{END}' block")
    return text[: i + len(BEGIN)] + "\n" + body + "\n" + text[j:]


def main(argv=None) -> int:
    from casa_dyn.io.doc_files import read_text, write_text

    ap = argparse.ArgumentParser(prog="python -m casa_dyn.study.casa_modes",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compute, compare with the committed block, write nothing; exit 1 if it differs")
    a = ap.parse_args(argv)
    doc = read_text(DOC_FILE)
    new = replace_block(doc, render(compute()))
    if a.check:
        print("modes block " + ("matches" if new == doc else "DIFFERS"))
        return 0 if new == doc else 1
    write_text(DOC_FILE, new)
    print(f"wrote {DOC_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
