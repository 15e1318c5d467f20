"""The DC system as seen by the AC power flow: voltage-dependent injections at the converter
buses, and the discrete control updates between AC solves.

Within a Newton solve the DC controls (taps, modes) are fixed and every converter's P and Q
are smooth functions of the AC voltage magnitudes; ``injection`` re-solves the DC system at
each Newton iterate, so the mismatch is exact.  Its derivatives enter the Jacobian only on
each converter bus's own diagonal (dP_i/dV_i, dQ_i/dV_i, one-sided finite differences); the
coupling between the two ends of a link through the DC network is left out of the Jacobian,
which makes the iteration a quasi-Newton one but does not change its solution.  The AC/DC
outer loop (``solve_power_flow``) then calls ``settle`` at each converged AC point until no
tap moves and no mode switches.  This self-sensitivity matters: with SCR 2.5 a plain
sequential AC-then-DC iteration has a loop gain above one (dQ/dV of a converter is about
2.4 P per pu, the short-circuit power only 2.5 P) and does not converge.
"""
from __future__ import annotations

import numpy as np

from casa_dyn.network.dc import controls as C
from casa_dyn.network.dc import dcflow as D


class DcCoupling:
    """Mutable per-solve state of the DC system (created inside ``solve_power_flow``)."""

    def __init__(self, case, bus_pos, n_bus: int, base_mva: float, exact_pf: bool = True):
        self.data = D.prepare(case, bus_pos)
        self.state = D.initial_state(self.data)
        self.n_bus, self.base, self.exact_pf = n_bus, float(base_mva), exact_pf
        self.buses = np.unique(self.data.bus_pos[self.data.on])
        self.changes: list[str] = []

    def _point(self, vm):
        return D.solve(self.data, self.state, vm[self.data.bus_pos], self.exact_pf)

    def _bus_injection(self, pt):
        on = self.data.on
        pos = self.data.bus_pos[on]
        p = np.bincount(pos, weights=(-self.data.d * pt.p_mw)[on], minlength=self.n_bus)
        q = np.bincount(pos, weights=-pt.q_mvar[on], minlength=self.n_bus)
        return p / self.base, q / self.base

    def injection(self, vm, va):
        """``(p, q, dp_dvm, dq_dvm)`` per bus, pu on the system base, injected into the bus."""
        p, q = self._bus_injection(self._point(vm))
        dp, dq = np.zeros(self.n_bus), np.zeros(self.n_bus)
        for b in self.buses:
            h = D.FD_REL * max(abs(vm[b]), 1.0)
            vp = vm.copy()
            vp[b] += h
            p1, q1 = self._bus_injection(self._point(vp))
            dp[b], dq[b] = (p1[b] - p[b]) / h, (q1[b] - q[b]) / h
        return p, q, dp, dq

    def settle(self, vm) -> bool:
        """Apply tap moves and mode switches at a converged AC point; True if any."""
        changes = C.settle(self.data, self.state, self._point(vm))
        self.changes += changes
        return bool(changes)

    def result(self, vm) -> D.DcResult:
        pt = self._point(vm)
        vac = vm[self.data.bus_pos]
        notes = C.final_check(self.data, self.state, pt)
        return C.make_result(self.data, self.state, pt, vac, self.changes + notes)
