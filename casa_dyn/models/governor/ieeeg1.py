"""IEEEG1: IEEE type 1 speed-governing model (steam turbine with up to four stages).

Equations (PSS/E Model Library, IEEEG1; IEEE Committee Report, "Dynamic models for steam and
hydro turbines in power system studies", IEEE Trans. PAS-92(6), 1973; the same blocks in
ORNL GridKit's IEEEG1 notes, which follow PowerWorld's IEEEG1 diagram; facts only)::

    dw   = omega - 1
    y    = K (1 + s T2)/(1 + s T1) dw                  speed signal, lead-lag state xll
    e    = P0 - y - gv,   P0 = pref / sum(K1..K8)      valve position error
    dgv/dt = clip(e / T3, Uc, Uo),  PMIN <= gv <= PMAX  valve: rate limits Uo (opening) and
                                                        Uc (closing, < 0), NON-WINDUP position
                                                        limits
    dx4/dt = (gv - x4)/T4,  dx5/dt = (x4 - x5)/T5,      steam chest, reheater, crossover,
    dx6/dt = (x5 - x6)/T6,  dx7/dt = (x6 - x7)/T7       double reheat (T = 0: stage bypassed)
    PMECH_HP = K1 x4 + K3 x5 + K5 x6 + K7 x7
    PMECH_LP = K2 x4 + K4 x5 + K6 x6 + K8 x7
    pm   = PMECH_HP + PMECH_LP                          (machine base)

DYR record ``IBUS 'IEEEG1' ID JBUS M  K T1 T2 T3 Uo Uc PMAX PMIN T4 K1 K2 T5 K3 K4 T6 K5 K6 T7 K7
K8`` (CON order cross-checked with ANDES's ``psse-dyr.yaml`` and GridKit's IEEEG1 parameter
table).  The two ICONs JBUS, M name the low-pressure machine of a cross-compound unit.
**casa_dyn supports single-shaft units only**: the second machine is ignored and the
low-pressure output is added to this unit's pm (so the fractions K1..K8 act as one shaft).

casa_dyn's ``pref`` (an extra set at initialization, changed by ``SetpointChange``) is the
steady-state mechanical power at nominal speed, pu on the machine base; PSS/E's load reference
P0 (a valve position) equals ``pref / (K1 + ... + K8)``; the dynamics are identical.
T1 = 0 bypasses the lead-lag (then T2 must be 0).
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.governor._common import clip_d, nw_update, outside


def _check(c) -> list:
    out = [(int(r), "p_min_pu", f"PMIN = {c['p_min_pu'][r]:g} exceeds PMAX = {c['p_max_pu'][r]:g}")
           for r in np.flatnonzero(c["p_min_pu"] > c["p_max_pu"])]
    ksum = sum(c[f"k{i}"] for i in range(1, 9))
    out += [(int(r), "k1", "the turbine fractions K1..K8 sum to zero: the unit has no output")
            for r in np.flatnonzero(ksum <= 0.0)]
    return out


def _tc(name, doc, dyr, positive=False):
    return pos(name, "s", doc, dyr=dyr, open_lo=positive)


def _frac(name, doc, dyr):
    return real(name, "", doc, lo=0.0, dyr=dyr)


TABLE = register(Table(
    "ieeeg1", "IEEE type 1 speed-governing model (PSS/E IEEEG1), single shaft; one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        real("k", "", "governor gain K (reciprocal of the droop, pu power per pu speed)", lo=0.0, dyr=1),
        _tc("t1_s", "lag time constant T1 of the speed lead-lag; 0 = bypassed", 2),
        _tc("t2_s", "lead time constant T2 of the speed lead-lag", 3),
        _tc("t3_s", "valve positioner time constant T3", 4, positive=True),
        pos("u_o_pu_per_s", "pu/s", "maximum valve opening rate Uo", dyr=5),
        real("u_c_pu_per_s", "pu/s", "maximum valve closing rate Uc (negative)", hi=0.0, dyr=6),
        real("p_max_pu", "pu", "maximum valve position PMAX", dyr=7),
        real("p_min_pu", "pu", "minimum valve position PMIN", dyr=8),
        _tc("t4_s", "steam chest (inlet) time constant T4", 9),
        _frac("k1", "HP fraction after the steam chest K1", 10),
        _frac("k2", "LP fraction after the steam chest K2 (added to this shaft)", 11),
        _tc("t5_s", "reheater time constant T5", 12),
        _frac("k3", "HP fraction after the reheater K3", 13),
        _frac("k4", "LP fraction after the reheater K4 (added to this shaft)", 14),
        _tc("t6_s", "crossover time constant T6", 15),
        _frac("k5", "HP fraction after the crossover K5", 16),
        _frac("k6", "LP fraction after the crossover K6 (added to this shaft)", 17),
        _tc("t7_s", "double-reheat time constant T7", 18),
        _frac("k7", "HP fraction after the double reheat K7", 19),
        _frac("k8", "LP fraction after the double reheat K8 (added to this shaft)", 20),
    ),
    family="governor",
    since_version=2,
    checks=(_check,),
))

PARAMS = ("k", "t1_s", "t2_s", "t3_s", "u_o_pu_per_s", "u_c_pu_per_s", "p_max_pu", "p_min_pu",
          "t4_s", "k1", "k2", "t5_s", "k3", "k4", "t6_s", "k5", "k6", "t7_s", "k7", "k8")
EXTRA = ("pref", "ksum")
(K, T1, T2, T3, UO, UC, PMAX, PMIN, T4, K1, K2, T5, K3, K4, T6, K5, K6, T7, K7, K8,
 PREF, KSUM) = range(22)
# local columns: xll gv x4 x5 x6 x7 | pm | omega ; rows: xll gv x4 x5 x6 x7 pm
C_XLL, C_GV, C_X4, C_X5, C_X6, C_X7, C_PM, C_W = range(8)


@njit
def _valve_demand(z, p, col, u):
    """Lead-lag block and the unfrozen valve rate: (leadlag tuple, e, clipped rate, d rate/d e)."""
    dw = z[col[u, C_W]] - 1.0
    ll = leadlag_rhs(p[u, K] * dw, z[col[u, C_XLL]], p[u, T2], p[u, T1])
    e = p[u, PREF] / p[u, KSUM] - ll[1] - z[col[u, C_GV]]
    rate, drate = clip_d(e / p[u, T3], p[u, UC], p[u, UO])
    return ll, rate, drate / p[u, T3]


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        (f0, y, dydu, dydx, dfdu, dfdx), rate, de = _valve_demand(z, p, col, u)
        if ds[u, 0] != 0.0:
            rate, de = 0.0, 0.0  # valve at PMAX/PMIN: frozen until the demand reverses
        gv = z[col[u, C_GV]]
        x4 = z[col[u, C_X4]]
        x5 = z[col[u, C_X5]]
        x6 = z[col[u, C_X6]]
        x7 = z[col[u, C_X7]]
        f4, d4u, d4x = lag_rhs(gv, x4, p[u, T4])
        f5, d5u, d5x = lag_rhs(x4, x5, p[u, T5])
        f6, d6u, d6x = lag_rhs(x5, x6, p[u, T6])
        f7, d7u, d7x = lag_rhs(x6, x7, p[u, T7])
        a4, a5 = p[u, K1] + p[u, K2], p[u, K3] + p[u, K4]
        a6, a7 = p[u, K5] + p[u, K6], p[u, K7] + p[u, K8]
        r[u, 0] = f0
        r[u, 1] = rate
        r[u, 2] = f4
        r[u, 3] = f5
        r[u, 4] = f6
        r[u, 5] = f7
        r[u, 6] = a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7 - z[col[u, C_PM]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_XLL] = dfdx
        J[0, C_W] = dfdu * p[u, K]
        J[1, C_XLL] = -de * dydx
        J[1, C_GV] = -de
        J[1, C_W] = -de * dydu * p[u, K]
        J[2, C_GV], J[2, C_X4] = d4u, d4x
        J[3, C_X4], J[3, C_X5] = d5u, d5x
        J[4, C_X5], J[4, C_X6] = d6u, d6x
        J[5, C_X6], J[5, C_X7] = d7u, d7x
        J[6, C_X4], J[6, C_X5], J[6, C_X6], J[6, C_X7] = a4, a5, a6, a7
        J[6, C_PM] = -1.0


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        _, rate, _ = _valve_demand(z, p, col, u)
        k = col[u, C_GV]
        gv, flag = nw_update(rate, z[k], ds[u, 0], p[u, PMIN], p[u, PMAX])
        if flag != ds[u, 0]:
            n += 1
        ds[u, 0] = flag
        z[k] = gv
    return n


def _init(p, ctx):
    """Steady state: every stage at the valve position gv = pm / sum(K); xll = K dw;
    e = 0 gives P0 = gv + K dw, i.e. pref = sum(K) (gv + K dw)."""
    pm = ctx.value("pm")
    dw = ctx.value("omega") - 1.0
    ksum = p[:, [K1, K2, K3, K4, K5, K6, K7, K8]].sum(axis=1)
    p[:, KSUM] = ksum
    gv = pm / np.where(ksum > 0.0, ksum, np.nan)
    xll = p[:, K] * dw
    p[:, PREF] = ksum * (gv + xll)
    problems = []
    for k in np.flatnonzero(~(ksum > 0.0)):
        problems.append((int(k), "k1", "the turbine fractions K1..K8 sum to zero"))
    for k in np.flatnonzero((ksum > 0.0) & outside(gv, p[:, PMIN], p[:, PMAX])):
        problems.append((int(k), "p_max_pu", f"initial valve position {gv[k]:.4f} pu (pm = {pm[k]:.4f} pu) "
                         f"is outside [PMIN, PMAX] = [{p[k, PMIN]:g}, {p[k, PMAX]:g}]"))
    for k in np.flatnonzero((p[:, T1] <= 0.0) & (p[:, T2] != 0.0)):
        problems.append((int(k), "t1_s", "T1 = 0 with T2 != 0 would need a pure derivative; "
                         "set T2 = 0 or T1 > 0"))
    return {"xll": xll, "gv": gv, "x4": gv.copy(), "x5": gv.copy(), "x6": gv.copy(), "x7": gv.copy(),
            "pm": pm.copy(), "_problems": problems}


def _diff(p):
    on = np.ones(p.shape[0], dtype=bool)
    return np.stack([lag_diff(p[:, T1]), on, lag_diff(p[:, T4]), lag_diff(p[:, T5]),
                     lag_diff(p[:, T6]), lag_diff(p[:, T7])], axis=1)


_MASK = np.zeros((7, 8), dtype=bool)
_MASK[0, [C_XLL, C_W]] = True
_MASK[1, [C_XLL, C_GV, C_W]] = True
_MASK[2, [C_GV, C_X4]] = True
_MASK[3, [C_X4, C_X5]] = True
_MASK[4, [C_X5, C_X6]] = True
_MASK[5, [C_X6, C_X7]] = True
_MASK[6, [C_X4, C_X5, C_X6, C_X7, C_PM]] = True

SPEC = ModelSpec(
    name="ieeeg1", family="governor", params=PARAMS, extra=EXTRA,
    states=("xll", "gv", "x4", "x5", "x6", "x7"), algebs=(), outputs=("pm",), inputs=("omega",),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff,
)
