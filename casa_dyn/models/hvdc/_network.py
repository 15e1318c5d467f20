"""The dynamic DC network of a case: which DC nodes, branches and converters take part, how
each node's equation is written, and the initial values from the AC/DC power flow.

Node equations (kV, kA, F, H; DC node voltages are to ground):

* ``SOLID``    solidly grounded node (``grounded = 1, r_ground_ohm = 0``): ``0 = -V``;
* ``CAP``      node with shunt capacitance: ``C dV/dt = sum I_in - (G_ground + G_fault) V``;
* ``KCL``      node without capacitance: ``0 = sum I_in - (G_ground + G_fault) V``;
* ``JUNCTION`` node without capacitance, ground or converter whose branches are all inductive
  (a junction of line sections): Kirchhoff's law would be a constraint on branch-current
  states (an index-2 DAE, singular whenever the algebraic variables are re-solved), so the
  node row is its time derivative, ``0 = sum_j (V - V_j - R_j s_j I_j) / L_j``
  (``s_j I_j`` = current leaving through branch j), which keeps ``sum_j s_j I_j`` at its
  initial value, zero from the power flow.

A node is *anchored* when it has capacitance or a ground connection.  Non-anchored nodes
joined by branches form *clusters*; a cluster with no branch to an anchored node is
*isolated* (e.g. a pole line between two converter terminals without capacitance): when all
its converters stop conducting its voltage is undefined, and ``lcc`` then holds one
converter terminal of it at 0 kV (``lcc`` docstring).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casa_dyn.errors import CaseError, Problem

NODE_SOLID, NODE_CAP, NODE_KCL, NODE_JUNCTION = 0, 1, 2, 3
#: most inductive branches a converter terminal without capacitance may have
MAX_NC_BRANCHES = 3


@dataclass(frozen=True)
class DcNet:
    node_rows: np.ndarray      # table rows of the dynamic nodes (position = index here)
    node_ids: np.ndarray
    kind: np.ndarray           # NODE_*
    scale: np.ndarray          # factor on Kirchhoff sums: 1/C (1/F) for CAP, 1 for KCL, else 0
    g_ground: np.ndarray       # S (kA/kV)
    base_kv: np.ndarray
    v0: np.ndarray             # kV, power flow
    anchored: np.ndarray       # capacitance or a ground connection
    cluster: np.ndarray        # -1 anchored, else cluster number
    isolated: np.ndarray       # per cluster
    br_rows: np.ndarray
    br_ids: np.ndarray
    br_f: np.ndarray           # node positions
    br_t: np.ndarray
    br_r: np.ndarray           # ohm
    br_l: np.ndarray           # H
    br_i0: np.ndarray          # kA, power flow
    conv_rows: np.ndarray      # in-service converters (lcc_converter rows)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def branches_at(self, k: int):
        """(branch position, sign of the current leaving node k) of every branch at node k."""
        out = [(b, 1.0) for b in np.flatnonzero(self.br_f == k)]
        return out + [(b, -1.0) for b in np.flatnonzero(self.br_t == k)]


def dc_net(case, pf) -> DcNet | None:
    """The dynamic DC network, or None when the case has no in-service converter."""
    if pf is None or getattr(pf, "dc", None) is None:
        return None
    from casa_dyn.network.dc.checks import dc_islands, dc_table

    nd, br, cv = (dc_table(case, t) for t in ("dc_node", "dc_branch", "lcc_converter"))
    conv_rows = np.flatnonzero(cv["in_service"] == 1)
    if len(conv_rows) == 0:
        return None
    labels, _ = dc_islands(case)
    index = {int(i): k for k, i in enumerate(nd["id"])}
    conv_isl = {int(labels[index[int(cv["dc_node_p"][r])]]) for r in conv_rows}
    node_rows = np.flatnonzero(np.isin(labels, list(conv_isl)) & (nd["in_service"] == 1))
    pos = -np.ones(len(nd["id"]), dtype=np.int64)
    pos[node_rows] = np.arange(len(node_rows))
    br_rows = np.array([r for r in range(len(br["id"])) if br["in_service"][r] == 1
                        and pos[index[int(br["from_node"][r])]] >= 0], dtype=np.int64)
    bf = np.array([pos[index[int(br["from_node"][r])]] for r in br_rows], dtype=np.int64)
    bt = np.array([pos[index[int(br["to_node"][r])]] for r in br_rows], dtype=np.int64)
    br_r = np.asarray(br["r_ohm"], float)[br_rows]
    br_l = np.asarray(br["l_mh"], float)[br_rows] * 1e-3
    c_f = np.asarray(nd["c_uf"], float)[node_rows] * 1e-6
    grounded = nd["grounded"][node_rows] == 1
    r_g = np.asarray(nd["r_ground_ohm"], float)[node_rows]
    n = len(node_rows)
    has_conv = np.zeros(n, bool)
    for r in conv_rows:
        for c in ("dc_node_p", "dc_node_n"):
            has_conv[pos[index[int(cv[c][r])]]] = True
    n_ind = np.bincount(np.concatenate([bf[br_l > 0], bt[br_l > 0]]), minlength=n)
    n_alg = np.bincount(np.concatenate([bf[br_l == 0], bt[br_l == 0]]), minlength=n)
    kind = np.full(n, NODE_KCL)
    kind[c_f > 0] = NODE_CAP
    kind[~grounded & (c_f == 0) & ~has_conv & (n_alg == 0) & (n_ind > 0)] = NODE_JUNCTION
    kind[grounded & (r_g == 0)] = NODE_SOLID
    scale = np.where(kind == NODE_CAP, 1.0 / np.where(c_f > 0, c_f, 1.0),
                     np.where(kind == NODE_KCL, 1.0, 0.0))
    g_ground = np.where(grounded & (r_g > 0), 1.0 / np.where(r_g > 0, r_g, 1.0), 0.0)
    anchored = (c_f > 0) | grounded
    _check_mixed(case, nd, node_rows, anchored, has_conv, n_ind, n_alg)
    cluster, isolated = _clusters(anchored, bf, bt)
    v_all = np.asarray(pf.dc.v_node_kv, float)
    i_all = np.asarray(pf.dc.i_branch_ka, float)
    return DcNet(node_rows=node_rows, node_ids=nd["id"][node_rows].astype(np.int64), kind=kind,
                 scale=scale, g_ground=g_ground, base_kv=np.asarray(nd["base_kv"], float)[node_rows],
                 v0=v_all[node_rows], anchored=anchored, cluster=cluster, isolated=isolated, br_rows=br_rows,
                 br_ids=br["id"][br_rows].astype(np.int64), br_f=bf, br_t=bt, br_r=br_r, br_l=br_l,
                 br_i0=i_all[br_rows], conv_rows=conv_rows)


def _check_mixed(case, nd, node_rows, anchored, has_conv, n_ind, n_alg):
    """Converter terminals without capacitance or ground must have only inductive branches
    (at most MAX_NC_BRANCHES) or only resistive ones: otherwise a non-conducting converter
    leaves an index-2 constraint the model does not reduce."""
    bad = []
    for k in np.flatnonzero(~anchored & has_conv):
        r = int(node_rows[k])
        if n_ind[k] > 0 and n_alg[k] > 0:
            msg = ("converter terminal without capacitance or ground mixes inductive and "
                   "resistive-only branches; give the node c_uf > 0")
        elif n_ind[k] > MAX_NC_BRANCHES:
            msg = (f"converter terminal without capacitance or ground has {n_ind[k]} inductive "
                   f"branches (at most {MAX_NC_BRANCHES}); give the node c_uf > 0")
        else:
            continue
        bad.append(Problem("dc_node", r, "c_uf", msg, int(nd["id"][r])))
    if bad:
        raise CaseError(bad)


def _clusters(anchored, bf, bt):
    """Connected groups of non-anchored nodes (through any branch) and whether each group
    has no branch to an anchored node."""
    n = len(anchored)
    parent = np.arange(n)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for f, t in zip(bf, bt):
        if not anchored[f] and not anchored[t]:
            parent[find(f)] = find(t)
    roots = {}
    cluster = -np.ones(n, dtype=np.int64)
    for k in np.flatnonzero(~anchored):
        cluster[k] = roots.setdefault(find(k), len(roots))
    isolated = np.ones(len(roots), dtype=bool)
    for f, t in zip(bf, bt):
        if anchored[f] != anchored[t]:
            isolated[cluster[t if anchored[f] else f]] = False
    return cluster, isolated


def allocate(net: DcNet, alloc) -> None:
    """Create the node-voltage and branch-current variables once (the first HVDC family
    built does it); later families find them in ``alloc.shared``."""
    if "dc_node/0/v" in alloc.shared:
        return
    for k, nid in enumerate(net.node_ids):
        alloc.shared[f"dc_node/{nid}/v"] = alloc.var(f"dc_node/{nid}/v_kv", net.kind[k] == NODE_CAP,
                                                     net.v0[k])
    # the virtual zero node: target of unused column slots (its row is 0 = -V)
    alloc.shared["dc_node/0/v"] = alloc.var("dc_node/0/v_kv", False, 0.0)
    for b, bid in enumerate(net.br_ids):
        alloc.shared[f"dc_branch/{bid}/i"] = alloc.var(f"dc_branch/{bid}/i_ka", net.br_l[b] > 0,
                                                       net.br_i0[b])
