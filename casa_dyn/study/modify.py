"""Case modifications used by parameter sweeps, and typical dynamic data for studies.

- ``load_scale`` = s: every load's ``p_mw`` and ``q_mvar`` and every generator's scheduled
  ``p_mw`` times s (the slack unit takes the losses; the power flow is solved again).
- ``inverter_scr`` = SCR: the equivalent branch ``(table, id)`` that stands for the AC system
  behind a converter bus gets the impedance ``|Z| = S_base / (SCR * P_dc)`` pu (short-circuit
  power ``S_sc = S_base / |Z|`` MVA at 1 pu voltage, ``SCR = S_sc / P_dc``: the definition used
  for the CIGRE HVDC benchmark, REFERENCE.md sec. 4.1), at angle ``angle_deg`` (default: the
  branch's present R/X angle).  It counts only that branch: build the case with the converter
  bus fed through it.
- ``hvdc_power_order_mw`` and ``case_value``: set one column of one element to the value.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: column of an HVDC table that holds the power order (``hvdc_power_order_mw`` default)
HVDC_ORDER_COLUMN = "p_order_mw"


@dataclass(frozen=True)
class Mod:
    kind: str                      # load_scale | inverter_scr | hvdc_power_order_mw | case_value
    value: float
    table: str | None = None
    id: int | None = None
    column: str | None = None
    p_dc_mw: float | None = None
    angle_deg: float | None = None

    def canon(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if v is not None}
        for k in ("value", "p_dc_mw", "angle_deg"):
            if k in d:
                d[k] = float(d[k])
        return d

    @property
    def param(self) -> str:
        """Name of the summary column this modification fills."""
        if self.kind == "case_value":
            return f"{self.table}_{self.id}_{self.column}"
        return self.kind


def prepare_case(case, dynamics: str | None):
    """The case as a study uses it: with its dynamic tables replaced by a typical preset
    (``casa_dyn.case.typical``) when ``dynamics`` is given."""
    if not dynamics:
        return case
    from casa_dyn.case import schema
    from casa_dyn.case.typical import add_typical_dynamics

    out = case.copy()
    known = schema.tables()
    out.tables = {k: v for k, v in out.tables.items() if k in known and known[k].family == "network"}
    return add_typical_dynamics(out, dynamics)


def check_mod(case, mod: Mod) -> list[str]:
    """Problems applying ``mod`` to ``case`` (empty = fine)."""
    if mod.kind == "load_scale":
        return [] if mod.value > 0 else [f"value {mod.value} must be > 0"]
    if mod.table not in case.tables:
        return [f"table = {mod.table!r}: the case has no such table"]
    tab = case[mod.table]
    if mod.id not in set(tab["id"].tolist()):
        return [f"id = {mod.id}: {mod.table} {mod.id} does not exist"]
    if mod.kind == "inverter_scr":
        if mod.table not in ("line", "transformer"):
            return [f"table = {mod.table!r}: the SCR equivalent must be a line or transformer"]
        return [] if mod.value > 0 else [f"value {mod.value} must be > 0"]
    if mod.column not in tab:
        return [f"column = {mod.column!r}: table {mod.table!r} has no such column"]
    if tab[mod.column].dtype.kind not in "fi":
        return [f"column = {mod.column!r}: not a numeric column"]
    return []


def apply_mods(case, mods):
    """A modified copy of ``case`` (the case itself when there is nothing to change)."""
    if not mods:
        return case
    out = case.copy()
    for m in mods:
        if m.kind == "load_scale":
            for col in ("p_mw", "q_mvar"):
                out["load"][col] = out["load"][col] * m.value
            out["generator"]["p_mw"] = out["generator"]["p_mw"] * m.value
            continue
        tab = out[m.table]
        row = int(np.flatnonzero(tab["id"] == m.id)[0])
        if m.kind == "inverter_scr":
            z = out.base_mva / (m.value * m.p_dc_mw)
            ang = math.radians(m.angle_deg) if m.angle_deg is not None else math.atan2(tab["x_pu"][row], tab["r_pu"][row])
            tab["r_pu"] = tab["r_pu"].copy()
            tab["x_pu"] = tab["x_pu"].copy()
            tab["r_pu"][row], tab["x_pu"][row] = z * math.cos(ang), z * math.sin(ang)
        else:
            col = tab[m.column].copy()
            col[row] = m.value
            tab[m.column] = col
    return out
