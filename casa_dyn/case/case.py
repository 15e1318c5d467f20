"""The in-memory case: root attributes plus a dict of tables, each a dict of NumPy columns.

A ``Case`` holds data only; it has no solver state.  Tables are plain ``dict[str, ndarray]``
so kernels can take the columns directly.  ``Case.from_tables`` fills defaults and casts
dtypes from the schema; ``casa_dyn.case.validate`` checks it.
"""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field

import numpy as np

from casa_dyn.case import schema as S

FORMAT_NAME = "casa_dyn-case"
FORMAT_VERSION = 3  # 2: dynamic model tables; 3: DC networks and LCC converters (docs/case-format.md)


@dataclass
class Case:
    name: str
    base_mva: float = 100.0
    freq_hz: float = 50.0
    source: str = ""
    citation: str = ""
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_tables(cls, name: str, tables: dict, **attrs) -> "Case":
        """Build a case from ``{table: {column: sequence}}``; absent optional columns get their
        defaults, absent network tables are created empty.  Unknown tables or columns raise."""
        from casa_dyn.case.tables import REQUIRED

        schemas = S.tables()
        out: dict[str, dict[str, np.ndarray]] = {}
        for tname, cols in tables.items():
            if tname not in schemas:
                raise KeyError(f"unknown table {tname!r}")
            out[tname] = normalize_table(schemas[tname], cols)
        for tname in REQUIRED:
            if tname not in out:
                out[tname] = normalize_table(schemas[tname], {})
        return cls(name=name, tables=out, **attrs)

    # ------------------------------------------------------------------ access
    def __getitem__(self, table: str) -> dict[str, np.ndarray]:
        return self.tables[table]

    def has(self, table: str) -> bool:
        return table in self.tables and nrows(self.tables[table]) > 0

    def n(self, table: str) -> int:
        return nrows(self.tables[table]) if table in self.tables else 0

    def copy(self) -> "Case":
        return copy.deepcopy(self)

    def content_hash(self) -> str:
        """SHA-256 over attributes and every column, stable across processes and file writes."""
        h = hashlib.sha256()
        h.update(f"{self.name}|{float(self.base_mva)!r}|{float(self.freq_hz)!r}|"
                 f"{int(self.format_version)}|{self.source}|{self.citation};".encode())
        for tname in sorted(self.tables):
            for cname in sorted(self.tables[tname]):
                col = self.tables[tname][cname]
                h.update(f"{tname}.{cname}:{col.dtype.kind}:".encode())
                if col.dtype == object:
                    h.update("\x1f".join(map(str, col)).encode())
                else:
                    h.update(np.ascontiguousarray(col).tobytes())
        return h.hexdigest()

    def row_label(self, table: str, row: int) -> str:
        ids = self.tables[table].get("id")
        return f"row {row} (id {ids[row]})" if ids is not None and row < len(ids) else f"row {row}"


def nrows(cols: dict[str, np.ndarray]) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def normalize_table(table: S.Table, cols: dict) -> dict[str, np.ndarray]:
    """Cast given columns to schema dtypes and fill absent optional ones with defaults."""
    unknown = set(cols) - set(table.names)
    if unknown:
        raise KeyError(f"table {table.name!r}: unknown column(s) {sorted(unknown)}")
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise ValueError(f"table {table.name!r}: columns have different lengths {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    out = {}
    for c in table.columns:
        if c.name in cols:
            out[c.name] = cast_column(c, cols[c.name])
        elif c.required and n > 0:
            raise KeyError(f"table {table.name!r}: required column {c.name!r} missing")
        else:
            fill = c.default if c.default is not None else 0
            out[c.name] = cast_column(c, [fill] * n)
    return out


def cast_column(c: S.Column, values) -> np.ndarray:
    if c.dtype == S.STR:
        arr = np.empty(len(values), dtype=object)
        arr[:] = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
        return arr
    return np.asarray(values, dtype=c.numpy_dtype()).copy()
