"""ZIP static load with conversion to constant impedance at low voltage.

Relative to the initial (power-flow) voltage V0, as PSS/E converts loads before a dynamic run
(PSS/E Program Operation Manual, CONL; Kundur 1994, sec. 7.1.1 eq. 7.4)::

    P(V) = P0 (pz m^2 + pi m + pp),  Q(V) = Q0 (qz m^2 + qi m + qp),  m = V / V0
    below V < vb:  P(V) = P(vb) (V / vb)^2  (the whole load becomes constant impedance)

The current drawn is I = (P - jQ) V / |V|^2 (system base).  Generators that have no machine
model are represented here too, as constant-current negative loads (document: dynamics).
Parameters per unit: p0, q0 (pu system base), pz, pi, qz, qi, v0, vb, scale (load-step factor).
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.models.base import ModelSpec

P0, Q0, PZ, PI, QZ, QI, V0, VB, SCALE = range(9)
EXTRA = ("p0", "q0", "pz", "pi", "qz", "qi", "v0", "vb", "scale")


@njit
def _pq(p, u, vm):
    """P, Q and their derivatives with respect to |V|."""
    v0 = p[u, V0]
    k = p[u, SCALE]
    pz, pi, qz, qi = p[u, PZ], p[u, PI], p[u, QZ], p[u, QI]
    vb = p[u, VB]
    if vm >= vb:
        m = vm / v0
        pw = k * p[u, P0] * (pz * m * m + pi * m + (1.0 - pz - pi))
        qw = k * p[u, Q0] * (qz * m * m + qi * m + (1.0 - qz - qi))
        dp = k * p[u, P0] * (2.0 * pz * m + pi) / v0
        dq = k * p[u, Q0] * (2.0 * qz * m + qi) / v0
        return pw, qw, dp, dq
    mb = vb / v0
    pb = k * p[u, P0] * (pz * mb * mb + pi * mb + (1.0 - pz - pi))
    qb = k * p[u, Q0] * (qz * mb * mb + qi * mb + (1.0 - qz - qi))
    x = vm / vb
    return pb * x * x, qb * x * x, 2.0 * pb * x / vb, 2.0 * qb * x / vb


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        vr = z[col[u, 0]]
        vi = z[col[u, 1]]
        s = vr * vr + vi * vi
        if s < 1e-12:
            s = 1e-12
        vm = math.sqrt(s)
        pw, qw, dp, dq = _pq(p, u, vm)
        ir = (pw * vr + qw * vi) / s
        ii = (pw * vi - qw * vr) / s
        r[u, 0] = ir
        r[u, 1] = ii
        if not want_jac:
            continue
        dp_r, dp_i = dp * vr / vm, dp * vi / vm
        dq_r, dq_i = dq * vr / vm, dq * vi / vm
        jl[u, 0, 0] = (dp_r * vr + pw + dq_r * vi) / s - ir * 2.0 * vr / s
        jl[u, 0, 1] = (dp_i * vr + dq_i * vi + qw) / s - ir * 2.0 * vi / s
        jl[u, 1, 0] = (dp_r * vi - dq_r * vr - qw) / s - ii * 2.0 * vr / s
        jl[u, 1, 1] = (pw + dp_i * vi - dq_i * vr) / s - ii * 2.0 * vi / s


def _init(p, ctx):
    return {}


SPEC = ModelSpec(
    name="zip", family="load", params=(), extra=EXTRA, states=(), algebs=(), outputs=(),
    inputs=("vr", "vi"), injects=True, eval=_eval, init=_init,
)


def load_params(case, v0: np.ndarray, gen_rows_without_model: np.ndarray, pf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parameter matrix, bus positions and source ids (load id, or -generator id) of the units."""
    from casa_dyn.network.ybus import positions

    ld = case["load"]
    on = np.flatnonzero(ld["in_service"] == 1)
    base = case.base_mva
    rows = []
    for k in on:
        rows.append((ld["p_mw"][k] / base, ld["q_mvar"][k] / base, ld["p_z"][k], ld["p_i"][k],
                     ld["q_z"][k], ld["q_i"][k], ld["v_zip_pu"][k]))
    bus = list(positions(case, ld["bus"][on]))
    ids = list(ld["id"][on])
    gen = case["generator"]
    for g in gen_rows_without_model:
        # constant-current negative load (PSS/E converts generators without models this way)
        # (kept constant-current down to zero voltage: as an impedance it would be a negative one)
        rows.append((-pf.gen_p_mw[g] / base, -pf.gen_q_mvar[g] / base, 0.0, 1.0, 0.0, 1.0, 0.0))
        bus.append(positions(case, [gen["bus"][g]])[0])
        ids.append(-int(gen["id"][g]))
    n = len(rows)
    p = np.zeros((n, len(EXTRA)))
    if n:
        arr = np.array(rows, dtype=float)
        bus = np.array(bus, dtype=np.int64)
        p[:, P0], p[:, Q0] = arr[:, 0], arr[:, 1]
        p[:, PZ], p[:, PI], p[:, QZ], p[:, QI] = arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5]
        p[:, V0] = np.abs(v0[bus])
        p[:, VB] = np.minimum(arr[:, 6], p[:, V0])
        p[:, SCALE] = 1.0
    return p, np.asarray(bus, dtype=np.int64), np.asarray(ids, dtype=np.int64)
