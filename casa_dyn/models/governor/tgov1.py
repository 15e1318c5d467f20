"""TGOV1: simple steam turbine-governor (droop, valve lag with non-windup limits, reheat lead-lag).

Equations (PSS/E Model Library, TGOV1; IEEE PES-TR1 "Dynamic Models for Turbine-Governors in
Power System Studies", 2013; the same equations in ORNL GridKit's TGOV1 notes, which follow
PowerWorld's TGOV1 diagram; facts only)::

    dw  = omega - 1                                  speed deviation (pu)
    u   = pref - dw / R                              droop (PSS/E: (Pref - dw)/R, Pref = R pref)
    dx1/dt = (u - x1) / T1,   VMIN <= x1 <= VMAX     valve position, NON-WINDUP limits
    dx2/dt = (x1 - x2) / T3                          reheater lead-lag (1 + s T2)/(1 + s T3)
    pm  = x2 + (T2/T3)(x1 - x2) - Dt dw              mechanical power (machine base)

DYR record ``IBUS 'TGOV1' ID  R T1 VMAX VMIN T2 T3 Dt`` (CON order cross-checked with ANDES's
``psse-dyr.yaml`` and PowerWorld's TGOV1 parameter list).  All quantities per unit on the
machine base.  T1 = 0 makes the valve algebraic (x1 = clip(u)); T3 = 0 bypasses the lead-lag
(then T2 must be 0: a pure derivative is not representable).

casa_dyn's ``pref`` (an extra set at initialization, changed by ``SetpointChange``) is the
steady-state mechanical power at nominal speed, pu on the machine base: PSS/E's speed-unit
reference equals ``R * pref``; the dynamics are identical.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, leadlag_rhs
from casa_dyn.models.governor._common import clip_d, nw_update, outside

def _check(c) -> list:
    return [(int(r), "v_min_pu", f"VMIN = {c['v_min_pu'][r]:g} exceeds VMAX = {c['v_max_pu'][r]:g}")
            for r in np.flatnonzero(c["v_min_pu"] > c["v_max_pu"])]


TABLE = register(Table(
    "tgov1", "Steam turbine-governor (PSS/E TGOV1); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("r_pu", "pu", "permanent droop R (pu speed per pu power)", dyr=1),
        pos("t1_s", "s", "valve (steam bowl) time constant T1; 0 = algebraic valve", dyr=2,
            open_lo=False),
        real("v_max_pu", "pu", "maximum valve position VMAX", dyr=3),
        real("v_min_pu", "pu", "minimum valve position VMIN", dyr=4),
        pos("t2_s", "s", "lead time constant T2 of the reheat block", dyr=5, open_lo=False),
        pos("t3_s", "s", "reheater (lag) time constant T3; 0 = no reheat block", dyr=6,
            open_lo=False),
        real("dt_pu", "pu", "turbine damping Dt (pu power per pu speed)", 0.0, lo=0.0, dyr=7),
    ),
    family="governor",
    since_version=2,
    checks=(_check,),
))

PARAMS = ("r_pu", "t1_s", "v_max_pu", "v_min_pu", "t2_s", "t3_s", "dt_pu")
EXTRA = ("pref",)
R, T1, VMAX, VMIN, T2, T3, DT, PREF = range(8)
# local columns: x1 x2 | pm | omega ; rows: x1 x2 pm
C_X1, C_X2, C_PM, C_W = range(4)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        x1 = z[col[u, C_X1]]
        x2 = z[col[u, C_X2]]
        pm = z[col[u, C_PM]]
        dw = z[col[u, C_W]] - 1.0
        inv_r = 1.0 / p[u, R]
        uin = p[u, PREF] - dw * inv_r
        # valve: non-windup lag (frozen while flagged) or, with T1 = 0, an algebraic clip
        if p[u, T1] > 0.0:
            if ds[u, 0] != 0.0:
                f0, d0u, d0x = 0.0, 0.0, 0.0
            else:
                f0, d0u, d0x = (uin - x1) / p[u, T1], 1.0 / p[u, T1], -1.0 / p[u, T1]
        else:
            lim, dlim = clip_d(uin, p[u, VMIN], p[u, VMAX])
            f0, d0u, d0x = lim - x1, dlim, -1.0
        f1, y, dydu, dydx, dfdu, dfdx = leadlag_rhs(x1, x2, p[u, T2], p[u, T3])
        r[u, 0] = f0
        r[u, 1] = f1
        r[u, 2] = y - p[u, DT] * dw - pm
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_X1] = d0x
        J[0, C_W] = -d0u * inv_r
        J[1, C_X1] = dfdu
        J[1, C_X2] = dfdx
        J[2, C_X1] = dydu
        J[2, C_X2] = dydx
        J[2, C_PM] = -1.0
        J[2, C_W] = -p[u, DT]


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        if p[u, T1] <= 0.0:
            continue  # algebraic valve: the clip needs no flag
        k = col[u, C_X1]
        uin = p[u, PREF] - (z[col[u, C_W]] - 1.0) / p[u, R]
        x, flag = nw_update(uin - z[k], z[k], ds[u, 0], p[u, VMIN], p[u, VMAX])
        if flag != ds[u, 0]:
            n += 1
        ds[u, 0] = flag
        z[k] = x
    return n


def _init(p, ctx):
    """Equilibrium at the machine's initial pm and speed: x1 = x2 = pm + Dt dw, pref = x1 + dw/R."""
    pm = ctx.value("pm")
    dw = ctx.value("omega") - 1.0
    x1 = pm + p[:, DT] * dw
    p[:, PREF] = x1 + dw / p[:, R]
    problems = []
    for k in np.flatnonzero(outside(x1, p[:, VMIN], p[:, VMAX])):
        problems.append((int(k), "v_max_pu", f"initial valve position {x1[k]:.4f} pu (pm = {pm[k]:.4f} pu) "
                         f"is outside [VMIN, VMAX] = [{p[k, VMIN]:g}, {p[k, VMAX]:g}]"))
    for k in np.flatnonzero((p[:, T3] <= 0.0) & (p[:, T2] != 0.0)):
        problems.append((int(k), "t3_s", "T3 = 0 with T2 != 0 would need a pure derivative; "
                         "set T2 = 0 or T3 > 0"))
    return {"x1": x1, "x2": x1.copy(), "pm": pm.copy(), "_problems": problems}


def _diff(p):
    return np.stack([lag_diff(p[:, T1]), lag_diff(p[:, T3])], axis=1)


_MASK = np.zeros((3, 4), dtype=bool)
_MASK[0, [C_X1, C_W]] = True
_MASK[1, [C_X1, C_X2]] = True
_MASK[2, [C_X1, C_X2, C_PM, C_W]] = True

SPEC = ModelSpec(
    name="tgov1", family="governor", params=PARAMS, extra=EXTRA,
    states=("x1", "x2"), algebs=(), outputs=("pm",), inputs=("omega",),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff,
)
