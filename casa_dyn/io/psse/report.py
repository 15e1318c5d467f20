"""What a PSS/E conversion did: rows written, records skipped, models missing, approximations.

``skipped`` and ``missing_models`` list what was in the files and is not in the case (with
``--strict`` either is an error); ``notes`` list what was converted approximately or ignored
because it does not change the power flow at the RAW file's operating point (tap controls,
remote regulation, ...).  Area, zone and owner names are kept in ``labels``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Skipped:
    records: int
    in_service: int
    unit: str = "records"


@dataclass
class ConversionReport:
    raw_path: str
    dyr_path: str | None
    version: int
    rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, Skipped] = field(default_factory=dict)
    missing_models: dict[str, list] = field(default_factory=dict)  # model -> targets (buses, names)
    notes: list[str] = field(default_factory=list)
    labels: dict[str, dict[int, str]] = field(default_factory=dict)  # area / zone / owner names

    def skip(self, what: str, records: int, in_service: int, unit: str = "records") -> None:
        s = self.skipped.setdefault(what, Skipped(0, 0, unit))
        s.records += records
        s.in_service += in_service

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def missing(self, model: str, target) -> None:
        self.missing_models.setdefault(model, []).append(target)

    @property
    def dropped(self) -> list[str]:
        """One line per kind of dropped data (what ``--strict`` refuses)."""
        out = [f"{what}: {s.records} {s.unit} ({s.in_service} in service) not converted"
               for what, s in self.skipped.items()]
        out += [f"dynamic model {m}: {len(t)} record(s) not converted (no casa_dyn model), at "
                f"{_targets(t)}" for m, t in self.missing_models.items()]
        return out

    def lines(self) -> list[str]:
        head = f"PSS/E RAW v{self.version} {self.raw_path}" + (
            f" + DYR {self.dyr_path}" if self.dyr_path else "")
        rows = ", ".join(f"{n} {t}" for t, n in self.rows.items() if n)
        out = [head, f"  converted: {rows}"]
        out += [f"  skipped: {d}" for d in self.dropped]
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_dict(self) -> dict:
        return {"raw": self.raw_path, "dyr": self.dyr_path, "version": self.version,
                "rows": dict(self.rows),
                "skipped": {k: {"records": s.records, "in_service": s.in_service, "unit": s.unit}
                            for k, s in self.skipped.items()},
                "missing_models": {m: {"count": len(t), "at": [str(x) for x in t]}
                                   for m, t in self.missing_models.items()},
                "notes": list(self.notes),
                "labels": {k: {str(i): n for i, n in v.items()} for k, v in self.labels.items()}}


def _targets(targets: list, limit: int = 8) -> str:
    text = ", ".join(f"bus {t}" if isinstance(t, int) else f"'{t}'" for t in targets[:limit])
    return text + (f" and {len(targets) - limit} more" if len(targets) > limit else "")
