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
    kind: str         # bus | gen | system
    element: int      # element id (0 for system)
    inputs: tuple     # positions in the recorded raw vector
    op: str           # vm | va | scale | coi
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
    # any DAE variable on request: ``var/<variable name>`` (e.g. ``var/tgov1/2/x1``); never in
    # the default set, as a large case has hundreds of thousands of them
    for pat in (p for p in patterns if p.startswith("var/")):
        for i, vname in enumerate(sysm.names):
            if fnmatch(f"var/{vname}", pat):
                chans.append(Channel(f"var/{vname}", "", "var", 0, (slot(i),), "scale", 1.0))
    sel = np.array(sorted(raw, key=raw.get), dtype=np.int64)
    return sel, chans


def compute(raw_z: np.ndarray, chans: list[Channel], coi_weights: np.ndarray) -> np.ndarray:
    """Channel matrix (n_times, n_channels) from the recorded raw variables."""
    out = np.empty((raw_z.shape[0], len(chans)))
    for j, c in enumerate(chans):
        if c.op == "vm":
            out[:, j] = np.hypot(raw_z[:, c.inputs[0]], raw_z[:, c.inputs[1]])
        elif c.op == "va":
            out[:, j] = np.degrees(np.arctan2(raw_z[:, c.inputs[1]], raw_z[:, c.inputs[0]]))
        elif c.op == "scale":
            out[:, j] = raw_z[:, c.inputs[0]] * c.scale
        elif c.op == "coi":
            w = coi_weights
            out[:, j] = c.scale * (raw_z[:, list(c.inputs)] @ w) / w.sum()
    return out
