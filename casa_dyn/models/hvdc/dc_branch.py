"""DC branches: series R-L (lines, cables, smoothing reactors, neutral conductors), current
``I`` (kA) from ``from_node`` to ``to_node``.

Equations (PST ``dc_line.m`` and REFERENCE.md 2.2; kV, kA, ohm, H)::

    L > 0:  dI/dt = (V_from - V_to - R I) / L
    L = 0:  0 = V_from - V_to - R I                   (algebraic, PSS/E CDC4T-style line)

Into the rows of its end nodes a branch adds ``-I`` (from) and ``+I`` (to), times the node's
scale (1/C, 1, or 0 for a solidly grounded node); into a JUNCTION node's row it adds its
``+-(V_from - V_to - R I) / L`` instead (``casa_dyn.models.hvdc._network``).
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.models.base import ModelSpec
from casa_dyn.models.hvdc import _network as N
from casa_dyn.solver.layout import Family

EXTRA = ("r_ohm", "l_h", "scale_from", "scale_to", "junction_from", "junction_to")
R, L, SF, ST, JF, JT = range(6)
C_I, C_VF, C_VT = range(3)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        i = z[col[u, C_I]]
        drive = z[col[u, C_VF]] - z[col[u, C_VT]] - p[u, R] * i
        w = 1.0 / p[u, L] if p[u, L] > 0.0 else 1.0
        r[u, 0] = w * drive
        r[u, 1] = w * drive if p[u, JF] != 0.0 else -p[u, SF] * i
        r[u, 2] = -w * drive if p[u, JT] != 0.0 else p[u, ST] * i
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_I], J[0, C_VF], J[0, C_VT] = -w * p[u, R], w, -w
        if p[u, JF] != 0.0:
            J[1, C_I], J[1, C_VF], J[1, C_VT] = -w * p[u, R], w, -w
        else:
            J[1, C_I] = -p[u, SF]
        if p[u, JT] != 0.0:
            J[2, C_I], J[2, C_VF], J[2, C_VT] = w * p[u, R], -w, w
        else:
            J[2, C_I] = p[u, ST]


def _init(p, ctx):
    return {}


def _diff_mask(p):
    return (p[:, L] > 0.0).reshape(-1, 1)


def _build(case, pf, alloc) -> Family:
    net = N.dc_net(case, pf)
    nb = 0 if net is None else len(net.br_ids)
    p = np.zeros((nb, len(EXTRA)))
    col = np.zeros((nb, 3), dtype=np.int64)
    rowg = np.zeros((nb, 3), dtype=np.int64)
    if nb:
        N.allocate(net, alloc)
        p[:, R], p[:, L] = net.br_r, net.br_l
        p[:, SF], p[:, ST] = net.scale[net.br_f], net.scale[net.br_t]
        p[:, JF] = net.kind[net.br_f] == N.NODE_JUNCTION
        p[:, JT] = net.kind[net.br_t] == N.NODE_JUNCTION
        for b, bid in enumerate(net.br_ids):
            vf = alloc.shared[f"dc_node/{net.node_ids[net.br_f[b]]}/v"]
            vt = alloc.shared[f"dc_node/{net.node_ids[net.br_t[b]]}/v"]
            col[b] = (alloc.shared[f"dc_branch/{bid}/i"], vf, vt)
            rowg[b] = col[b]
    ids = np.zeros(0, np.int64) if net is None else net.br_ids
    return Family(SPEC, p, col, rowg, np.zeros((nb, 0)), ids, -np.ones(nb, np.int64))


_MASK = np.ones((3, 3), dtype=bool)

SPEC = ModelSpec(
    name="dc_branch", family="hvdc", params=(), extra=EXTRA, states=("i",), algebs=(),
    outputs=(), inputs=("v_from", "v_to"), injects=False, eval=_eval, init=_init,
    jac_mask=_MASK, diff_mask=_diff_mask, extra_rows=("kcl_from", "kcl_to"), build=_build,
)
