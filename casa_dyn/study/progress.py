"""A small text progress bar: count, rate, ETA.  Redraws one line on a terminal; on a pipe or
a log file (SLURM output) it prints a plain line at most every ``log_interval_s``."""
from __future__ import annotations

import time


def _fmt_time(s: float) -> str:
    if s != s or s == float("inf"):
        return "--:--"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class Progress:
    def __init__(self, total: int, stream, label: str = "batch", width: int = 28,
                 min_interval_s: float = 0.2, log_interval_s: float = 10.0, clock=time.monotonic):
        self.total, self.stream, self.label, self.width = total, stream, label, width
        self.done, self.clock = 0, clock
        self.t0 = clock()
        self._last = -1e9
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = min_interval_s if self.tty else log_interval_s

    def rate(self) -> float:
        dt = self.clock() - self.t0
        return self.done / dt if dt > 0 else 0.0

    def line(self) -> str:
        frac = self.done / self.total if self.total else 1.0
        fill = int(round(frac * self.width))
        r = self.rate()
        eta = (self.total - self.done) / r if r > 0 else float("nan")
        return (f"{self.label} [{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} "
                f"{r:.2f}/s ETA {_fmt_time(eta)}")

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if self.stream is None or (now - self._last < self.interval and self.done < self.total):
            return
        self._last = now
        self.stream.write(("\r" + self.line()) if self.tty else (self.line() + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\n")
            self.stream.flush()
