"""Table schemas: every column a user can put in a case, with its unit, default and valid range.

A case is a set of tables; a table is a set of equal-length 1-D columns (structure of arrays,
the layout the compiled kernels want).  The schema is the single source of truth used by the
HDF5 reader/writer, the validator, the documentation generator and the model registry.

Column names carry their unit as a suffix (``x_pu``, ``p_mw``, ``t_s``); dimensionless model
gains carry none.  Dynamic model tables (added by ``casa_dyn.models``) use the same machinery.
"""
from __future__ import annotations

import importlib

from dataclasses import dataclass, field
import math

import numpy as np

#: dtype codes a column may have
INT = "i8"
FLOAT = "f8"
STR = "str"


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``lo``/``hi`` bound the valid range (inclusive unless ``lo_open``/``hi_open``);
    ``default`` is used when the column is absent from a file (``None`` = required).
    ``ref`` names another table whose ``id`` this column must reference.
    """

    name: str
    dtype: str
    doc: str
    unit: str = ""
    default: object = None
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    ref: str | None = None
    dyr: int | None = None  # 1-based position in the PSS/E DYR record (models only)

    @property
    def required(self) -> bool:
        return self.default is None

    def numpy_dtype(self):
        return object if self.dtype == STR else np.dtype(self.dtype)

    def range_text(self) -> str:
        if self.dtype == STR:
            return ""
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        if math.isinf(self.lo) and math.isinf(self.hi):
            return "any"
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}"


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    return f"{v:g}"


@dataclass(frozen=True)
class Table:
    """Schema of one table.  Every table has an integer ``id`` column, unique in the table."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    family: str = "network"  # network | generator | exciter | governor | pss | load | hvdc
    since_version: int = 1
    checks: tuple = field(default=(), compare=False)  # row checks: f(table_dict) -> [(row, col, msg)]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# ---------------------------------------------------------------- helpers for common columns

def id_col(doc: str = "unique element id (positive integer)") -> Column:
    return Column("id", INT, doc, lo=1)


def bus_col(name: str = "bus", doc: str = "bus id") -> Column:
    return Column(name, INT, doc, ref="bus", lo=1)


def status_col() -> Column:
    return Column("in_service", INT, "1 in service, 0 out of service", default=1, lo=0, hi=1)


def name_col() -> Column:
    return Column("name", STR, "free-text name", default="")


def pos(name, unit, doc, default=None, dyr=None, open_lo=True, hi=math.inf):
    """A strictly positive (or non-negative when ``open_lo`` is False) float column."""
    return Column(name, FLOAT, doc, unit, default, lo=0.0, hi=hi, lo_open=open_lo, dyr=dyr)


def real(name, unit, doc, default=None, lo=-math.inf, hi=math.inf, dyr=None):
    return Column(name, FLOAT, doc, unit, default, lo=lo, hi=hi, dyr=dyr)


# ---------------------------------------------------------------- the registry

_TABLES: dict[str, Table] = {}


def register(table: Table) -> Table:
    """Add a table schema (called at import by the network tables and each model module)."""
    if table.name in _TABLES and _TABLES[table.name] != table:
        raise ValueError(f"table {table.name!r} registered twice with different schemas")
    if table.columns[0].name != "id":
        raise ValueError(f"table {table.name!r}: first column must be 'id'")
    _TABLES[table.name] = table
    return table


def tables() -> dict[str, Table]:
    """All known table schemas by name: the AC network tables, then the DC tables, then the
    model tables in registry order, whatever order their modules happened to be imported in."""
    from casa_dyn.case import tables as _core
    from casa_dyn.network.dc import tables as _dc
    from casa_dyn import models as _models
    from casa_dyn.models.registry import FAMILY_MODULES

    _models.load_all()
    first = [t.name for mod in (_core, _dc) for t in vars(mod).values() if isinstance(t, Table)]
    model_rank = {}
    for k, m in enumerate(FAMILY_MODULES):
        spec = getattr(importlib.import_module(f"casa_dyn.models.{m}"), "SPEC", None)
        model_rank[spec.name] = k
    rest = sorted((n for n in _TABLES if n not in first), key=lambda n: model_rank.get(n, len(model_rank)))
    return {n: _TABLES[n] for n in first + rest}


def get(name: str) -> Table:
    t = tables()
    if name not in t:
        raise KeyError(name)
    return t[name]
