"""Output channels: which DAE variables the time loop records, and the physical quantities
(with names, units and element ids) computed from them after the run.

Channel names are ``kind/element/quantity_unit``: ``bus/7/vm_pu``, ``gen/2/speed_pu``,
``system/coi_freq_hz``.  Selection uses fnmatch patterns (``bus/*/vm_pu``); raw DAE variables
are available on request as ``var/<variable name>`` (``var/hygov/1/*``).
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch

import numpy as np

#: generator quantities: (channel suffix, unit, unit variable, scale kind)
_GEN = (("delta_deg", "deg", "delta", "deg"), ("speed_pu", "pu", "omega", "one"),
        ("pe_mw", "MW", "pe", "mbase"), ("qe_mvar", "Mvar", "qe", "mbase"),
        ("efd_pu", "pu", "efd", "one"), ("pm_mw", "MW", "pm", "mbase"))


@dataclass(frozen=True)
class Channel:
    name: str
    unit: str
    kind: str         # bus | gen | system | var | conv | dcnode
    element: int      # element id (0 for system)
    inputs: tuple     # positions in the recorded raw vector
    op: str           # vm | va | scale | coi | diff | gamma
    scale: float = 1.0


def plan(sysm, patterns=()) -> tuple[np.ndarray, list[Channel]]:
    """Decide the recorded variables and the channels built from them."""
    case = sysm.case
    raw: dict[int, int] = {}

    def slot(var):
        if var not in raw:
            raw[var] = len(raw)
        return raw[var]

    wanted = (lambda name: any(fnmatch(name, p) for p in patterns)) if patterns else (lambda name: True)
    chans = []
    for k, b in enumerate(case["bus"]["id"]):
        for q, unit, op in (("vm_pu", "pu", "vm"), ("va_deg", "deg", "va")):
            name = f"bus/{b}/{q}"
            if wanted(name):
                chans.append(Channel(name, unit, "bus", int(b), (slot(2 * k), slot(2 * k + 1)), op))
    gen = case["generator"]
    mbase = gen["mbase_mva"]
    for u, g in enumerate(sysm.unit_gen_row):
        for q, unit, var, kind in _GEN:
            name = f"gen/{gen['id'][g]}/{q}"
            if var not in sysm.units[u] or not wanted(name):
                continue
            scale = {"deg": 180.0 / np.pi, "one": 1.0, "mbase": float(mbase[g])}[kind]
            chans.append(Channel(name, unit, "gen", int(gen["id"][g]), (slot(sysm.units[u][var]),), "scale", scale))
    if len(sysm.unit_gen_row) and wanted("system/coi_freq_hz"):
        ins = tuple(slot(sysm.units[u]["omega"]) for u in range(len(sysm.units)))
        chans.append(Channel("system/coi_freq_hz", "Hz", "system", 0, ins, "coi", float(case.freq_hz)))
    chans += _hvdc(sysm, wanted, slot)
    # any DAE variable on request: ``var/<variable name>`` (e.g. ``var/tgov1/2/x1``); never in
    # the default set, as a large case has hundreds of thousands of them
    for pat in (p for p in patterns if p.startswith("var/")):
        for i, vname in enumerate(sysm.names):
            if fnmatch(f"var/{vname}", pat):
                chans.append(Channel(f"var/{vname}", "", "var", 0, (slot(i),), "scale", 1.0))
    sel = np.array(sorted(raw, key=raw.get), dtype=np.int64)
    return sel, chans


#: converter quantities: (channel suffix, unit, local variable(s), op, scale).  ``gamma`` is
#: 180 - alpha - mu (the extinction angle; for a rectifier the angle the valves would have)
_CONV = (("alpha_deg", "deg", ("alpha",), "scale", 180.0 / np.pi),
         ("gamma_deg", "deg", ("alpha", "mu"), "gamma", 180.0 / np.pi),
         ("mu_deg", "deg", ("mu",), "scale", 180.0 / np.pi),
         ("vd_kv", "kV", ("v_p", "v_n"), "diff", 1.0),
         ("id_ka", "kA", ("id",), "scale", 1.0),
         ("p_ac_mw", "MW", ("p",), "scale", 1.0),
         ("q_ac_mvar", "Mvar", ("q",), "scale", 1.0),
         ("mode", "", ("mode",), "scale", 1.0),
         ("vdcol", "", ("vdcol",), "scale", 1.0),
         ("blocked", "", ("blocked",), "scale", 1.0),
         ("bypassed", "", ("bypassed",), "scale", 1.0),
         ("cf", "", ("cf",), "scale", 1.0))


def _hvdc(sysm, wanted, slot) -> list:
    """``conv/<id>/...`` per LCC converter (P and Q drawn from the AC bus; mode codes in
    docs/hvdc.md), ``dcnode/<id>/v_kv`` per DC node and ``pod/<id>/p_mw`` per damping control."""
    out = []
    fams = {f.spec.name: f for f in sysm.families if f.spec.family == "hvdc"}
    f = fams.get("lcc")
    if f is not None:
        cols = f.spec.cols
        for u, cid in enumerate(f.ids):
            for q, unit, var, op, scale in _CONV:
                name = f"conv/{cid}/{q}"
                if wanted(name):
                    ins = tuple(slot(int(f.col[u, cols.index(v)])) for v in var)
                    out.append(Channel(name, unit, "conv", int(cid), ins, op, scale))
    f = fams.get("dc_node")
    if f is not None:
        for u, nid in enumerate(f.ids):
            name = f"dcnode/{nid}/v_kv"
            if nid > 0 and wanted(name):
                out.append(Channel(name, "kV", "dcnode", int(nid), (slot(int(f.col[u, 0])),), "scale",
                                   1.0))
    f = fams.get("hvdc_pod")
    if f is not None:
        k = f.spec.cols.index("p_mw")
        for u, pid in enumerate(f.ids):
            name = f"pod/{pid}/p_mw"   # the damping control's modulation, MW
            if wanted(name):
                out.append(Channel(name, "MW", "pod", int(pid), (slot(int(f.col[u, k])),), "scale", 1.0))
    return out


def compute(raw_z: np.ndarray, chans: list[Channel], coi_segments) -> np.ndarray:
    """Channel matrix (n_times, n_channels) from the recorded raw variables.  ``coi_segments``:
    ``(first sample, weights)`` pairs in time order, the centre-of-inertia weights in force from
    that sample on (a tripped or separated machine leaves the COI)."""
    out = np.empty((raw_z.shape[0], len(chans)))
    for j, c in enumerate(chans):
        if c.op == "vm":
            out[:, j] = np.hypot(raw_z[:, c.inputs[0]], raw_z[:, c.inputs[1]])
        elif c.op == "va":
            out[:, j] = np.degrees(np.arctan2(raw_z[:, c.inputs[1]], raw_z[:, c.inputs[0]]))
        elif c.op == "scale":
            out[:, j] = raw_z[:, c.inputs[0]] * c.scale
        elif c.op == "diff":
            out[:, j] = (raw_z[:, c.inputs[0]] - raw_z[:, c.inputs[1]]) * c.scale
        elif c.op == "gamma":
            out[:, j] = 180.0 - (raw_z[:, c.inputs[0]] + raw_z[:, c.inputs[1]]) * c.scale
        elif c.op == "coi":
            bounds = [k for k, _ in coi_segments] + [raw_z.shape[0]]
            for (k0, w), k1 in zip(coi_segments, bounds[1:]):
                rows = raw_z[k0:k1, list(c.inputs)]
                out[k0:k1, j] = c.scale * (rows @ w) / w.sum() if w.sum() > 0 else np.nan
    return out
