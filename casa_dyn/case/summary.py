"""What is in a case, in numbers: element counts, total load, generation and shunts, provenance.

Used by ``casa-dyn info``; kept here so the CLI only prints.  Totals count in-service elements
only, in the units of the tables (MW, Mvar at 1 pu voltage).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casa_dyn.case import schema as S
from casa_dyn.case.case import Case
from casa_dyn.case.validate import islands


@dataclass(frozen=True)
class TableCount:
    table: str
    rows: int
    in_service: int  # equals rows for tables without an in_service column


@dataclass(frozen=True)
class CaseSummary:
    name: str
    format_version: int
    base_mva: float
    freq_hz: float
    source: str
    citation: str
    content_hash: str
    counts: tuple[TableCount, ...]
    n_islands: int
    base_kv_levels: tuple[float, ...]
    load_p_mw: float
    load_q_mvar: float
    gen_p_mw: float       # scheduled output (the slack's is decided by the power flow)
    gen_q_mvar: float
    gen_p_max_mw: float
    gen_q_min_mvar: float
    gen_q_max_mvar: float
    shunt_g_mw: float
    shunt_b_mvar: float


def _on_sum(table: dict, column: str) -> float:
    on = table["in_service"] == 1
    return float(np.sum(table[column][on]))


def summarize(case: Case) -> CaseSummary:
    """Summary of a validated case (islands need existing bus references)."""
    counts = []
    for tname in [t for t in S.tables() if t in case.tables]:  # schema order: network first
        t = case[tname]
        n = case.n(tname)
        on = int(np.sum(t["in_service"] == 1)) if "in_service" in t else n
        counts.append(TableCount(tname, n, on))
    _, n_islands = islands(case)
    g, ld, sh = case["generator"], case["load"], case["shunt"]
    return CaseSummary(
        name=case.name, format_version=case.format_version, base_mva=float(case.base_mva),
        freq_hz=float(case.freq_hz), source=case.source, citation=case.citation,
        content_hash=case.content_hash(), counts=tuple(counts), n_islands=int(n_islands),
        base_kv_levels=tuple(float(v) for v in np.unique(case["bus"]["base_kv"])),
        load_p_mw=_on_sum(ld, "p_mw"), load_q_mvar=_on_sum(ld, "q_mvar"),
        gen_p_mw=_on_sum(g, "p_mw"), gen_q_mvar=_on_sum(g, "q_mvar"),
        gen_p_max_mw=_on_sum(g, "p_max_mw"), gen_q_min_mvar=_on_sum(g, "q_min_mvar"),
        gen_q_max_mvar=_on_sum(g, "q_max_mvar"),
        shunt_g_mw=_on_sum(sh, "g_mw"), shunt_b_mvar=_on_sum(sh, "b_mvar"),
    )


def format_summary(s: CaseSummary) -> str:
    """Plain-text rendering of a summary, one fact per line."""
    lines = [
        f"case            {s.name}",
        f"format version  {s.format_version}",
        f"base            {s.base_mva:g} MVA, {s.freq_hz:g} Hz",
        f"source          {s.source or '-'}",
        f"citation        {s.citation or '-'}",
        f"content hash    {s.content_hash[:16]}",
        f"islands         {s.n_islands}",
        "voltage levels  " + (", ".join(f"{v:g}" for v in s.base_kv_levels) + " kV"
                              if s.base_kv_levels else "-"),
        "",
        "table            rows  in service",
    ]
    lines += [f"{c.table:<14} {c.rows:>6}  {c.in_service:>10}" for c in s.counts]
    lines += [
        "",
        "in-service totals",
        f"  load          {s.load_p_mw:12.2f} MW  {s.load_q_mvar:12.2f} Mvar",
        f"  generation    {s.gen_p_mw:12.2f} MW  {s.gen_q_mvar:12.2f} Mvar  (scheduled)",
        f"  gen capacity  {s.gen_p_max_mw:12.2f} MW  Q range [{s.gen_q_min_mvar:.2f}, "
        f"{s.gen_q_max_mvar:.2f}] Mvar",
        f"  shunts        {s.shunt_g_mw:12.2f} MW  {s.shunt_b_mvar:12.2f} Mvar (at 1 pu, + = capacitive)",
    ]
    return "\n".join(lines)
