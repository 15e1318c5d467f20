"""Study files (TOML, docs/studies.md) -> ``casa_dyn.study.spec.Study``.

Strict: an unknown key, a value of the wrong type or out of range is an error naming the
table, the key and the value; every problem is reported at once and nothing runs.  References
to buses, branches and units are checked against the cases by
``casa_dyn.study.scenarios.check_references`` once the cases are read (``read_study_cases``).
"""
from __future__ import annotations

import dataclasses
import os
import tomllib

from casa_dyn.errors import CasaDynError, ScenarioError
from casa_dyn.io.scenario import parse_scenario
from casa_dyn.solver.options import SimOptions
from casa_dyn.study import spec as S

_TYPES = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "table": ("a table", lambda v: isinstance(v, dict)),
    "tables": ("an array of tables", lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v)),
}
for _k in ("str", "int", "float"):
    _TYPES[f"list[{_k}]"] = (f"a list of {_TYPES[_k][0].split(' ', 1)[1]}s",
                             (lambda f: lambda v: isinstance(v, list) and all(f(x) for x in v))(_TYPES[_k][1]))
_TYPES["int|list[int]"] = ("an integer or a list of integers",
                           lambda v: _TYPES["int"][1](v) or _TYPES["list[int]"][1](v))

TOP = {"name": "str", "purpose": "str", "case": "tables", "options": "table", "fault": "table",
       "n1_branch": "tables", "bus_fault": "tables", "gen_trip": "tables", "scenario": "tables",
       "sweep": "tables", "metrics": "table", "criteria": "table", "output": "table", "cct": "tables"}
FAULT = {"t_on_s": "float", "clearing_time_s": "float", "r_pu": "float", "x_pu": "float"}
CASE = {"label": "str", "path": "str", "dynamics": "str"}
N1 = {"cases": "list[str]", "tables": "list[str]", "branches": "list[int]", "ends": "list[str]", **FAULT}
BUSF = {"cases": "list[str]", "min_kv": "float", "buses": "list[int]", **FAULT}
GENT = {"cases": "list[str]", "gens": "list[int]", "t_s": "float"}
EXPL = {"name": "str", "cases": "list[str]", "options": "table", "event": "tables"}
SWEEP = {"parameter": "str", "values": "list[float]", "table": "str", "id": "int", "column": "str",
         "p_dc_mw": "float", "angle_deg": "float"}
METRIC = {"rocof_window_s": "float", "loss_of_sync_deg": "float", "hvdc_recovery_fraction": "float"}
OUTPUT = {"keep": "str", "channels": "list[str]", "decimation": "int"}
CCT = {"cases": "list[str]", "fault_bus": "int|list[int]", "trip_branch": "int", "trip_table": "str",
       "all_branches": "bool", "tables": "list[str]", "ends": "list[str]", "tol_ms": "float", "t_on_s": "float",
       "max_clearing_s": "float", "r_pu": "float", "x_pu": "float"}
PARAMETERS = ("clearing_time_s", "load_scale", "inverter_scr", "hvdc_power_order_mw", "case_value")
PRESETS = ("classical", "full")


def read_study(path: str) -> S.Study:
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise S.StudyError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise S.StudyError(f"{path}: not valid TOML: {e}") from None
    return parse_study(doc, path)


def read_study_cases(study: S.Study) -> dict:
    """{label: Case} as stored on disk (``casa_dyn.study.modify.prepare_case`` adds dynamics)."""
    from casa_dyn.io.h5case import read_case

    out, errs = {}, []
    for k, c in enumerate(study.cases):
        try:
            out[c.label] = read_case(c.path)
        except CasaDynError as e:
            errs.append(f"[[case]] #{k + 1}: path = {c.path!r}: {str(e).splitlines()[0]}")
    if errs:
        raise S.StudyError(f"{study.source}: {len(errs)} problem(s):\n" + "\n".join(f"  - {e}" for e in errs))
    return out


class _Errors(list):
    def fields(self, tab, where: str, spec: dict, required=()) -> dict:
        """Known, well-typed keys of ``tab``; records unknown keys, wrong types, missing keys."""
        out = {}
        for k, v in tab.items():
            if k not in spec:
                self.append(f"{where}: unknown key {k!r} (known: {', '.join(spec)})")
            elif not _TYPES[spec[k]][1](v):
                self.append(f"{where}: {k} = {v!r} has the wrong type (expected {_TYPES[spec[k]][0]})")
            else:
                out[k] = v
        self.extend(f"{where}: missing key {k!r}" for k in required if k not in tab)
        return out

    def check(self, ok: bool, where: str, key: str, value, why: str) -> bool:
        if not ok:
            self.append(f"{where}: {key} = {value!r}: {why}")
        return ok

    def choices(self, d: dict, where: str, key: str, allowed) -> None:
        vals = d.get(key)
        for v in (vals if isinstance(vals, list) else [vals] if vals is not None else []):
            self.check(v in allowed, where, key, vals, f"{v!r} is not one of {', '.join(map(repr, allowed))}")


def parse_study(doc: dict, source: str = "study") -> S.Study:
    errs = _Errors()
    base = os.path.dirname(os.path.abspath(source))
    top = errs.fields(doc, source, TOP)
    cases = _cases(top.get("case", []), base, errs)
    errs.extend(f"{source}: at least one [[case]] is needed" for _ in [0] if not top.get("case"))
    options = _options(top.get("options", {}), errs)
    fault = _fault(errs.fields(top.get("fault", {}), "[fault]", FAULT), S.Fault(), "[fault]", errs)
    gens = []
    for key in (k for k in doc if k in ("n1_branch", "bus_fault", "gen_trip", "scenario")):
        for i, tab in enumerate(top.get(key, [])):
            g = _GENERATORS[key](tab, f"[[{key}]] #{i + 1}", fault, errs)
            if g is not None:
                gens.append(g)
    sweeps = [_sweep(t, f"[[sweep]] #{i + 1}", errs) for i, t in enumerate(top.get("sweep", []))]
    _check_sweeps(sweeps, errs)
    cct = [_cct(t, f"[[cct]] #{i + 1}", errs) for i, t in enumerate(top.get("cct", []))]
    metrics = _metrics(top.get("metrics", {}), errs)
    criteria = _criteria(top.get("criteria", {}), errs)
    output = _output(top.get("output", {}), errs)
    if not gens and not cct and not errs:
        errs.append(f"{source}: no scenarios: add [[n1_branch]], [[bus_fault]], [[gen_trip]], [[scenario]] or [[cct]]")
    if errs:
        raise S.StudyError(f"{source}: {len(errs)} problem(s):\n" + "\n".join(f"  - {e}" for e in errs))
    return S.Study(name=top.get("name", os.path.splitext(os.path.basename(source))[0]), purpose=top.get("purpose", ""),
                   source=source, cases=tuple(cases), options=options, generators=tuple(gens),
                   sweeps=tuple(s for s in sweeps if s), cct=tuple(c for c in cct if c), metrics=metrics,
                   criteria=criteria, output=output)


def _cases(tabs, base, errs) -> list:
    out = []
    for i, tab in enumerate(tabs):
        where = f"[[case]] #{i + 1}"
        d = errs.fields(tab, where, CASE, required=("path",))
        if "path" not in d:
            continue
        errs.choices(d, where, "dynamics", PRESETS)
        path = d["path"] if os.path.isabs(d["path"]) else os.path.join(base, d["path"])
        label = d.get("label", os.path.splitext(os.path.basename(path))[0])
        if errs.check(label not in [c.label for c in out], where, "label", label, "used by another case"):
            out.append(S.CaseRef(label, os.path.normpath(path), d.get("dynamics")))
    return out


def _options(tab, errs) -> tuple:
    where, fields = "[options]", {f.name: str(f.type) for f in dataclasses.fields(SimOptions)}
    spec = {k: ("int" if t == "int" else "float") for k, t in fields.items() if k != "channels"}
    if "channels" in tab:
        errs.append(f"{where}: channels = {tab['channels']!r}: put channel patterns under [output] channels")
    d = errs.fields({k: v for k, v in tab.items() if k != "channels"}, where, spec)
    for k in ("t_end_s", "dt_s", "tol", "dt_min_s"):
        if k in d:
            errs.check(d[k] > 0, where, k, d[k], "must be > 0")
    return tuple(sorted(d.items()))


def _fault(d, default: S.Fault, where, errs) -> S.Fault:
    vals = {k: float(d.get(k, getattr(default, k))) for k in FAULT}
    errs.check(vals["clearing_time_s"] > 0, where, "clearing_time_s", vals["clearing_time_s"], "must be > 0")
    for k in ("t_on_s", "r_pu", "x_pu"):
        errs.check(vals[k] >= 0, where, k, vals[k], "must be >= 0")
    return S.Fault(**vals)


def _cases_key(d) -> tuple:
    return tuple(d.get("cases", ()))


def _n1(tab, where, fault, errs):
    d = errs.fields(tab, where, N1)
    errs.choices(d, where, "tables", ("line", "transformer"))
    errs.choices(d, where, "ends", ("from", "to"))
    return S.N1Branch(where, _cases_key(d), tuple(d.get("tables", ("line", "transformer"))),
                      tuple(d["branches"]) if "branches" in d else None, tuple(d.get("ends", ("from", "to"))),
                      _fault(d, fault, where, errs))


def _busf(tab, where, fault, errs):
    d = errs.fields(tab, where, BUSF)
    return S.BusFaults(where, _cases_key(d), float(d.get("min_kv", 0.0)),
                       tuple(d["buses"]) if "buses" in d else None, _fault(d, fault, where, errs))


def _gent(tab, where, fault, errs):
    d = errs.fields(tab, where, GENT)
    return S.GenTrips(where, _cases_key(d), tuple(d["gens"]) if "gens" in d else None, float(d.get("t_s", 1.0)))


def _explicit(tab, where, fault, errs):
    d = errs.fields(tab, where, EXPL, required=("name", "event"))
    if "name" not in d or "event" not in d:
        return None
    try:
        sc = parse_scenario({"event": d["event"], "options": d.get("options", {})}, where)
    except ScenarioError as e:
        errs.extend(str(e).splitlines())
        return None
    if "channels" in sc.options:
        errs.append(f"{where}: options.channels: put channel patterns under [output] channels")
    return S.Explicit(where, d["name"], _cases_key(d), tuple(sc.events), tuple(sorted(sc.options.items())))


_GENERATORS = {"n1_branch": _n1, "bus_fault": _busf, "gen_trip": _gent, "scenario": _explicit}


def _sweep(tab, where, errs):
    d = errs.fields(tab, where, SWEEP, required=("parameter", "values"))
    p = d.get("parameter")
    if p is None or "values" not in d:
        return None
    if not errs.check(p in PARAMETERS, where, "parameter", p, f"not one of {', '.join(PARAMETERS)}"):
        return None
    errs.check(len(d["values"]) > 0, where, "values", d["values"], "must not be empty")
    if p in ("clearing_time_s", "load_scale", "inverter_scr"):
        bad = [v for v in d["values"] if not v > 0]
        errs.check(not bad, where, "values", d["values"], "must all be > 0")
    need = {"inverter_scr": ("id", "p_dc_mw"), "hvdc_power_order_mw": ("table", "id"),
            "case_value": ("table", "id", "column")}.get(p, ())
    allowed = set(need) | {"parameter", "values"} | ({"table", "angle_deg"} if p == "inverter_scr" else set())
    allowed |= {"column"} if p == "hvdc_power_order_mw" else set()
    errs.extend(f"{where}: parameter {p!r} needs key {k!r}" for k in need if k not in d)
    errs.extend(f"{where}: key {k!r} does not apply to parameter {p!r}" for k in d if k not in allowed)
    if "p_dc_mw" in d:
        errs.check(d["p_dc_mw"] > 0, where, "p_dc_mw", d["p_dc_mw"], "must be > 0")
    table = d.get("table", "line" if p == "inverter_scr" else None)
    return S.Sweep(where, p, tuple(float(v) for v in d["values"]), table, d.get("id"), d.get("column"),
                   d.get("p_dc_mw"), d.get("angle_deg"))


def _check_sweeps(sweeps, errs) -> None:
    seen = {}
    for s in (s for s in sweeps if s):
        key = (s.parameter, s.table, s.id, s.column) if s.parameter == "case_value" else s.parameter
        if key in seen:
            errs.append(f"{s.where}: parameter = {s.parameter!r} is already swept by {seen[key]}")
        seen[key] = s.where


def _cct(tab, where, errs):
    d = errs.fields(tab, where, CCT)
    errs.choices(d, where, "trip_table", ("line", "transformer"))
    errs.choices(d, where, "tables", ("line", "transformer"))
    errs.choices(d, where, "ends", ("from", "to"))
    buses = d.get("fault_bus", [])
    buses = (buses,) if isinstance(buses, int) else tuple(buses)
    allb = d.get("all_branches", False)
    errs.check(bool(buses) != bool(allb), where, "fault_bus", d.get("fault_bus"),
               "give fault_bus or all_branches = true (one of the two)")
    if allb and "trip_branch" in d:
        errs.append(f"{where}: trip_branch = {d['trip_branch']!r}: not with all_branches = true")
    for k in ("tol_ms", "max_clearing_s"):
        if k in d:
            errs.check(d[k] > 0, where, k, d[k], "must be > 0")
    return S.CctRequest(where, _cases_key(d), buses, d.get("trip_table", "line"), d.get("trip_branch"), bool(allb),
                        tuple(d.get("tables", ("line", "transformer"))), tuple(d.get("ends", ("from", "to"))),
                        float(d.get("tol_ms", 1.0)) / 1000.0, float(d.get("t_on_s", 1.0)),
                        float(d.get("max_clearing_s", 1.0)), float(d.get("r_pu", 0.0)), float(d.get("x_pu", 0.0)))


def _metrics(tab, errs) -> S.MetricOptions:
    d = errs.fields(tab, "[metrics]", METRIC)
    errs.check(d.get("rocof_window_s", 1) > 0, "[metrics]", "rocof_window_s", d.get("rocof_window_s"), "must be > 0")
    errs.check(d.get("loss_of_sync_deg", 0) >= 0, "[metrics]", "loss_of_sync_deg", d.get("loss_of_sync_deg"),
               "must be >= 0")
    f = d.get("hvdc_recovery_fraction", 0.9)
    errs.check(0 < f <= 1, "[metrics]", "hvdc_recovery_fraction", f, "must be in (0, 1]")
    return S.MetricOptions(**{k: float(v) for k, v in d.items()})


def _criteria(tab, errs) -> tuple:
    from casa_dyn.study.metrics import METRIC_NAMES

    out = []
    for name, v in tab.items():
        where = "[criteria]"
        if name not in METRIC_NAMES:
            errs.append(f"{where}: unknown metric {name!r} (known: {', '.join(METRIC_NAMES)})")
            continue
        d = errs.fields(v, f"{where} {name}", {"min": "float", "max": "float"}) if isinstance(v, dict) else None
        if d is None:
            errs.append(f"{where}: {name} = {v!r} has the wrong type (expected a table like {{ max = 1.0 }})")
        elif errs.check(bool(d), where, name, v, "give min and/or max"):
            out.append(S.Criterion(name, d.get("min"), d.get("max")))
    return tuple(out)


def _output(tab, errs) -> S.OutputOptions:
    d = errs.fields(tab, "[output]", OUTPUT)
    errs.choices(d, "[output]", "keep", ("all", "violations", "none"))
    errs.check(d.get("decimation", 1) >= 1, "[output]", "decimation", d.get("decimation"), "must be >= 1")
    return S.OutputOptions(d.get("keep", "all"), tuple(d.get("channels", ())), int(d.get("decimation", 1)))
