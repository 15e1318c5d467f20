"""AC power flow: full Newton-Raphson in polar coordinates on sparse matrices.

Model (the conventions of PSS/E and MATPOWER; equations in ``casa_dyn.network._newton``):

* Bus roles.  A slack bus (type 3) holds magnitude and angle; a PV bus is a type-2 bus with at
  least one in-service generator and holds its magnitude; every other non-isolated bus is PQ,
  including a type-2 bus whose generators are all out of service.  Isolated buses (type 4) and
  branches touching them are left out; their voltage is reported as 0.
* Set-points.  A PV or slack bus holds the ``vm_set_pu`` of its first in-service generator (in
  table order); the slack angle is the slack bus's ``va_deg``.
* Injections.  Loads are constant P/Q here (their ZIP columns matter for dynamics only); fixed
  shunts are constant admittance inside Y-bus.  Generators at PQ buses inject their fixed
  ``p_mw``/``q_mvar``; generators at PV buses their ``p_mw``; the slack's ``p_mw`` is ignored.
* Reactive limits (``enforce_q_limits``).  The limits of all in-service generators of a PV bus
  are summed.  After each converged Newton solve, every PV bus outside its summed range becomes
  PQ with its generators at that limit; a bus held at its upper limit whose voltage has risen
  above the set-point (or at its lower limit and below the set-point) returns to PV.  All
  switches of a pass happen together, and a bus may return to PV at most ``MAX_RETURNS_TO_PV``
  times, which bounds the number of passes.  The slack bus's limits are not enforced.
* Sharing among generators of one bus.  Reactive power: each generator sits at the same
  fraction of its own range, ``q_g = qmin_g + (Q_bus - Qmin_bus) (qmax_g - qmin_g) /
  (Qmax_bus - Qmin_bus)`` (equal shares if the summed range is zero); at a limit every unit is
  at its own limit.  Slack active power is shared in proportion to ``mbase_mva``.
* Islands.  Each AC island (``casa_dyn.case.validate.islands``) needs exactly one slack bus
  with an in-service generator; islands are solved together in one sparse system, which
  decouples by itself.
* Counting.  ``iterations`` is the number of Newton steps over all reactive-limit passes;
  ``max_iter`` bounds each pass.  ``max_mismatch_pu`` is over the P rows of non-slack buses
  and the Q rows of PQ buses.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from casa_dyn.case.case import Case
from casa_dyn.case.tables import ISOLATED, PQ, PV, SLACK
from casa_dyn.case.validate import check_case, check_topology, islands
from casa_dyn.errors import CaseError, PowerFlowError
from casa_dyn.linalg.backend import get_backend
from casa_dyn.network._newton import NewtonOutcome, jacobian_pattern, newton
from casa_dyn.network.ybus import Branches, branches, build_ybus, positions

#: maximum number of Newton solves while generators switch at reactive limits
MAX_Q_PASSES = 30
#: a bus at a reactive limit may return to PV this often before it stays at the limit
MAX_RETURNS_TO_PV = 3
#: reactive-limit violations and set-point crossings smaller than this are ignored (pu)
Q_LIMIT_TOL_PU = 1e-6
V_SETPOINT_TOL_PU = 1e-6


@dataclass(frozen=True)
class PowerFlowOptions:
    tol_pu: float = 1e-8          # max |mismatch| in pu on system base
    max_iter: int = 30            # Newton iterations per solve (per reactive-limit pass)
    enforce_q_limits: bool = True
    flat_start: bool = False
    backend: str = "auto"         # sparse LU: auto | klu | superlu

    def __post_init__(self):
        if not (self.tol_pu > 0 and np.isfinite(self.tol_pu)):
            raise PowerFlowError(f"option tol_pu must be a positive number, got {self.tol_pu}")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise PowerFlowError(f"option max_iter must be a positive integer, got {self.max_iter}")


@dataclass
class PowerFlowResult:
    converged: bool
    iterations: int
    max_mismatch_pu: float
    worst_bus_id: int
    message: str
    vm_pu: np.ndarray
    va_deg: np.ndarray
    bus_type: np.ndarray
    gen_p_mw: np.ndarray
    gen_q_mvar: np.ndarray
    branch_p_from_mw: np.ndarray
    branch_q_from_mvar: np.ndarray
    branch_p_to_mw: np.ndarray
    branch_q_to_mvar: np.ndarray
    losses_mw: float
    losses_mvar: float
    #: HVDC part (``casa_dyn.network.dc.dcflow.DcResult``) when the case has converters
    dc: object = None

    def v_complex(self) -> np.ndarray:
        """Complex bus voltages (pu), case["bus"] order."""
        return self.vm_pu * np.exp(1j * np.deg2rad(self.va_deg))

    def to_dict(self, case: Case) -> dict:
        """Plain JSON-able summary (element ids from ``case``)."""
        bus, gen = case["bus"], case["generator"]
        tables = ["line"] * case.n("line") + ["transformer"] * case.n("transformer")
        br = {k: np.concatenate([case["line"][k], case["transformer"][k]])
              for k in ("id", "from_bus", "to_bus")}
        return {
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "max_mismatch_pu": float(self.max_mismatch_pu),
            "message": self.message,
            "buses": [{"id": int(i), "vm_pu": float(v), "va_deg": float(a)}
                      for i, v, a in zip(bus["id"], self.vm_pu, self.va_deg)],
            "generators": [{"id": int(i), "bus": int(b), "p_mw": float(p), "q_mvar": float(q)}
                           for i, b, p, q in zip(gen["id"], gen["bus"], self.gen_p_mw,
                                                 self.gen_q_mvar)],
            "branches": [{"table": t, "id": int(i), "from_bus": int(f), "to_bus": int(b),
                          "p_from_mw": float(pf), "q_from_mvar": float(qf),
                          "p_to_mw": float(pt), "q_to_mvar": float(qt)}
                         for t, i, f, b, pf, qf, pt, qt in zip(
                             tables, br["id"], br["from_bus"], br["to_bus"],
                             self.branch_p_from_mw, self.branch_q_from_mvar,
                             self.branch_p_to_mw, self.branch_q_to_mvar)],
            "losses_mw": float(self.losses_mw),
            "losses_mvar": float(self.losses_mvar),
        } | ({"dc": self.dc.to_dict()} if self.dc is not None else {})


# ---------------------------------------------------------------------------- network data
@dataclass(frozen=True)
class _Network:
    """Everything the Newton passes need, per bus in pu, fixed for one case."""

    bus_ids: np.ndarray
    base_mva: float
    labels: np.ndarray      # island per bus, -1 isolated
    active: np.ndarray      # not isolated
    slack: np.ndarray
    ctrl: np.ndarray        # voltage-controlled: slack or PV-capable
    br: Branches            # ``on`` also false for branches touching isolated buses
    p_spec: np.ndarray      # scheduled net P (generation except slack, minus load)
    q_fixed: np.ndarray     # fixed generator Q minus load Q
    p_load: np.ndarray
    q_load: np.ndarray
    q_min: np.ndarray       # summed limits of the generators of controlled buses
    q_max: np.ndarray
    vm_set: np.ndarray
    va_set: np.ndarray      # slack angle (rad), per bus through its island
    gpos: np.ndarray        # generator -> bus position
    g_on: np.ndarray        # in service and at a non-isolated bus


def _bus_sum(pos, values, mask, nb):
    return np.bincount(pos[mask], weights=values[mask], minlength=nb).astype(float)


def _prepare(case: Case) -> _Network:
    bus, gen, load = case["bus"], case["generator"], case["load"]
    nb, base = case.n("bus"), float(case.base_mva)
    labels, n_isl = islands(case)
    active = labels >= 0
    br = branches(case)
    br = replace(br, on=br.on & active[br.f] & active[br.t])
    gpos = positions(case, gen["bus"])
    g_on = (gen["in_service"] == 1) & active[gpos]
    has_gen = _bus_sum(gpos, np.ones(len(gpos)), g_on, nb) > 0
    btype = bus["type"]
    slack = active & (btype == SLACK)
    ctrl = active & has_gen & ((btype == PV) | (btype == SLACK))
    _check_islands(case, labels, n_isl, slack, has_gen)
    g_ctrl = g_on & ctrl[gpos]
    g_fixed = g_on & ~ctrl[gpos]
    lpos = positions(case, load["bus"])
    l_on = (load["in_service"] == 1) & active[lpos]
    p_load = _bus_sum(lpos, load["p_mw"], l_on, nb) / base
    q_load = _bus_sum(lpos, load["q_mvar"], l_on, nb) / base
    p_gen = _bus_sum(gpos, gen["p_mw"], g_on & ~slack[gpos], nb) / base
    q_gen = _bus_sum(gpos, gen["q_mvar"], g_fixed, nb) / base
    # first in-service controlling generator of each bus gives the set-point
    rows = np.flatnonzero(g_ctrl)
    first_bus, first = np.unique(gpos[rows], return_index=True)
    vm_set = np.ones(nb)
    vm_set[first_bus] = gen["vm_set_pu"][rows[first]]
    va_isl = np.zeros(max(n_isl, 1))
    va_isl[labels[slack]] = np.deg2rad(bus["va_deg"][slack])
    return _Network(
        bus_ids=bus["id"].astype(np.int64), base_mva=base, labels=labels, active=active,
        slack=slack, ctrl=ctrl, br=br, p_spec=p_gen - p_load, q_fixed=q_gen - q_load,
        p_load=p_load, q_load=q_load,
        q_min=_bus_sum(gpos, gen["q_min_mvar"], g_ctrl, nb) / base,
        q_max=_bus_sum(gpos, gen["q_max_mvar"], g_ctrl, nb) / base,
        vm_set=vm_set, va_set=np.where(active, va_isl[np.maximum(labels, 0)], 0.0),
        gpos=gpos, g_on=g_on)


def _check_islands(case, labels, n_isl, slack, has_gen):
    """Every island needs exactly one slack bus, and it needs a generator: a vectorised test,
    with the validator's detailed messages when it fails."""
    on = labels >= 0
    n_slack = np.bincount(labels[slack], minlength=n_isl)
    if np.all(n_slack == 1) and np.all(has_gen[slack]) and (n_isl > 0 or not on.any()):
        return
    problems = check_topology(case)
    if problems:
        raise CaseError(problems)
    raise PowerFlowError("every AC island needs one slack bus with an in-service generator")


def _raise_case_problems(case: Case) -> None:
    """Raise ``CaseError`` with the validator's located problems, if it finds any."""
    problems = check_case(case)
    if problems:
        raise CaseError(problems)


def _initial_state(net: _Network, case: Case, flat: bool):
    bus = case["bus"]
    if flat:
        vm, va = np.ones(len(net.bus_ids)), net.va_set.copy()
    else:
        vm, va = bus["vm_pu"].astype(float).copy(), np.deg2rad(bus["va_deg"])
    vm = np.where(net.ctrl, net.vm_set, vm)
    va = np.where(net.slack, net.va_set, va)
    # isolated buses are carried as 1 pu, 0 rad with identity rows and reported as 0
    return np.where(net.active, vm, 1.0), np.where(net.active, va, 0.0)


# ---------------------------------------------------------------------------- solve
def solve_power_flow(case: Case, options: PowerFlowOptions | None = None,
                     raise_on_failure: bool = True) -> PowerFlowResult:
    """Solve the AC power flow of ``case``.

    Raises ``PowerFlowError`` (with the partial result as ``.result``) when it does not
    converge, unless ``raise_on_failure`` is False; then the result has ``converged=False``.
    """
    options = options or PowerFlowOptions()
    lu = get_backend(options.backend)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # zero impedances: reported below
            net = _prepare(case)
            ybus = build_ybus(case, net.br)
    except (KeyError, IndexError, ZeroDivisionError, FloatingPointError):
        _raise_case_problems(case)  # dangling references and the like: say where
        raise
    if not np.all(np.isfinite(ybus.data)):
        _raise_case_problems(case)
        raise PowerFlowError("the bus admittance matrix has non-finite entries")
    pat = jacobian_pattern(ybus)
    dc = _dc_coupling(case, net)  # None without in-service HVDC converters
    vm, va = _initial_state(net, case, options.flat_start)
    pv = net.ctrl & ~net.slack
    at_limit = np.zeros(len(pv), dtype=np.int8)   # +1 held at Q max, -1 at Q min
    returns = np.zeros(len(pv), dtype=np.int64)
    total = 0
    for _ in range(MAX_Q_PASSES):
        q_lim = np.where(at_limit > 0, net.q_max, np.where(at_limit < 0, net.q_min, 0.0))
        vm = np.where(pv, net.vm_set, vm)
        out = newton(pat, lu, vm, va, net.p_spec, net.q_fixed + q_lim,
                     net.active & ~net.slack, net.active & ~net.slack & ~pv,
                     options.tol_pu, int(options.max_iter), net.bus_ids,
                     injection=None if dc is None else dc.injection)
        total += out.iterations
        if not out.converged:
            break
        vm, va = out.vm, out.va
        switched = options.enforce_q_limits and _switch_at_q_limits(net, out, pv, at_limit,
                                                                    returns)
        dc_changed = dc is not None and dc.settle(out.vm)  # HVDC taps and mode switches
        if not (switched or dc_changed):
            break
    else:
        out.status = "limits"
        out.detail = (f"reactive limits or HVDC controls did not settle after {MAX_Q_PASSES} "
                      f"passes (generator buses keep switching between PV and PQ, or "
                      f"converter taps keep moving)")
    result = _result(case, net, out, pv, at_limit, total)
    if dc is not None and result.converged:
        result.dc = dc.result(out.vm)  # raises PowerFlowError without a DC operating point
    if not result.converged and raise_on_failure:
        err = PowerFlowError(result.message)
        err.result = result
        raise err
    return result


def _dc_coupling(case: Case, net: _Network):
    """The HVDC converters as voltage-dependent injections (``casa_dyn.network.dc``)."""
    from casa_dyn.network.dc.dcflow import has_dc

    if not has_dc(case):
        return None
    from casa_dyn.network.dc.coupling import DcCoupling

    return DcCoupling(case, lambda ids: positions(case, ids), len(net.bus_ids), net.base_mva)


def _switch_at_q_limits(net, out: NewtonOutcome, pv, at_limit, returns) -> bool:
    """Apply PV -> PQ and PQ -> PV switches in place; True if anything changed."""
    q_gen = out.s_calc.imag + net.q_load
    over = pv & (q_gen > net.q_max + Q_LIMIT_TOL_PU)
    under = pv & (q_gen < net.q_min - Q_LIMIT_TOL_PU)
    back = (returns < MAX_RETURNS_TO_PV) & (
        ((at_limit > 0) & (out.vm > net.vm_set + V_SETPOINT_TOL_PU))
        | ((at_limit < 0) & (out.vm < net.vm_set - V_SETPOINT_TOL_PU)))
    if not (over.any() or under.any() or back.any()):
        return False
    at_limit[over], at_limit[under] = 1, -1
    pv[over | under] = False
    at_limit[back] = 0
    pv[back] = True
    returns[back] += 1
    return True


# ---------------------------------------------------------------------------- results
def _result(case, net: _Network, out: NewtonOutcome, pv, at_limit, iterations) -> PowerFlowResult:
    base = net.base_mva
    v = np.where(net.active, out.vm * np.exp(1j * out.va), 0.0)
    gen_p, gen_q = _generator_outputs(case, net, out.s_calc)
    pf, qf, pt, qt = _branch_flows(net.br, v, base)
    btype = np.full(len(v), PQ, dtype=np.int64)
    btype[pv] = PV
    btype[net.slack] = SLACK
    btype[~net.active] = ISOLATED
    worst_id = int(net.bus_ids[out.worst_bus]) if len(net.bus_ids) else 0
    unit = "MW" if out.worst_kind == "P" else "Mvar"
    where = f"largest mismatch {out.max_mismatch_pu * base:.4g} {unit} at bus {worst_id}"
    n_lim = int(np.count_nonzero(at_limit))
    if out.converged:
        msg = f"converged in {iterations} iterations, {where}"
        if n_lim:
            msg += f"; {n_lim} generator bus(es) held at reactive limits"
    else:
        reason = out.detail or "no convergence within max_iter"
        msg = (f"power flow did not converge after {iterations} iterations ({reason}); {where}")
    return PowerFlowResult(
        converged=out.converged, iterations=int(iterations),
        max_mismatch_pu=float(out.max_mismatch_pu), worst_bus_id=worst_id, message=msg,
        vm_pu=np.abs(v), va_deg=np.where(net.active, np.rad2deg(out.va), 0.0), bus_type=btype,
        gen_p_mw=gen_p, gen_q_mvar=gen_q,
        branch_p_from_mw=pf, branch_q_from_mvar=qf, branch_p_to_mw=pt, branch_q_to_mvar=qt,
        losses_mw=float(pf.sum() + pt.sum()), losses_mvar=float(qf.sum() + qt.sum()))


def _generator_outputs(case, net: _Network, s_calc):
    """Per-generator P and Q (MW, Mvar) by the sharing rules of the module docstring."""
    gen, base, nb = case["generator"], net.base_mva, len(net.bus_ids)
    gpos, on = net.gpos, net.g_on
    ctrl = on & net.ctrl[gpos]
    at_slack = on & net.slack[gpos]
    p = np.where(on, gen["p_mw"], 0.0).astype(float)
    q = np.where(on & ~ctrl, gen["q_mvar"], 0.0).astype(float)
    # slack active power in proportion to mbase
    p_bus = (s_calc.real + net.p_load) * base
    mb_bus = _bus_sum(gpos, gen["mbase_mva"], at_slack, nb)
    p[at_slack] = p_bus[gpos[at_slack]] * gen["mbase_mva"][at_slack] / mb_bus[gpos[at_slack]]
    # reactive power at controlled buses: same fraction of each unit's range
    q_bus = (s_calc.imag + net.q_load) * base
    rng = gen["q_max_mvar"] - gen["q_min_mvar"]
    rng_bus = _bus_sum(gpos, rng, ctrl, nb)
    cnt_bus = _bus_sum(gpos, np.ones(len(gpos)), ctrl, nb)
    k = gpos[ctrl]
    wide = rng_bus[k] > 1e-9
    share = np.where(wide, rng[ctrl] / np.where(wide, rng_bus[k], 1.0), 1.0 / cnt_bus[k])
    q_min_share = np.where(wide, gen["q_min_mvar"][ctrl], 0.0)
    q_min_sum = np.where(wide, net.q_min[k] * base, 0.0)
    q[ctrl] = q_min_share + (q_bus[k] - q_min_sum) * share
    return p, q


def _branch_flows(br: Branches, v, base):
    vf, vt = v[br.f], v[br.t]
    on = br.on
    sf = np.where(on, vf * np.conj(br.yff * vf + br.yft * vt), 0.0) * base
    st = np.where(on, vt * np.conj(br.ytf * vf + br.ytt * vt), 0.0) * base
    return sf.real, sf.imag, st.real, st.imag
