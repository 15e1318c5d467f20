"""Scenario generation: a study's generators x the cross product of its sweeps, each scenario
with a stable id derived from its content, and the checks of every reference against the cases.

The id is the first 16 hex digits of the SHA-256 of a canonical JSON document holding the
case's content hash, the case modifications, the events (every field, floats as floats) and
the complete simulation options.  Labels, names and the order of generation do not enter it,
so the same scenario gets the same id in every study that contains it; scenarios with equal
content are run once.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass

from casa_dyn.errors import ScenarioError
from casa_dyn.solver.events import BranchTrip, BusFault, GenTrip, check_events
from casa_dyn.solver.options import SimOptions
from casa_dyn.study.modify import HVDC_ORDER_COLUMN, Mod, check_mod
from casa_dyn.study.spec import BusFaults, CctRequest, Explicit, GenTrips, N1Branch, Study, StudyError

CASE_SWEEPS = ("load_scale", "inverter_scr", "hvdc_power_order_mw", "case_value")
ID_DIGITS = 16


@dataclass(frozen=True)
class StudyScenario:
    id: str
    kind: str                      # n1_branch | bus_fault | gen_trip | scenario
    label: str
    case: str
    mods: tuple = ()
    events: tuple = ()
    options: tuple = ()            # SimOptions overrides, sorted (key, value) pairs
    params: tuple = ()             # (column, value) pairs for the summary table

    def sim_options(self) -> SimOptions:
        return SimOptions(**dict(self.options))


@dataclass(frozen=True)
class CctJob:
    id: str
    label: str
    case: str
    fault_bus: int
    trip_table: str
    trip_branch: int | None
    t_on_s: float
    tol_s: float
    max_clearing_s: float
    r_pu: float = 0.0
    x_pu: float = 0.0
    mods: tuple = ()
    options: tuple = ()
    params: tuple = ()
    kind: str = "cct"

    def sim_options(self) -> SimOptions:
        return SimOptions(**dict(self.options))


# ------------------------------------------------------------------ ids
def canonical_event(e) -> dict:
    d = {"type": type(e).__name__}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        d[f.name] = float(v) if (v is not None and "float" in str(f.type) and not isinstance(v, bool)) else v
    return d


def _options_dict(options: tuple) -> dict:
    d = SimOptions(**dict(options)).to_dict()
    d.pop("channels", None)
    return {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in d.items()}


def content_id(doc: dict) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:ID_DIGITS]


def scenario_id(case_hash: str, mods, events, options) -> str:
    return content_id({"case": case_hash, "mods": [m.canon() for m in mods],
                       "events": [canonical_event(e) for e in events], "options": _options_dict(options)})


# ------------------------------------------------------------------ expansion
def expand(study: Study, cases: dict) -> list:
    """Every scenario, then every CCT chain, in a fixed order; duplicates (equal ids) dropped."""
    check_references(study, cases)
    hashes = {label: c.content_hash() for label, c in cases.items()}
    combos = _combos(study)
    out, seen = [], set()

    def add(item):
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)

    for gen in study.generators:
        for base in _bases(study, gen, cases):
            for combo in combos:
                add(_scenario(study, base, combo, hashes))
    for req in study.cct:
        for base in _cct_bases(study, req, cases):
            for combo in combos:
                add(_cct_job(study, req, base, combo, hashes))
    return out


def _combos(study: Study) -> list[tuple]:
    axes = [[(s, v) for v in s.values] for s in study.sweeps]
    return [tuple(c) for c in itertools.product(*axes)] if axes else [()]


def _mod(s, v) -> Mod:
    column = s.column if s.parameter != "hvdc_power_order_mw" else (s.column or HVDC_ORDER_COLUMN)
    return Mod(s.parameter, float(v), s.table, s.id, column, s.p_dc_mw, s.angle_deg)


def _split(combo):
    ct = [v for s, v in combo if s.parameter == "clearing_time_s"]
    mods = tuple(_mod(s, v) for s, v in combo if s.parameter in CASE_SWEEPS)
    return (float(ct[0]) if ct else None), mods


@dataclass(frozen=True)
class _Base:
    """A scenario before the sweep: ``build(clearing_time_s)`` gives its events; ``fault`` is
    set when the clearing-time sweep applies."""

    kind: str
    case: str
    label: str
    params: tuple
    build: object
    fault: object = None
    options: tuple = ()


def _scenario(study, base: _Base, combo, hashes) -> StudyScenario:
    ct, mods = _split(combo)
    params, label = list(base.params), base.label
    if base.fault is not None:
        clear = ct if ct is not None else base.fault.clearing_time_s
        events = base.build(clear)
        params.append(("clearing_time_s", clear))
        label = f"{label}, cleared in {1000 * clear:g} ms"
    else:
        events = base.build(None)
    params += [(m.param, m.value) for m in mods]
    options = tuple(sorted({**dict(study.options), **dict(base.options)}.items()))
    sid = scenario_id(hashes[base.case], mods, events, options)
    return StudyScenario(sid, base.kind, label, base.case, mods, tuple(events), options, tuple(params))


def _bases(study, gen, cases):
    for label in gen.cases or tuple(cases):
        case = cases[label]
        if isinstance(gen, N1Branch):
            f = gen.fault
            for table, bid, fbus, tbus in _branches(case, gen.tables, gen.branches):
                for end in gen.ends:
                    bus = fbus if end == "from" else tbus
                    yield _Base("n1_branch", label, f"fault at bus {bus} ({end} end of {table} {bid}), trip {table} {bid}",
                                (("fault_bus", bus), ("fault_end", end), ("branch_table", table), ("branch_id", bid)),
                                _n1_events(bus, table, bid, f), f)
        elif isinstance(gen, BusFaults):
            f = gen.fault
            for bus in _buses(case, gen.min_kv, gen.buses):
                yield _Base("bus_fault", label, f"fault at bus {bus}", (("fault_bus", bus),),
                            (lambda ct, bus=bus: [BusFault(bus, f.t_on_s, f.t_on_s + ct, f.r_pu, f.x_pu)]), f)
        elif isinstance(gen, GenTrips):
            for g in _gens(case, gen.gens):
                yield _Base("gen_trip", label, f"trip generator {g}", (("gen_id", g),),
                            (lambda ct, g=g: [GenTrip(g, float(gen.t_s))]))
        elif isinstance(gen, Explicit):
            yield _Base("scenario", label, gen.name, (("name", gen.name),), (lambda ct: list(gen.events)),
                        options=gen.options)


def _n1_events(bus, table, bid, f):
    def build(ct):
        return [BusFault(bus, f.t_on_s, f.t_on_s + ct, f.r_pu, f.x_pu), BranchTrip(bid, f.t_on_s + ct, table)]
    return build


def _branches(case, tables, only):
    for table in tables:
        tab = case[table]
        for k in range(len(tab["id"])):
            bid = int(tab["id"][k])
            if tab["in_service"][k] and (only is None or bid in only):
                yield table, bid, int(tab["from_bus"][k]), int(tab["to_bus"][k])


def _buses(case, min_kv, only):
    bus = case["bus"]
    for k, b in enumerate(bus["id"].tolist()):
        if (only is None and bus["base_kv"][k] >= min_kv) or (only is not None and b in only):
            yield int(b)


def _gens(case, only):
    gen = case["generator"]
    for k, g in enumerate(gen["id"].tolist()):
        if gen["in_service"][k] and (only is None or g in only):
            yield int(g)


def _cct_bases(study, req: CctRequest, cases):
    for label in req.cases or tuple(cases):
        case = cases[label]
        if req.all_branches:
            for table, bid, fbus, tbus in _branches(case, req.tables, None):
                for end in req.ends:
                    yield label, (fbus if end == "from" else tbus), table, bid
        else:
            for bus in req.fault_buses:
                yield label, bus, req.trip_table, req.trip_branch


def _cct_job(study, req, base, combo, hashes) -> CctJob:
    label, bus, table, bid = base
    _, mods = _split(combo)
    options = tuple(sorted(dict(study.options).items()))
    doc = {"kind": "cct", "case": hashes[label], "mods": [m.canon() for m in mods], "fault_bus": int(bus),
           "trip_table": table if bid is not None else None, "trip_branch": bid, "t_on_s": float(req.t_on_s),
           "tol_s": float(req.tol_s), "max_clearing_s": float(req.max_clearing_s), "r_pu": float(req.r_pu),
           "x_pu": float(req.x_pu), "options": _options_dict(options)}
    text = f"CCT of a fault at bus {bus}" + (f", trip {table} {bid}" if bid is not None else ", no trip")
    params = [("fault_bus", int(bus)), ("branch_table", table if bid is not None else ""), ("branch_id", bid or 0)]
    params += [(m.param, m.value) for m in mods]
    return CctJob(content_id(doc), text, label, int(bus), table, bid, float(req.t_on_s), float(req.tol_s),
                  float(req.max_clearing_s), float(req.r_pu), float(req.x_pu), mods, options, tuple(params))


# ------------------------------------------------------------------ reference checks
def check_references(study: Study, cases: dict) -> None:
    """Raise ``StudyError`` naming every reference to a missing case, bus, branch or unit."""
    errs = []
    t_end = SimOptions(**dict(study.options)).t_end_s
    cts = [v for s in study.sweeps if s.parameter == "clearing_time_s" for v in s.values]
    for item in list(study.generators) + list(study.cct):
        for label in item.cases:
            if label not in cases:
                errs.append(f"{item.where}: cases = {list(item.cases)}: no case labelled {label!r} "
                            f"(cases: {', '.join(cases)})")
        for label in [c for c in (item.cases or tuple(cases)) if c in cases]:
            errs += [f"{item.where}: {m} in case {label!r}"
                     for m in _check_item(item, cases[label], t_end, cts, study.options)]
    for s in study.sweeps:
        if s.parameter in CASE_SWEEPS and s.parameter != "load_scale":
            for label, case in cases.items():
                for v in s.values:
                    errs += [f"{s.where}: {m} in case {label!r}" for m in check_mod(case, _mod(s, v))]
    if errs:
        raise StudyError(f"{study.source}: {len(errs)} problem(s):\n" + "\n".join(f"  - {e}" for e in errs))


def _ids(case, table):
    return set(case[table]["id"].tolist()) if table in case.tables else set()


def _check_item(item, case, t_end, cts, options) -> list[str]:
    errs = []
    if isinstance(item, N1Branch):
        if item.branches is not None:
            known = set().union(*(_ids(case, t) for t in item.tables))
            errs += [f"branches = {list(item.branches)}: branch {b} is not in table(s) {', '.join(item.tables)}"
                     for b in item.branches if b not in known]
    if isinstance(item, BusFaults) and item.buses is not None:
        errs += [f"buses = {list(item.buses)}: bus {b} does not exist" for b in item.buses if b not in _ids(case, "bus")]
    if isinstance(item, GenTrips):
        if item.gens is not None:
            errs += [f"gens = {list(item.gens)}: generator {g} does not exist"
                     for g in item.gens if g not in _ids(case, "generator")]
        if not 0 <= item.t_s <= t_end:
            errs.append(f"t_s = {item.t_s}: outside the run [0, {t_end}] s")
    if isinstance(item, (N1Branch, BusFaults)):
        for ct in set([item.fault.clearing_time_s] + cts):
            if item.fault.t_on_s + ct > t_end:
                errs.append(f"clearing at t_on_s + clearing_time_s = {item.fault.t_on_s} + {ct} s is after "
                            f"t_end_s = {t_end} s")
    if isinstance(item, Explicit):
        try:
            check_events(case, item.events, SimOptions(**{**dict(options), **dict(item.options)}).t_end_s)
        except ScenarioError as e:
            errs += [ln.strip(" -") for ln in str(e).splitlines()[1:]]
    if isinstance(item, CctRequest):
        errs += [f"fault_bus = {b}: bus {b} does not exist" for b in item.fault_buses if b not in _ids(case, "bus")]
        if item.trip_branch is not None and item.trip_branch not in _ids(case, item.trip_table):
            errs.append(f"trip_branch = {item.trip_branch}: {item.trip_table} {item.trip_branch} does not exist")
        if item.t_on_s + item.max_clearing_s > t_end:
            errs.append(f"t_on_s + max_clearing_s = {item.t_on_s} + {item.max_clearing_s} s is after "
                        f"t_end_s = {t_end} s")
    return errs


def shard(items: list, index: int, count: int) -> list:
    """The ``index``-th (1-based) of ``count`` disjoint round-robin slices."""
    return [it for k, it in enumerate(items) if k % count == index - 1]


def param_columns(items) -> list[str]:
    """Union of the items' parameter names in first-seen order."""
    cols = {}
    for it in items:
        for k, _ in it.params:
            cols.setdefault(k, None)
    return list(cols)

