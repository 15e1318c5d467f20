"""Synchronous islands: which machines the loss-of-synchronism check compares with each other.

Machines stay in step only through AC connections; a DC link carries power between two AC
systems but no synchronizing torque, so each AC island has its own centre of inertia (COI)
and its own frequency (CASA-1000: Central Asia and Pakistan).  The check in the time loop
(``kernel.max_angle_sep``) therefore compares each online machine with the COI of the machines
of its own island, the COI being the inertia-weighted mean angle (Kundur 1994, sec. 13.2).

A machine that a branch trip leaves alone in an island (the outage of its step-up
transformer) no longer has anything to lose step with: it is reported as *separated* with the
time, and it no longer counts in any COI.  A tripped machine leaves its island's COI at once.
Islands are recomputed from the in-service branches after every event.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


@dataclass
class SyncState:
    """Per unit: rotor-angle variable, inertia weight H*S (MW s), bus position, online flag;
    the current islands and the record of separations."""

    delta_idx: np.ndarray
    w0: np.ndarray
    unit_bus: np.ndarray
    online: np.ndarray
    island: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    separated: dict = field(default_factory=dict)   # unit -> time separated (s)

    def kernel_arrays(self):
        """(angle indices, weights, group starts) for ``kernel.max_angle_sep``: the online
        machines sorted by island, one group per island (a group of one never trips the check)."""
        order = np.flatnonzero(self.online)
        order = order[np.argsort(self.island[order], kind="stable")]
        isl = self.island[order]
        start = np.flatnonzero(np.r_[True, isl[1:] != isl[:-1]]) if len(order) else np.zeros(0, np.int64)
        start = np.r_[start, len(order)].astype(np.int64)
        return self.delta_idx[order].astype(np.int64), self.w0[order].astype(float), start

    def alone(self) -> np.ndarray:
        """Units whose island holds no other unit (in service or tripped)."""
        counts = np.bincount(self.island, minlength=int(self.island.max(initial=-1)) + 1)
        return counts[self.island] == 1

    def coi_weights(self) -> np.ndarray:
        """Weights of the system COI-frequency channel: online machines not separated by an
        event (a machine alone in its island from the start, such as an equivalent behind a
        DC link, keeps its weight)."""
        sep = np.zeros(len(self.w0), dtype=bool)
        sep[list(self.separated)] = True
        return np.where(self.online & ~sep, self.w0, 0.0)


def ac_islands(n_bus: int, f: np.ndarray, t: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Island number of every bus over the in-service branches."""
    f, t = f[on], t[on]
    adj = sp.coo_matrix((np.ones(len(f)), (f, t)), shape=(n_bus, n_bus))
    return connected_components(adj, directed=False)[1].astype(np.int64)


def update(sysm, state: SyncState, branch_on: np.ndarray, t_s: float | None) -> list:
    """Recompute the islands (at the start: ``t_s`` None) or after events at ``t_s``; return
    the units newly separated."""
    br = sysm.branches
    before = state.alone() if t_s is not None else np.ones(len(state.online), dtype=bool)
    state.island = ac_islands(len(sysm.case["bus"]["id"]), br.f, br.t, branch_on)[state.unit_bus]
    now = state.alone()
    new = [int(u) for u in np.flatnonzero(now & ~before & state.online) if int(u) not in state.separated]
    for u in new:
        state.separated[u] = t_s
    return new
