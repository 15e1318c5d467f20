"""Events: small frozen, picklable dataclasses, and how each changes the compiled system.

Each event expands into one or more ``Action``s at exact times; the driver cuts the
integration at every action time, applies it, re-solves the algebraic variables at t+ and
takes a backward-Euler step.  Element references are case ids; they are checked against the
case before anything runs (``check_events``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casa_dyn.errors import ScenarioError

BOLTED_X_PU = 1e-5  # reactance used for a fault given with zero impedance


@dataclass(frozen=True)
class BusFault:
    """Three-phase fault at a bus through r + jx (pu, system base); cleared at ``t_off_s``
    (None = never)."""

    bus: int
    t_on_s: float
    t_off_s: float | None = None
    r_pu: float = 0.0
    x_pu: float = 0.0


@dataclass(frozen=True)
class BranchTrip:
    """Open a line or transformer (``table`` = "line" or "transformer") at ``t_s``;
    reclose at ``t_reclose_s`` if given."""

    branch: int
    t_s: float
    table: str = "line"
    t_reclose_s: float | None = None


@dataclass(frozen=True)
class GenTrip:
    """Disconnect a generating unit (its current injection goes to zero; states freeze)."""

    gen: int
    t_s: float


@dataclass(frozen=True)
class LoadChange:
    """Scale a load to ``scale`` times its initial value (0 = shed, 1.1 = +10 % step)."""

    load: int
    t_s: float
    scale: float


@dataclass(frozen=True)
class SetpointChange:
    """Add ``delta`` to a unit's voltage reference ("vref", pu) or power reference
    ("pref", pu on the machine base) at ``t_s``."""

    gen: int
    t_s: float
    signal: str
    delta: float


@dataclass(frozen=True)
class ShuntTrip:
    """Disconnect a fixed shunt (filter bank, capacitor, reactor) at ``t_s``; reconnect at
    ``t_reclose_s`` if given (e.g. an HVDC station's filters switched off after a block)."""

    shunt: int
    t_s: float
    t_reclose_s: float | None = None


from casa_dyn.solver import hvdc_events as _hvdc  # noqa: E402
from casa_dyn.solver.hvdc_events import (  # noqa: E402,F401  (re-exported event types)
    DcLineFault, ForcedCommutationFailure, PoleBlock, PowerOrderChange,
)

EVENT_TYPES = (BusFault, BranchTrip, GenTrip, LoadChange, SetpointChange, ShuntTrip) + _hvdc.HVDC_EVENT_TYPES


@dataclass(frozen=True)
class Action:
    t_s: float
    kind: str
    event: object


def actions(events) -> list[Action]:
    out = []
    for e in events:
        if isinstance(e, BusFault):
            out.append(Action(e.t_on_s, "fault_on", e))
            if e.t_off_s is not None:
                out.append(Action(e.t_off_s, "fault_off", e))
        elif isinstance(e, BranchTrip):
            out.append(Action(e.t_s, "branch_open", e))
            if e.t_reclose_s is not None:
                out.append(Action(e.t_reclose_s, "branch_close", e))
        elif isinstance(e, GenTrip):
            out.append(Action(e.t_s, "gen_trip", e))
        elif isinstance(e, LoadChange):
            out.append(Action(e.t_s, "load_scale", e))
        elif isinstance(e, SetpointChange):
            out.append(Action(e.t_s, "setpoint", e))
        elif isinstance(e, ShuntTrip):
            out.append(Action(e.t_s, "shunt_open", e))
            if e.t_reclose_s is not None:
                out.append(Action(e.t_reclose_s, "shunt_close", e))
        elif isinstance(e, _hvdc.HVDC_EVENT_TYPES):
            out += [Action(t, kind, e) for t, kind in _hvdc.actions(e)]
        else:
            raise ScenarioError(f"unknown event type {type(e).__name__}")
    return sorted(out, key=lambda a: a.t_s)


def check_events(case, events, t_end_s: float) -> None:
    """Raise ``ScenarioError`` naming every event that does not fit the case."""
    errs = []
    ids = {t: set(case[t]["id"].tolist()) for t in ("bus", "line", "transformer", "generator", "load", "shunt")}
    for k, e in enumerate(events):
        label = f"event {k + 1} ({type(e).__name__})"
        times = [getattr(e, a) for a in ("t_s", "t_on_s", "t_off_s", "t_reclose_s", "t_deblock_s") if getattr(e, a, None) is not None]
        for tv in times:
            if not (0.0 <= tv <= t_end_s):
                errs.append(f"{label}: time {tv} s outside the run [0, {t_end_s}] s")
        if isinstance(e, BusFault):
            if e.bus not in ids["bus"]:
                errs.append(f"{label}: bus {e.bus} does not exist")
            if e.t_off_s is not None and e.t_off_s <= e.t_on_s:
                errs.append(f"{label}: clearing time {e.t_off_s} s is not after the fault {e.t_on_s} s")
            if e.r_pu < 0 or e.x_pu < 0:
                errs.append(f"{label}: fault impedance must be non-negative")
        elif isinstance(e, BranchTrip):
            if e.table not in ("line", "transformer"):
                errs.append(f"{label}: table must be 'line' or 'transformer', not {e.table!r}")
            elif e.branch not in ids[e.table]:
                errs.append(f"{label}: {e.table} {e.branch} does not exist")
        elif isinstance(e, GenTrip):
            if e.gen not in ids["generator"]:
                errs.append(f"{label}: generator {e.gen} does not exist")
        elif isinstance(e, LoadChange):
            if e.load not in ids["load"]:
                errs.append(f"{label}: load {e.load} does not exist")
            if e.scale < 0:
                errs.append(f"{label}: scale must be >= 0")
        elif isinstance(e, SetpointChange):
            if e.gen not in ids["generator"]:
                errs.append(f"{label}: generator {e.gen} does not exist")
            if e.signal not in ("vref", "pref"):
                errs.append(f"{label}: signal must be 'vref' or 'pref', not {e.signal!r}")
        elif isinstance(e, ShuntTrip):
            if e.shunt not in ids["shunt"]:
                errs.append(f"{label}: shunt {e.shunt} does not exist")
            elif case["shunt"]["in_service"][case["shunt"]["id"] == e.shunt][0] != 1:
                errs.append(f"{label}: shunt {e.shunt} is out of service")
            if e.t_reclose_s is not None and e.t_reclose_s <= e.t_s:
                errs.append(f"{label}: reclosing time {e.t_reclose_s} s is not after the trip {e.t_s} s")
        elif isinstance(e, _hvdc.HVDC_EVENT_TYPES):
            errs += _hvdc.check(case, e, label)
    if errs:
        raise ScenarioError("invalid events:\n" + "\n".join(f"  - {m}" for m in errs))


# ------------------------------------------------------------------ applying actions
def apply(sysm, state, action: Action) -> None:
    """Change the compiled system's arrays for one action.  ``state`` is the run's
    ``RunState`` (branch status, machines online for the synchronism check)."""
    e = action.event
    if action.kind in ("fault_on", "fault_off"):
        k = sysm.ydiag[_bus_pos(sysm, e.bus)]
        x = e.x_pu if (e.r_pu > 0 or e.x_pu > 0) else BOLTED_X_PU
        y = 1.0 / complex(e.r_pu, x)
        sign = 1.0 if action.kind == "fault_on" else -1.0
        sysm.yg[k] += sign * y.real
        sysm.yb[k] += sign * y.imag
    elif action.kind in ("branch_open", "branch_close"):
        br = sysm.branches
        tcode = 0 if e.table == "line" else 1
        k = int(np.flatnonzero((br.table == tcode) & (br.ids == e.branch))[0])
        want_on = action.kind == "branch_close"
        if bool(state.branch_on[k]) == want_on:
            return
        sign = 1.0 if want_on else -1.0
        for m, y in enumerate((br.yff[k], br.yft[k], br.ytf[k], br.ytt[k])):
            sysm.yg[sysm.branch_ypos[k, m]] += sign * y.real
            sysm.yb[sysm.branch_ypos[k, m]] += sign * y.imag
        state.branch_on[k] = want_on
    elif action.kind == "gen_trip":
        u = _unit_of(sysm, e.gen)
        if u is None:
            _scale_loads(sysm, -e.gen, 0.0)  # generator without a machine model
            return
        for f in sysm.families:
            if f.spec.family == "generator" and f.n:
                rows = np.flatnonzero(f.unit == u)
                f.p[rows, f.pcol("online")] = 0.0
        state.sync.online[u] = False
    elif action.kind == "load_scale":
        _scale_loads(sysm, e.load, e.scale)
    elif action.kind == "setpoint":
        _setpoint(sysm, e)
    elif action.kind in ("shunt_open", "shunt_close"):
        sh = sysm.case["shunt"]
        r = int(np.flatnonzero(sh["id"] == e.shunt)[0])
        k = sysm.ydiag[_bus_pos(sysm, int(sh["bus"][r]))]
        sign = -1.0 if action.kind == "shunt_open" else 1.0   # admittance g + jb = (P + jQ) / base
        sysm.yg[k] += sign * sh["g_mw"][r] / sysm.case.base_mva
        sysm.yb[k] += sign * sh["b_mvar"][r] / sysm.case.base_mva
    elif action.kind.startswith("hvdc_"):
        _hvdc.apply(sysm, action.kind, e, action.t_s)


def _bus_pos(sysm, bus_id):
    return int(np.flatnonzero(sysm.case["bus"]["id"] == bus_id)[0])


def _unit_of(sysm, gen_id):
    rows = np.flatnonzero(sysm.case["generator"]["id"][sysm.unit_gen_row] == gen_id)
    return int(rows[0]) if len(rows) else None


def _scale_loads(sysm, load_id, scale):
    f = sysm.family("zip")
    rows = np.flatnonzero(f.ids == load_id)
    f.p[rows, f.pcol("scale")] = scale


def _setpoint(sysm, e: SetpointChange):
    u = _unit_of(sysm, e.gen)
    if u is None:
        raise ScenarioError(f"generator {e.gen} has no dynamic model; cannot change its {e.signal}")
    target = {"vref": "exciter", "pref": "governor"}[e.signal]
    for f in sysm.families:
        if f.spec.family == target and f.n and e.signal in f.spec.extra + f.spec.params:
            rows = np.flatnonzero(f.unit == u)
            if len(rows):
                f.p[rows, f.pcol(e.signal)] += e.delta
                return
    # no controller: move the constant signal (efd for vref, pm for pref)
    sig = sysm.family("signal")
    name = {"vref": "efd", "pref": "pm"}[e.signal]
    for k, (uu, v) in enumerate(sig.meta):
        if uu == u and v == name:
            sig.p[k, 0] += e.delta
            return
    raise ScenarioError(f"generator {e.gen}: no {target} and no {name} signal to change")
