"""DC nodes: voltage to ground (kV) of every node of a DC network with converters.

Equations (node kinds in ``casa_dyn.models.hvdc._network``; nodal analysis of an R-L-C
network, e.g. Kundur 1994 sec. 10.7, or the PST ``dc_line.m`` line model)::

    SOLID     0 = -V
    CAP       dV/dt = (sum I_in - (G_ground + G_fault) V) / C
    KCL       0 = sum I_in - (G_ground + G_fault) V
    JUNCTION  0 = sum_j (V - V_j - R_j s_j I_j) / L_j      (written by the branches)

``sum I_in`` is added into this row by the branches and converters at the node (their
``extra_rows``), each scaled by the node's factor (1/C, 1 or 0) that they carry in their
parameters.  A DC line fault is a conductance ``G_fault`` to ground at a node (events);
a temporary fault's arc goes out between steps once its current has fallen below
FAULT_EXTINCT_KA (the converters have taken the current away), a permanent one stays.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.models.base import ModelSpec
from casa_dyn.models.hvdc import _network as N
from casa_dyn.solver.layout import Family

EXTRA = ("kind", "scale", "g_ground_s", "g_fault_s", "fault_permanent")
KIND, SCALE, GG, GF, PERM = range(5)
#: a temporary DC fault's arc goes out when its current is below this (kA) ...
FAULT_EXTINCT_KA = 0.01
#: ... but not before it has burnt this long (s)
FAULT_MIN_S = 0.002


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        v = z[col[u, 0]]
        kind = p[u, KIND]
        if kind == N.NODE_SOLID:
            d = -1.0
        elif kind == N.NODE_JUNCTION:
            d = 0.0
        else:
            d = -p[u, SCALE] * (p[u, GG] + p[u, GF])
        r[u, 0] = d * v
        if want_jac:
            jl[u, 0, 0] = d


@njit
def _update_discrete(t, z, p, col, ds):
    """Arc extinction of temporary DC faults (``ds[u, 0]`` = time the fault struck)."""
    n = 0
    for u in range(p.shape[0]):
        g = p[u, GF]
        if g > 0.0 and p[u, PERM] == 0.0 and t - ds[u, 0] >= FAULT_MIN_S:
            if abs(g * z[col[u, 0]]) < FAULT_EXTINCT_KA:
                p[u, GF] = 0.0
                n += 1
    return n


def _init(p, ctx):
    return {}


def _diff_mask(p):
    return (p[:, KIND] == N.NODE_CAP).reshape(-1, 1)


def _build(case, pf, alloc) -> Family:
    net = N.dc_net(case, pf)
    if net is None:
        return Family(SPEC, np.zeros((0, len(EXTRA))), np.zeros((0, 1), np.int64),
                      np.zeros((0, 1), np.int64), np.zeros((0, 1)), np.zeros(0, np.int64),
                      -np.ones(0, np.int64))
    N.allocate(net, alloc)
    n = net.n_nodes + 1  # + the virtual zero node (id 0)
    p = np.zeros((n, len(EXTRA)))
    p[:-1, KIND] = net.kind
    p[:-1, SCALE] = net.scale
    p[:-1, GG] = net.g_ground
    p[-1, KIND] = N.NODE_SOLID
    ids = np.append(net.node_ids, 0)
    col = np.array([[alloc.shared[f"dc_node/{i}/v"]] for i in ids], dtype=np.int64)
    return Family(SPEC, p, col, col.copy(), np.zeros((n, 1)), ids, -np.ones(n, np.int64))


SPEC = ModelSpec(
    name="dc_node", family="hvdc", params=(), extra=EXTRA, states=("v",), algebs=(),
    outputs=(), inputs=(), injects=False, eval=_eval, init=_init, n_disc=1,
    update_discrete=_update_discrete, jac_mask=np.ones((1, 1), dtype=bool), diff_mask=_diff_mask,
    build=_build,
)
