"""Case validation: find *every* problem a user can make, each located by table, row and column.

Two stages.  ``check_raw`` looks at tables as read from a file (columns of any dtype) for
missing tables/columns, wrong dtypes, unequal lengths and non-finite numbers; only a raw set
without such problems is turned into a ``Case``.  ``check_case`` then checks values: ranges,
unique ids, references, per-row consistency (Q min <= Q max, one voltage setpoint per bus, ...)
and topology (every island has one slack bus and some generation).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from casa_dyn.case import schema as S
from casa_dyn.case.case import Case
from casa_dyn.case.index import positions
from casa_dyn.case.tables import ISOLATED, REQUIRED, SLACK
from casa_dyn.errors import CaseError, Problem

#: generators on one bus whose vm_set_pu differ by more than this are ambiguous (PSS/E rejects them)
VM_SET_TOL_PU = 1e-9


# ---------------------------------------------------------------------------- raw stage
def check_raw(raw: dict[str, dict[str, np.ndarray]]) -> list[Problem]:
    schemas = S.tables()
    problems: list[Problem] = []
    for tname in REQUIRED:
        if tname not in raw:
            problems.append(Problem(tname, None, None, "required table is missing"))
    for tname, cols in raw.items():
        if tname not in schemas:
            problems.append(Problem(tname, None, None,
                                    f"unknown table (known: {', '.join(sorted(schemas))})"))
            continue
        problems += _check_raw_table(schemas[tname], cols)
    return problems


def _check_raw_table(table: S.Table, cols: dict[str, np.ndarray]) -> list[Problem]:
    problems = []
    lengths = {name: len(v) for name, v in cols.items()}
    n = max(lengths.values(), default=0)
    for name in cols:
        if name not in table.names:
            problems.append(Problem(table.name, None, name,
                                    f"unknown column (known: {', '.join(table.names)})"))
    for c in table.columns:
        if c.name not in cols:
            if c.required and n > 0:
                problems.append(Problem(table.name, None, c.name, "required column is missing"))
            continue
        v = np.asarray(cols[c.name])
        if v.ndim != 1:
            problems.append(Problem(table.name, None, c.name, f"must be 1-D, has shape {v.shape}"))
            continue
        if len(v) != n:
            problems.append(Problem(table.name, None, c.name,
                                    f"has {len(v)} rows, other columns have {n}"))
            continue
        problems += _check_dtype(table.name, c, v, cols.get("id"))
    return problems


def _check_dtype(tname: str, c: S.Column, v: np.ndarray, ids) -> list[Problem]:
    def pr(row, msg):
        eid = _id_at(ids, row)
        return Problem(tname, int(row), c.name, msg, eid)

    if c.dtype == S.STR:
        if v.dtype.kind not in "OSU":
            return [Problem(tname, None, c.name, f"must be text, found dtype {v.dtype}")]
        return []
    if v.dtype.kind not in "biuf":
        return [Problem(tname, None, c.name, f"must be numeric ({c.dtype}), found dtype {v.dtype}")]
    out = []
    if v.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(v))
        out += [pr(r, f"value {v[r]} is not finite") for r in bad[:20]]
        if c.dtype == S.INT:
            frac = np.flatnonzero(np.isfinite(v) & (v != np.round(v)))
            out += [pr(r, f"must be an integer, found {v[r]}") for r in frac[:20]]
    return out


def _id_at(ids, row):
    try:
        return int(ids[row]) if ids is not None and np.asarray(ids).dtype.kind in "iuf" else None
    except (IndexError, ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------- value stage
def check_case(case: Case) -> list[Problem]:
    schemas = S.tables()
    problems: list[Problem] = []
    if case.freq_hz not in (50.0, 60.0):
        problems.append(Problem("(root)", None, "freq_hz", f"must be 50 or 60, found {case.freq_hz}"))
    if not (case.base_mva > 0 and np.isfinite(case.base_mva)):
        problems.append(Problem("(root)", None, "base_mva", f"must be > 0, found {case.base_mva}"))
    id_sets = {}
    structural: list[Problem] = []  # duplicate ids and dangling references break the topology
    for tname, cols in case.tables.items():
        table = schemas[tname]
        problems += _check_ranges(table, cols)
        structural += _check_unique_ids(tname, cols)
        id_sets[tname] = set(cols["id"].tolist())
    for tname, cols in case.tables.items():
        structural += _check_refs(schemas[tname], cols, id_sets)
        for check in schemas[tname].checks:
            problems += [Problem(tname, r, c, m, int(cols["id"][r])) for r, c, m in check(cols)]
    problems += structural
    problems += _check_network_rows(case)
    if not structural:  # islands need unique bus ids and existing bus references
        problems += check_topology(case)
        from casa_dyn.network.dc.checks import check_dc  # DC tables (format version 3)

        problems += check_dc(case)
    return problems


def _check_ranges(table: S.Table, cols) -> list[Problem]:
    out = []
    ids = cols["id"]
    for c in table.columns:
        if c.dtype == S.STR:
            continue
        v = cols[c.name]
        # a Case built in memory skips check_raw, so non-finite values are caught here too
        bad = ~np.isfinite(v) if v.dtype.kind == "f" else np.zeros(len(v), bool)
        for r in np.flatnonzero(bad)[:20]:
            out.append(Problem(table.name, int(r), c.name, f"value {v[r]} is not finite",
                               int(ids[r])))
        lo_bad = (v <= c.lo) if c.lo_open else (v < c.lo)
        hi_bad = (v >= c.hi) if c.hi_open else (v > c.hi)
        for r in np.flatnonzero((lo_bad | hi_bad) & ~bad)[:20]:
            out.append(Problem(table.name, int(r), c.name,
                               f"value {v[r]:g} out of range {c.range_text()}"
                               + (f" {c.unit}" if c.unit else ""), int(ids[r])))
    return out


def _check_unique_ids(tname, cols) -> list[Problem]:
    ids = cols["id"]
    uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
    out = []
    for u in uniq[counts > 1]:
        rows = np.flatnonzero(ids == u)
        out.append(Problem(tname, int(rows[1]), "id",
                           f"duplicate id {u} (also in row {rows[0]})", int(u)))
    return out


def _check_refs(table: S.Table, cols, id_sets) -> list[Problem]:
    out = []
    for c in table.columns:
        if c.ref is None:
            continue
        known = id_sets.get(c.ref, set())
        v = cols[c.name]
        for r in range(len(v)):
            if int(v[r]) not in known:
                out.append(Problem(table.name, r, c.name,
                                   f"refers to {c.ref} {v[r]}, which does not exist",
                                   int(cols["id"][r])))
                if len(out) >= 50:
                    return out
    return out


def _check_network_rows(case: Case) -> list[Problem]:
    out = []

    def rows(tname, mask, col, msg_fn):
        t = case[tname]
        for r in np.flatnonzero(mask)[:20]:
            out.append(Problem(tname, int(r), col, msg_fn(r), int(t["id"][r])))

    for tname in ("line", "transformer"):
        t = case[tname]
        rows(tname, (t["r_pu"] == 0) & (t["x_pu"] == 0), "x_pu",
             lambda r: "zero series impedance (r_pu = x_pu = 0)")
        rows(tname, t["from_bus"] == t["to_bus"], "to_bus",
             lambda r, t=t: f"branch connects bus {t['to_bus'][r]} to itself")
    g = case["generator"]
    rows("generator", g["q_min_mvar"] > g["q_max_mvar"], "q_min_mvar",
         lambda r: f"q_min_mvar {g['q_min_mvar'][r]:g} > q_max_mvar {g['q_max_mvar'][r]:g}")
    rows("generator", g["p_min_mw"] > g["p_max_mw"], "p_min_mw",
         lambda r: f"p_min_mw {g['p_min_mw'][r]:g} > p_max_mw {g['p_max_mw'][r]:g}")
    out += _check_vm_setpoints(g)
    ld = case["load"]
    rows("load", ld["p_z"] + ld["p_i"] > 1 + 1e-9, "p_i",
         lambda r: f"p_z + p_i = {ld['p_z'][r] + ld['p_i'][r]:g} exceeds 1")
    rows("load", ld["q_z"] + ld["q_i"] > 1 + 1e-9, "q_i",
         lambda r: f"q_z + q_i = {ld['q_z'][r] + ld['q_i'][r]:g} exceeds 1")
    bus_type = dict(zip(case["bus"]["id"].tolist(), case["bus"]["type"].tolist()))
    for tname in ("generator", "load", "shunt"):
        t = case[tname]
        iso = np.array([bus_type.get(int(b)) == ISOLATED for b in t["bus"]], dtype=bool)
        rows(tname, iso & (t["in_service"] == 1), "bus",
             lambda r, t=t: f"in service at isolated bus {t['bus'][r]} (type 4)")
    return out


def _check_vm_setpoints(g) -> list[Problem]:
    """In-service generators on one bus must agree on its voltage setpoint (PSS/E rejects a
    bus regulated to two different voltages; the power flow could only pick one)."""
    out = []
    first: dict[int, int] = {}
    for r in np.flatnonzero(g["in_service"] == 1):
        b = int(g["bus"][r])
        if b not in first:
            first[b] = int(r)
            continue
        r0 = first[b]
        if abs(g["vm_set_pu"][r] - g["vm_set_pu"][r0]) > VM_SET_TOL_PU:
            out.append(Problem("generator", int(r), "vm_set_pu",
                               f"vm_set_pu {g['vm_set_pu'][r]:g} differs from {g['vm_set_pu'][r0]:g} "
                               f"of generator {g['id'][r0]} on the same bus {b}; "
                               "one bus has one voltage setpoint", int(g["id"][r])))
            if len(out) >= 20:
                break
    return out


def islands(case: Case):
    """Connected components of the in-service AC network (isolated buses excluded).

    Returns ``(labels, n_islands)``; ``labels[i] == -1`` for isolated buses.
    Later issues add DC links, which do not join AC islands synchronously.
    """
    bus = case["bus"]
    nb = len(bus["id"])
    active = bus["type"] != ISOLATED
    fr, to = [], []
    for tname in ("line", "transformer"):
        t = case[tname]
        on = t["in_service"] == 1
        fr.append(positions(case, t["from_bus"][on]))
        to.append(positions(case, t["to_bus"][on]))
    fr, to = np.concatenate(fr), np.concatenate(to)
    keep = active[fr] & active[to]
    adj = sp.coo_matrix((np.ones(keep.sum()), (fr[keep], to[keep])), shape=(nb, nb))
    _, labels = connected_components(adj, directed=False)
    # renumber so islands are 0..k-1 over active buses only (in order of their labels)
    uniq, inverse = np.unique(labels[active], return_inverse=True)
    out = np.full(nb, -1, dtype=np.int64)
    out[active] = inverse
    return out, len(uniq)


def check_topology(case: Case) -> list[Problem]:
    bus, gen = case["bus"], case["generator"]
    labels, n = islands(case)
    gen_island = labels[positions(case, gen["bus"])]
    gen_on = gen["in_service"] == 1
    out = []
    for k in range(n):
        members = np.flatnonzero(labels == k)
        first = int(members[0])
        sample = ", ".join(str(b) for b in bus["id"][members[:8]]) + (" ..." if len(members) > 8 else "")
        slacks = members[bus["type"][members] == SLACK]
        if len(slacks) == 0:
            out.append(Problem("bus", first, "type",
                               f"island of {len(members)} bus(es) [{sample}] has no slack bus (type 3)",
                               int(bus["id"][first])))
        elif len(slacks) > 1:
            out.append(Problem("bus", int(slacks[1]), "type",
                               f"island [{sample}] has {len(slacks)} slack buses "
                               f"({', '.join(str(bus['id'][s]) for s in slacks)}); one is allowed",
                               int(bus["id"][slacks[1]])))
        if not np.any(gen_on & (gen_island == k)):
            out.append(Problem("bus", first, None,
                               f"island of {len(members)} bus(es) [{sample}] has no in-service generator",
                               int(bus["id"][first])))
        for s in slacks:
            if not np.any(gen_on & (gen["bus"] == bus["id"][s])):
                out.append(Problem("bus", int(s), "type",
                                   f"slack bus {bus['id'][s]} has no in-service generator",
                                   int(bus["id"][s])))
    return out


def validate(case: Case, path: str | None = None) -> Case:
    """Raise ``CaseError`` listing every problem, or return the case unchanged."""
    problems = check_case(case)
    if problems:
        raise CaseError(problems, path)
    return case
