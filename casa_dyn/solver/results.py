"""Results of one simulation: arrays in memory, no file access (``casa_dyn.io`` writes them)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

COMPLETED, FAILED, UNSTABLE = "completed", "failed", "unstable"


@dataclass
class Results:
    t_s: np.ndarray
    data: np.ndarray            # (n_times, n_channels)
    names: list
    units: list
    kinds: list
    elements: np.ndarray
    status: str
    message: str
    t_stop_s: float
    counters: dict
    wall_s: float
    meta: dict = field(default_factory=dict)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no channel {name!r}") from None

    def channel(self, name: str) -> np.ndarray:
        return self.data[:, self.index(name)]

    def select(self, pattern: str) -> tuple[list, np.ndarray]:
        from fnmatch import fnmatch

        idx = [k for k, n in enumerate(self.names) if fnmatch(n, pattern)]
        return [self.names[k] for k in idx], self.data[:, idx]

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.data, index=pd.Index(self.t_s, name="t_s"), columns=self.names)

    def summary(self) -> dict:
        return {"status": self.status, "message": self.message, "t_stop_s": float(self.t_stop_s),
                "wall_s": float(self.wall_s), **{k: int(v) for k, v in self.counters.items()}}
