"""Simulation options: one small frozen dataclass, picklable, with named tuning constants."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SimOptions:
    t_end_s: float = 10.0
    #: fixed step; None = half a cycle of the case frequency (10 ms at 50 Hz, 8.33 ms at 60 Hz)
    dt_s: float | None = None
    #: keep every k-th step in the results (the event instants are always kept)
    decimation: int = 1
    #: Newton: max |residual| (pu, and state units for differential rows)
    tol: float = 1e-8
    max_iter: int = 12
    #: refactor when the reused pivots' reciprocal growth ratio falls below this
    rcond_min: float = 1e-14
    #: smallest step the halving may reach before the run is declared failed
    dt_min_s: float = 1e-5
    #: stop when a rotor angle leaves the centre of inertia by more than this (deg); 0 = never
    loss_of_sync_deg: float = 180.0
    #: channel name patterns (fnmatch) to keep; empty = the default set
    channels: tuple[str, ...] = field(default_factory=tuple)

    def step_s(self, freq_hz: float) -> float:
        return self.dt_s if self.dt_s is not None else 0.5 / freq_hz

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d
