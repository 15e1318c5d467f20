"""Critical clearing time by bisection on a grid of the tolerance.

A three-phase fault at ``fault_bus`` starts at ``t_on_s`` and is cleared after ``k * tol_s``
(by tripping ``trip`` at the same instant, or by removing the fault alone).  A run is stable
when it completes without loss of synchronism (the solver's criterion: a rotor angle more than
``options.loss_of_sync_deg`` from the centre of inertia); a run that fails numerically counts
as unstable and is reported.  The search first brackets (doubling up from ``first_guess_s``, or
halving down), then bisects on integers until the stable and unstable clearing times are one
grid step apart.  Working on the integer grid makes the answer a multiple of the tolerance
and the same on every machine and run: CCT = the largest clearing time shown stable.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from casa_dyn.errors import ScenarioError
from casa_dyn.solver.events import BranchTrip, BusFault
from casa_dyn.solver.options import SimOptions

FOUND, STABLE_AT_MAX, UNSTABLE_AT_MIN = "found", "stable_at_max", "unstable_at_min"


@dataclass(frozen=True)
class CctResult:
    status: str                    # found | stable_at_max | unstable_at_min
    cct_s: float | None            # largest clearing time shown stable
    stable_s: float | None
    unstable_s: float | None       # smallest clearing time shown unstable
    tol_s: float
    runs: tuple                    # (clearing time s, status, t_stop_s) in the order run
    message: str

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["runs"] = [list(r) for r in self.runs]
        return d


def fault_events(fault_bus: int, clearing_s: float, t_on_s: float = 1.0, trip=None, r_pu=0.0, x_pu=0.0) -> list:
    """Fault at ``t_on_s`` cleared ``clearing_s`` later, tripping ``trip`` = (table, id) if given."""
    t_off = t_on_s + clearing_s
    ev = [BusFault(int(fault_bus), float(t_on_s), float(t_off), float(r_pu), float(x_pu))]
    if trip is not None:
        ev.append(BranchTrip(int(trip[1]), float(t_off), trip[0]))
    return ev


def find_cct(case, fault_bus: int, trip=None, *, t_on_s: float = 1.0, tol_s: float = 1e-3,
             max_clearing_s: float = 1.0, first_guess_s: float = 0.2, options: SimOptions | None = None,
             r_pu: float = 0.0, x_pu: float = 0.0, pf=None) -> CctResult:
    """Bisect the clearing time of one fault (see the module docstring)."""
    from casa_dyn.network.powerflow import solve_power_flow
    from casa_dyn.solver.simulate import simulate

    opts = options or SimOptions(t_end_s=t_on_s + max_clearing_s + 3.0)
    if opts.loss_of_sync_deg <= 0:
        raise ScenarioError("a CCT search needs loss_of_sync_deg > 0 (the instability criterion)")
    if not tol_s > 0 or not max_clearing_s >= tol_s:
        raise ScenarioError(f"CCT search: need 0 < tol_s ({tol_s}) <= max_clearing_s ({max_clearing_s})")
    if t_on_s + max_clearing_s > opts.t_end_s:
        raise ScenarioError(f"CCT search: t_on_s + max_clearing_s = {t_on_s + max_clearing_s} s is after "
                            f"t_end_s = {opts.t_end_s} s")
    pf = pf if pf is not None else solve_power_flow(case)
    k_max = int(round(max_clearing_s / tol_s))
    runs, verdict = [], {}

    def stable(k: int) -> bool:
        if k not in verdict:
            tc = k * tol_s
            res = simulate(case, fault_events(fault_bus, tc, t_on_s, trip, r_pu, x_pu), opts, pf=pf)
            runs.append((tc, res.status, float(res.t_stop_s)))
            verdict[k] = res.status == "completed"
        return verdict[k]

    lo, hi = _bracket(stable, max(1, min(k_max, int(round(first_guess_s / tol_s)))), k_max)
    failed = sum(1 for r in runs if r[1] == "failed")
    note = f"; {failed} run(s) failed numerically and count as unstable" if failed else ""
    if lo is None:
        return CctResult(UNSTABLE_AT_MIN, None, None, tol_s, tol_s, tuple(runs),
                         f"unstable even when cleared after {tol_s * 1000:g} ms{note}")
    if hi is None:
        return CctResult(STABLE_AT_MAX, None, lo * tol_s, None, tol_s, tuple(runs),
                         f"stable up to the largest clearing time tried, {lo * tol_s * 1000:g} ms{note}")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if stable(mid):
            lo = mid
        else:
            hi = mid
    return CctResult(FOUND, lo * tol_s, lo * tol_s, hi * tol_s, tol_s, tuple(runs),
                     f"CCT = {lo * tol_s * 1000:g} ms: stable at {lo * tol_s * 1000:g} ms, unstable at "
                     f"{hi * tol_s * 1000:g} ms ({len(runs)} simulations){note}")


def _bracket(stable, k0: int, k_max: int):
    """(largest known stable k or None, smallest known unstable k or None)."""
    k = k0
    if stable(k):
        while k < k_max:
            nxt = min(2 * k, k_max)
            if not stable(nxt):
                return k, nxt
            k = nxt
        return k, None
    hi = k
    while k > 1:
        k = max(1, k // 2)
        if stable(k):
            return k, hi
        hi = k
    return None, hi
