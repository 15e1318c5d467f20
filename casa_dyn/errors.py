"""User-facing errors.  The CLI turns any ``CasaDynError`` into a message and a non-zero exit
code, never a traceback; anything else escaping is a bug in casa_dyn."""
from __future__ import annotations

from dataclasses import dataclass


class CasaDynError(Exception):
    """Base class of errors caused by user input or by a physically impossible case."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case, located by table, row (element id) and column."""

    table: str
    row: int | None
    column: str | None
    message: str
    element_id: int | None = None

    def __str__(self) -> str:
        where = f"table '{self.table}'"
        if self.row is not None:
            where += f", row {self.row}"
            if self.element_id is not None:
                where += f" (id {self.element_id})"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class CaseError(CasaDynError):
    """A case that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], path: str | None = None):
        self.problems = list(problems)
        self.path = path
        head = f"{path}: " if path else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} in case"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class FileFormatError(CasaDynError):
    """A file that is not what it claims to be (not HDF5, another format, a newer version)."""


class PowerFlowError(CasaDynError):
    """The power flow did not converge or has no solution."""


class ModelInitError(CasaDynError):
    """A dynamic model cannot start in equilibrium at the power-flow point."""


class ScenarioError(CasaDynError):
    """A scenario or event that does not fit the case (unknown bus, bad time, bad key)."""
