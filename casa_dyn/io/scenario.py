"""Scenario files (TOML, read with the standard library; docs/scenarios.md).

Example::

    purpose = "3-phase fault at bus 7, cleared after 5 cycles by opening line 5-7"
    [options]
    t_end_s = 5.0
    dt_s = 0.008333
    [[event]]
    type = "bus_fault"
    bus = 7
    t_on_s = 1.0
    t_off_s = 1.0833
    [[event]]
    type = "branch_trip"
    branch = 5071
    t_s = 1.0833

Unknown keys, wrong types and missing fields are errors that name the event and key.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field

from casa_dyn.errors import ScenarioError
from casa_dyn.solver.events import (
    BranchTrip, BusFault, DcLineFault, ForcedCommutationFailure, GenTrip, LoadChange, PoleBlock,
    PowerOrderChange, SetpointChange, ShuntTrip,
)
from casa_dyn.solver.options import SimOptions

EVENT_KINDS = {
    "bus_fault": BusFault,
    "branch_trip": BranchTrip,
    "gen_trip": GenTrip,
    "load_change": LoadChange,
    "setpoint_change": SetpointChange,
    "shunt_trip": ShuntTrip,
    "power_order_change": PowerOrderChange,
    "pole_block": PoleBlock,
    "dc_line_fault": DcLineFault,
    "forced_commutation_failure": ForcedCommutationFailure,
}


@dataclass(frozen=True)
class Scenario:
    events: tuple = ()
    options: dict = field(default_factory=dict)
    purpose: str = ""
    case: str | None = None


def read_scenario(path: str) -> Scenario:
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None
    return parse_scenario(doc, path)


def parse_scenario(doc: dict, where: str = "scenario") -> Scenario:
    known = {"purpose", "case", "options", "event"}
    errs = [f"{where}: unknown key {k!r} (known: {', '.join(sorted(known))})" for k in doc if k not in known]
    opts = doc.get("options", {})
    if not isinstance(opts, dict):
        errs.append(f"{where}: [options] must be a table")
        opts = {}
    fields = {f.name: f for f in dataclasses.fields(SimOptions)}
    for k, v in opts.items():
        if k not in fields:
            errs.append(f"{where}: options.{k} is not an option (known: {', '.join(fields)})")
        elif k == "channels":
            if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                errs.append(f"{where}: options.channels must be a list of strings")
        elif not _type_ok(v, fields[k].type):
            errs.append(f"{where}: options.{k} = {v!r} has the wrong type ({fields[k].type})")
    events = []
    for i, ev in enumerate(doc.get("event", [])):
        label = f"{where}: event {i + 1}"
        if not isinstance(ev, dict) or "type" not in ev:
            errs.append(f"{label}: needs a 'type' ({', '.join(EVENT_KINDS)})")
            continue
        cls = EVENT_KINDS.get(ev["type"])
        if cls is None:
            errs.append(f"{label}: unknown type {ev['type']!r} (known: {', '.join(EVENT_KINDS)})")
            continue
        efields = {f.name: f for f in dataclasses.fields(cls)}
        args = {k: v for k, v in ev.items() if k != "type"}
        bad = [k for k in args if k not in efields]
        errs += [f"{label} ({ev['type']}): unknown key {k!r} (known: {', '.join(efields)})" for k in bad]
        missing = [n for n, f in efields.items() if f.default is dataclasses.MISSING and n not in args]
        errs += [f"{label} ({ev['type']}): missing key {k!r}" for k in missing]
        for k, v in args.items():
            if k in efields and not _type_ok(v, efields[k].type):
                errs.append(f"{label} ({ev['type']}): {k} = {v!r} has the wrong type ({efields[k].type})")
        if not bad and not missing:
            events.append((cls, args))
    if errs:
        raise ScenarioError("\n".join(errs))
    if "channels" in opts:
        opts = {**opts, "channels": tuple(opts["channels"])}
    return Scenario(events=tuple(cls(**args) for cls, args in events), options=opts,
                    purpose=str(doc.get("purpose", "")), case=doc.get("case"))


def _type_ok(v, annot) -> bool:
    a = str(annot)
    if isinstance(v, bool):
        return "bool" in a
    if "float" in a:
        if isinstance(v, (int, float)):
            return True
    if "int" in a and isinstance(v, int):
        return True
    if "str" in a and isinstance(v, str):
        return True
    return v is None and "None" in a
