"""HYGOV: hydro turbine-governor with temporary droop and a nonlinear water column.

Equations (PSS/E Model Library, HYGOV; the turbine is the nonlinear, inelastic-water-column
model of Kundur, Power System Stability and Control, 1994, sec. 9.1, with unrestricted head race
and tail race and no surge tank; the same block structure is documented in OpenIPSL's
PSS/E-verified ``Electrical.Controls.PSSE.TG.HYGOV`` and in ORNL GridKit's HYGOV notes, which
follow PowerWorld's HYGOV diagram; facts only)::

    dw   = omega - 1                                    speed deviation (pu)
    e    = R cref - dw - R c                            speed error with permanent droop R on c
    dxf/dt = (e - xf) / Tf                              filter
    fc   = (xf + Tr dxf/dt) / (r Tr)                    (1 + s Tr)/(r Tr s): PI with temporary droop r
    dc/dt = clip(fc, -VELM, VELM),  GMIN <= c <= GMAX   desired gate: rate limit VELM, NON-WINDUP
                                                        position limits
    dg/dt = (c - g) / Tg                                gate servo
    h    = (q / g)^2                                    head at the turbine (q = g sqrt(h))
    dq/dt = (1 - h) / Tw                                water column, static head 1 pu
    pm   = At h (q - qNL) - Dturb dw g                  mechanical power (machine base)

The water column is what makes a hydro unit non-minimum-phase: when the gate opens, the flow
cannot follow at once, so the head (and the power) first drops.  h is written in the residual
as (q/g)^2, so a gate at exactly 0 is singular; keep GMIN > 0 or the gate open.

DYR record ``IBUS 'HYGOV' ID  R r Tr Tf Tg VELM GMAX GMIN TW At Dturb qNL`` (CON order
cross-checked with GridKit's HYGOV parameter table, taken from PowerWorld, and open DYR writers).
Tf, Tr, r and Tw must be positive (the filter state feeds the lead of the PI block); Tg = 0
makes the servo algebraic (g = c).

casa_dyn's ``pref`` (an extra set at initialization, changed by ``SetpointChange``) is the
steady-state mechanical power at nominal speed, pu on the machine base.  The gate reference is
``cref = pref / At + qNL`` and PSS/E's speed-unit reference equals ``R cref``; the dynamics are
identical.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs
from casa_dyn.models.governor._common import clip_d, nw_update, outside


def _check(c) -> list:
    out = [(int(r), "g_min_pu", f"GMIN = {c['g_min_pu'][r]:g} exceeds GMAX = {c['g_max_pu'][r]:g}")
           for r in np.flatnonzero(c["g_min_pu"] > c["g_max_pu"])]
    return out


TABLE = register(Table(
    "hygov", "Hydro turbine-governor (PSS/E HYGOV); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("r_pu", "pu", "permanent droop R (pu speed per pu gate)", dyr=1),
        pos("r_temp_pu", "pu", "temporary droop r", dyr=2),
        pos("t_r_s", "s", "governor (dashpot reset) time constant Tr", dyr=3),
        pos("t_f_s", "s", "filter time constant Tf", dyr=4),
        pos("t_g_s", "s", "gate servo time constant Tg; 0 = algebraic servo", dyr=5, open_lo=False),
        pos("velm_pu_per_s", "pu/s", "gate velocity limit VELM", dyr=6),
        real("g_max_pu", "pu", "maximum gate opening GMAX", dyr=7),
        real("g_min_pu", "pu", "minimum gate opening GMIN", dyr=8),
        pos("t_w_s", "s", "water inertia time constant TW", dyr=9),
        pos("a_t", "", "turbine gain At", dyr=10),
        real("d_turb_pu", "pu", "turbine damping Dturb (pu power per pu speed and gate)", 0.0,
             lo=0.0, dyr=11),
        real("q_nl_pu", "pu", "no-load water flow at nominal head qNL", lo=0.0, dyr=12),
    ),
    family="governor",
    since_version=2,
    checks=(_check,),
))

PARAMS = ("r_pu", "r_temp_pu", "t_r_s", "t_f_s", "t_g_s", "velm_pu_per_s", "g_max_pu", "g_min_pu",
          "t_w_s", "a_t", "d_turb_pu", "q_nl_pu")
EXTRA = ("pref",)
R, RT, TR, TF, TG, VELM, GMAX, GMIN, TW, AT, DTURB, QNL, PREF = range(13)
# local columns: xf c g q | pm | omega ; rows: xf c g q pm
C_XF, C_C, C_G, C_Q, C_PM, C_W = range(6)


@njit
def _error(z, p, col, u):
    """Speed error e at the filter input, and the unfrozen gate-rate demand fc."""
    dw = z[col[u, C_W]] - 1.0
    xf = z[col[u, C_XF]]
    c = z[col[u, C_C]]
    e = p[u, R] * (p[u, PREF] / p[u, AT] + p[u, QNL]) - dw - p[u, R] * c
    fc = (xf / p[u, TR] + (e - xf) / p[u, TF]) / p[u, RT]
    return dw, e, fc


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        dw, e, fc = _error(z, p, col, u)
        xf = z[col[u, C_XF]]
        c = z[col[u, C_C]]
        g = z[col[u, C_G]]
        q = z[col[u, C_Q]]
        pm = z[col[u, C_PM]]
        rate, drate = clip_d(fc, -p[u, VELM], p[u, VELM])
        if ds[u, 0] != 0.0:
            rate, drate = 0.0, 0.0  # gate at GMAX/GMIN: frozen until the demand reverses
        f2, d2c, d2g = lag_rhs(c, g, p[u, TG])
        qg = q / g
        h = qg * qg
        dh_dq = 2.0 * qg / g
        dh_dg = -2.0 * h / g
        r[u, 0] = (e - xf) / p[u, TF]
        r[u, 1] = rate
        r[u, 2] = f2
        r[u, 3] = (1.0 - h) / p[u, TW]
        r[u, 4] = p[u, AT] * h * (q - p[u, QNL]) - p[u, DTURB] * dw * g - pm
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        tf, rt = p[u, TF], p[u, RT]
        # de/dc = -R, de/dw = -1
        J[0, C_XF] = -1.0 / tf
        J[0, C_C] = -p[u, R] / tf
        J[0, C_W] = -1.0 / tf
        J[1, C_XF] = drate * (1.0 / p[u, TR] - 1.0 / tf) / rt
        J[1, C_C] = -drate * p[u, R] / (tf * rt)
        J[1, C_W] = -drate / (tf * rt)
        J[2, C_C] = d2c
        J[2, C_G] = d2g
        J[3, C_Q] = -dh_dq / p[u, TW]
        J[3, C_G] = -dh_dg / p[u, TW]
        J[4, C_Q] = p[u, AT] * (dh_dq * (q - p[u, QNL]) + h)
        J[4, C_G] = p[u, AT] * dh_dg * (q - p[u, QNL]) - p[u, DTURB] * dw
        J[4, C_PM] = -1.0
        J[4, C_W] = -p[u, DTURB] * g


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        _, _, fc = _error(z, p, col, u)
        k = col[u, C_C]
        c, flag = nw_update(fc, z[k], ds[u, 0], p[u, GMIN], p[u, GMAX])
        if flag != ds[u, 0]:
            n += 1
        ds[u, 0] = flag
        z[k] = c
    return n


def _init(p, ctx):
    """Steady state at the machine's pm and speed: h = 1, q = g = c, xf = e = 0.

    From pm = At (g - qNL) - Dturb dw g:  g = (pm + At qNL) / (At - Dturb dw);
    e = 0 gives cref = c + dw / R, i.e. pref = At (c + dw/R - qNL)."""
    pm = ctx.value("pm")
    dw = ctx.value("omega") - 1.0
    g = (pm + p[:, AT] * p[:, QNL]) / (p[:, AT] - p[:, DTURB] * dw)
    p[:, PREF] = p[:, AT] * (g + dw / p[:, R] - p[:, QNL])
    problems = []
    for k in np.flatnonzero(outside(g, p[:, GMIN], p[:, GMAX]) | (g <= 0.0)):
        problems.append((int(k), "g_max_pu", f"initial gate {g[k]:.4f} pu (pm = {pm[k]:.4f} pu) is outside "
                         f"[GMIN, GMAX] = [{p[k, GMIN]:g}, {p[k, GMAX]:g}] or not positive"))
    n = len(pm)
    return {"xf": np.zeros(n), "c": g.copy(), "g": g.copy(), "q": g.copy(), "pm": pm.copy(),
            "_problems": problems}


def _diff(p):
    on = np.ones(p.shape[0], dtype=bool)
    return np.stack([on, on, lag_diff(p[:, TG]), on], axis=1)


_MASK = np.zeros((5, 6), dtype=bool)
_MASK[0, [C_XF, C_C, C_W]] = True
_MASK[1, [C_XF, C_C, C_W]] = True
_MASK[2, [C_C, C_G]] = True
_MASK[3, [C_G, C_Q]] = True
_MASK[4, [C_G, C_Q, C_PM, C_W]] = True

SPEC = ModelSpec(
    name="hygov", family="governor", params=PARAMS, extra=EXTRA,
    states=("xf", "c", "g", "q"), algebs=(), outputs=("pm",), inputs=("omega",),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff,
)
