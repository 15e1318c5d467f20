"""GAST: gas turbine-governor with an exhaust-temperature (load) limit.

Equations (PSS/E Model Library, GAST; the same blocks in PowerSimulationsDynamics' GasTG
documentation, eq. 4a-4f, "GAST in PSSE", and in ANDES's GAST; facts only)::

    dw   = omega - 1                                   speed deviation (pu)
    d    = pref - dw / R                               droop demand (PSS/E: (Pref - dw)/R)
    lim  = AT + KT (AT - x3)                           temperature (load) limit channel
    u    = min(d, lim)                                 LOW-VALUE SELECT
    dx1/dt = (u - x1) / T1,   VMIN <= x1 <= VMAX       fuel valve, NON-WINDUP limits
    dx2/dt = (x1 - x2) / T2                            turbine (fuel to power)
    dx3/dt = (x2 - x3) / T3                            exhaust-temperature measurement
    pm   = x2 - DTURB dw                               mechanical power (machine base)

In steady state with the temperature limit in control x3 = x1, so x1 = AT + KT (AT - x1), i.e.
the unit settles at pm = AT (- DTURB dw): AT is the ambient-temperature load limit in pu of the
machine base.  T1 = 0 makes the valve algebraic (x1 = clip(u)); T2 = 0 and T3 = 0 bypass their
lags.  DYR record ``IBUS 'GAST' ID  R T1 T2 T3 AT KT VMAX VMIN DTURB`` (the order of
PowerSystems.jl's GasTG "GAST in PSSE" fields and of ANDES's GAST data).

casa_dyn's ``pref`` (an extra set at initialization, changed by ``SetpointChange``) is the
steady-state mechanical power at nominal speed, pu on the machine base: PSS/E's speed-unit
reference equals ``R * pref``; the dynamics are identical.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs
from casa_dyn.models.governor._common import clip_d, nw_update, outside


def _check(c) -> list:
    return [(int(r), "v_min_pu", f"VMIN = {c['v_min_pu'][r]:g} exceeds VMAX = {c['v_max_pu'][r]:g}")
            for r in np.flatnonzero(c["v_min_pu"] > c["v_max_pu"])]


TABLE = register(Table(
    "gast", "Gas turbine-governor with temperature limit (PSS/E GAST); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("r_pu", "pu", "permanent droop R (pu speed per pu power)", dyr=1),
        pos("t1_s", "s", "fuel valve time constant T1; 0 = algebraic valve", dyr=2, open_lo=False),
        pos("t2_s", "s", "turbine (fuel flow) time constant T2; 0 = no lag", dyr=3, open_lo=False),
        pos("t3_s", "s", "exhaust-temperature (load limit) time constant T3; 0 = no lag", dyr=4,
            open_lo=False),
        real("at_pu", "pu", "ambient-temperature load limit AT", dyr=5),
        pos("kt", "", "temperature-limiter gain KT", dyr=6, open_lo=False),
        real("v_max_pu", "pu", "maximum fuel valve position VMAX", dyr=7),
        real("v_min_pu", "pu", "minimum fuel valve position VMIN", dyr=8),
        real("d_turb_pu", "pu", "turbine damping DTURB (pu power per pu speed)", 0.0, lo=0.0, dyr=9),
    ),
    family="governor",
    since_version=2,
    checks=(_check,),
))

PARAMS = ("r_pu", "t1_s", "t2_s", "t3_s", "at_pu", "kt", "v_max_pu", "v_min_pu", "d_turb_pu")
EXTRA = ("pref",)
R, T1, T2, T3, AT, KT, VMAX, VMIN, DT, PREF = range(10)
# local columns: x1 x2 x3 | pm | omega ; rows: x1 x2 x3 pm
C_X1, C_X2, C_X3, C_PM, C_W = range(5)


@njit
def _select(z, p, col, u):
    """Low-value select: (u, du/domega, du/dx3)."""
    dw = z[col[u, C_W]] - 1.0
    demand = p[u, PREF] - dw / p[u, R]
    lim = p[u, AT] + p[u, KT] * (p[u, AT] - z[col[u, C_X3]])
    if demand <= lim:
        return demand, -1.0 / p[u, R], 0.0
    return lim, 0.0, -p[u, KT]


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        x1, x2, x3 = z[col[u, C_X1]], z[col[u, C_X2]], z[col[u, C_X3]]
        dw = z[col[u, C_W]] - 1.0
        uin, du_w, du_x3 = _select(z, p, col, u)
        # valve: non-windup lag (frozen while flagged) or, with T1 = 0, an algebraic clip
        if p[u, T1] > 0.0:
            if ds[u, 0] != 0.0:
                f0, d0u, d0x = 0.0, 0.0, 0.0
            else:
                f0, d0u, d0x = (uin - x1) / p[u, T1], 1.0 / p[u, T1], -1.0 / p[u, T1]
        else:
            lim, dlim = clip_d(uin, p[u, VMIN], p[u, VMAX])
            f0, d0u, d0x = lim - x1, dlim, -1.0
        f1, d1u, d1x = lag_rhs(x1, x2, p[u, T2])
        f2, d2u, d2x = lag_rhs(x2, x3, p[u, T3])
        r[u, 0] = f0
        r[u, 1] = f1
        r[u, 2] = f2
        r[u, 3] = x2 - p[u, DT] * dw - z[col[u, C_PM]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_X1] = d0x
        J[0, C_W] = d0u * du_w
        J[0, C_X3] = d0u * du_x3
        J[1, C_X1] = d1u
        J[1, C_X2] = d1x
        J[2, C_X2] = d2u
        J[2, C_X3] = d2x
        J[3, C_X2] = 1.0
        J[3, C_PM] = -1.0
        J[3, C_W] = -p[u, DT]


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        if p[u, T1] <= 0.0:
            continue  # algebraic valve: the clip needs no flag
        k = col[u, C_X1]
        uin = _select(z, p, col, u)[0]
        x, flag = nw_update(uin - z[k], z[k], ds[u, 0], p[u, VMIN], p[u, VMAX])
        if flag != ds[u, 0]:
            n += 1
        ds[u, 0] = flag
        z[k] = x
    return n


def _init(p, ctx):
    """Equilibrium at the machine's initial pm and speed: x1 = x2 = x3 = pm + DTURB dw, the droop
    channel in control (pref = x1 + dw/R), so the unit must start at or below its load limit AT."""
    pm = ctx.value("pm")
    dw = ctx.value("omega") - 1.0
    x1 = pm + p[:, DT] * dw
    p[:, PREF] = x1 + dw / p[:, R]
    problems = []
    for k in np.flatnonzero(outside(x1, p[:, VMIN], p[:, VMAX])):
        problems.append((int(k), "v_max_pu", f"initial valve position {x1[k]:.4f} pu (pm = {pm[k]:.4f} pu) "
                         f"is outside [VMIN, VMAX] = [{p[k, VMIN]:g}, {p[k, VMAX]:g}]"))
    for k in np.flatnonzero(x1 > p[:, AT] + 1e-9):
        problems.append((int(k), "at_pu", f"initial load {x1[k]:.4f} pu exceeds the ambient-temperature "
                         f"load limit AT = {p[k, AT]:g} pu: the temperature limit would be in control"))
    return {"x1": x1, "x2": x1.copy(), "x3": x1.copy(), "pm": pm.copy(), "_problems": problems}


def _diff(p):
    return np.stack([lag_diff(p[:, T1]), lag_diff(p[:, T2]), lag_diff(p[:, T3])], axis=1)


_MASK = np.zeros((4, 5), dtype=bool)
_MASK[0, [C_X1, C_X3, C_W]] = True
_MASK[1, [C_X1, C_X2]] = True
_MASK[2, [C_X2, C_X3]] = True
_MASK[3, [C_X2, C_PM, C_W]] = True

SPEC = ModelSpec(
    name="gast", family="governor", params=PARAMS, extra=EXTRA,
    states=("x1", "x2", "x3"), algebs=(), outputs=("pm",), inputs=("omega",),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff,
)
