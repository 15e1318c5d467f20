"""Validation rules across the DC tables (the per-row rules live with the schemas in
``casa_dyn.network.dc.tables``).  Called by ``casa_dyn.case.validate.check_case`` once ids
and references are sound.

Rules: in-service converters and branches sit on in-service DC nodes and (converters) on
non-isolated AC buses; every DC island (DC nodes joined by in-service branches and
converters) that has converters has a grounded node and, for each pole present, exactly one
voltage-setting converter (mode 3); a converter has at most one ``lcc_control`` row.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from casa_dyn.case.tables import ISOLATED
from casa_dyn.errors import Problem
from casa_dyn.network.dc.tables import MODE_VOLTAGE


def dc_table(case, name: str) -> dict:
    """A DC table of ``case``, or an empty one with all columns if the case has none."""
    if name in case.tables:
        return case.tables[name]
    from casa_dyn.case import schema as S
    from casa_dyn.case.case import normalize_table

    return normalize_table(S.get(name), {})


def dc_islands(case, node_on=None, branch_on=None, conv_on=None):
    """Connected components of the DC nodes through in-service branches and converters
    (a converter joins its two terminals).  Returns ``(labels, n)`` over all node rows;
    out-of-service nodes get -1."""
    nd, br, cv = (dc_table(case, t) for t in ("dc_node", "dc_branch", "lcc_converter"))
    ids = nd["id"].astype(np.int64)
    index = {int(i): k for k, i in enumerate(ids)}
    node_on = nd["in_service"] == 1 if node_on is None else node_on
    branch_on = br["in_service"] == 1 if branch_on is None else branch_on
    conv_on = cv["in_service"] == 1 if conv_on is None else conv_on
    fr = [index[int(b)] for b in br["from_node"][branch_on]]
    fr += [index[int(b)] for b in cv["dc_node_p"][conv_on]]
    to = [index[int(b)] for b in br["to_node"][branch_on]]
    to += [index[int(b)] for b in cv["dc_node_n"][conv_on]]
    nn = len(ids)
    adj = sp.coo_matrix((np.ones(len(fr)), (np.asarray(fr, np.int64), np.asarray(to, np.int64))),
                        shape=(nn, nn))
    _, labels = connected_components(adj, directed=False)
    labels = np.where(node_on, labels, -1)
    uniq = np.unique(labels[labels >= 0])
    remap = {int(u): k for k, u in enumerate(uniq)}
    return np.array([remap.get(int(x), -1) for x in labels], dtype=np.int64), len(uniq)


def check_dc(case) -> list[Problem]:
    if not any(case.has(t) for t in ("dc_node", "dc_branch", "lcc_converter", "lcc_control")):
        return []
    out: list[Problem] = []
    nd, br, cv = (dc_table(case, t) for t in ("dc_node", "dc_branch", "lcc_converter"))
    node_on = dict(zip(nd["id"].tolist(), (nd["in_service"] == 1).tolist()))
    for r in np.flatnonzero(br["in_service"] == 1):
        for col in ("from_node", "to_node"):
            if not node_on[int(br[col][r])]:
                out.append(Problem("dc_branch", int(r), col, f"in service but DC node "
                                   f"{br[col][r]} is out of service", int(br["id"][r])))
    bus_type = dict(zip(case["bus"]["id"].tolist(), case["bus"]["type"].tolist()))
    conv_on = cv["in_service"] == 1
    for r in np.flatnonzero(conv_on):
        for col in ("dc_node_p", "dc_node_n"):
            if not node_on[int(cv[col][r])]:
                out.append(Problem("lcc_converter", int(r), col, f"in service but DC node "
                                   f"{cv[col][r]} is out of service", int(cv["id"][r])))
        if bus_type.get(int(cv["bus"][r])) == ISOLATED:
            out.append(Problem("lcc_converter", int(r), "bus", f"in service at isolated AC bus "
                               f"{cv['bus'][r]} (type 4)", int(cv["id"][r])))
    if out:
        return out
    out += _check_islands(case)
    out += _check_control_rows(case)
    return out


def _check_islands(case) -> list[Problem]:
    nd, cv = dc_table(case, "dc_node"), dc_table(case, "lcc_converter")
    labels, n = dc_islands(case)
    index = {int(i): k for k, i in enumerate(nd["id"])}
    conv_on = np.flatnonzero(cv["in_service"] == 1)
    isl = np.array([labels[index[int(b)]] for b in cv["dc_node_p"][conv_on]], dtype=np.int64)
    grounded = (nd["grounded"] == 1) & (labels >= 0)
    out = []
    for k in np.unique(isl):
        rows = conv_on[isl == k]
        members = nd["id"][labels == k]
        sample = ", ".join(str(i) for i in members[:8]) + (" ..." if len(members) > 8 else "")
        first = int(rows[0])
        if not np.any(grounded & (labels == k)):
            out.append(Problem("dc_node", int(np.flatnonzero(labels == k)[0]), "grounded",
                               f"DC island [{sample}] has no grounded node (a neutral or "
                               "electrode bus with grounded = 1)", int(members[0])))
        for pole in np.unique(cv["pole"][rows]):
            prow = rows[cv["pole"][rows] == pole]
            vst = prow[cv["mode"][prow] == MODE_VOLTAGE]
            name = "positive" if pole > 0 else "negative"
            if len(vst) == 0:
                out.append(Problem("lcc_converter", first, "mode",
                                   f"{name} pole of DC island [{sample}] has no voltage-setting "
                                   "converter (mode 3); exactly one is needed",
                                   int(cv["id"][first])))
            elif len(vst) > 1:
                out.append(Problem("lcc_converter", int(vst[1]), "mode",
                                   f"{name} pole of DC island [{sample}] has {len(vst)} "
                                   "voltage-setting converters (ids "
                                   f"{', '.join(str(cv['id'][v]) for v in vst)}); exactly one "
                                   "is allowed", int(cv["id"][vst[1]])))
    return out


def _check_control_rows(case) -> list[Problem]:
    if not case.has("lcc_control"):
        return []
    ctl = case["lcc_control"]
    out = []
    seen: dict[int, int] = {}
    for r, c in enumerate(ctl["conv"].tolist()):
        if c in seen:
            out.append(Problem("lcc_control", r, "conv", f"converter {c} already has a control "
                               f"row (row {seen[c]})", int(ctl["id"][r])))
        seen.setdefault(c, r)
    return out
