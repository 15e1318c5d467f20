"""SEXS: simplified excitation system (PSS/E Model Library, SEXS; the same structure as
IEEE Std 421.5-1981 "simplified" static exciter and OpenIPSL's PSSE.ES.SEXS)::

    Et  = |vr + j vi|                           terminal voltage (no load compensation)
    vm  = Et / (1 + s TR)                        transducer (casa_dyn extension, TR = 0: none)
    u   = vref - vm + vs
    y   = u (1 + s TA) / (1 + s TB),  TA = (TA/TB) * TB
    xe  = K y / (1 + s TE),  EMIN <= xe <= EMAX  non-windup (the state stops at the limit)
    efd = xe

PSS/E DYR CONs in order: TA/TB, TB (s), K, TE (s), EMIN, EMAX (pu).  ``tr_s`` is not part of
PSS/E's SEXS (its DYR record has no transducer); it exists so Kundur's thyristor exciter
(KA = 200, TR = 0.01 s; Kundur 1994 Example 12.6) can be written as SEXS + transducer.
Zero TB, TE or TR bypass their block (the row becomes algebraic).
``vref`` is computed at initialization so that the unit starts in equilibrium.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import nw_lag, nw_update, vmag


def _check_limits(t):
    return [(int(r), "emax_pu", f"EMAX {t['emax_pu'][r]:g} must exceed EMIN {t['emin_pu'][r]:g}")
            for r in np.flatnonzero(t["emax_pu"] <= t["emin_pu"])]


TABLE = register(Table(
    "sexs", "Simplified excitation system (PSS/E SEXS); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("ta_tb", "", "TA/TB: ratio of lead to lag time constant", dyr=1, open_lo=False),
        pos("tb_s", "s", "TB: lag time constant of the lead-lag (0 = bypassed)", dyr=2, open_lo=False),
        pos("k", "", "K: exciter gain", dyr=3),
        pos("te_s", "s", "TE: exciter time constant (0 = no lag)", dyr=4, open_lo=False),
        real("emin_pu", "pu", "EMIN: lower limit of the exciter output (non-windup)", dyr=5),
        real("emax_pu", "pu", "EMAX: upper limit of the exciter output (non-windup)", dyr=6),
        pos("tr_s", "s", "terminal-voltage transducer time constant; not in PSS/E's SEXS "
            "(0 = none, as PSS/E)", 0.0, open_lo=False),
    ),
    family="exciter",
    since_version=2,
    checks=(_check_limits,),
))

PARAMS = ("ta_tb", "tb_s", "k", "te_s", "emin_pu", "emax_pu", "tr_s")
EXTRA = ("vref",)
TATB, TB, K, TE, EMIN, EMAX, TR, VREF = range(8)
# local columns: vm xll xe | efd | vr vi vs ; rows: vm xll xe efd
C_VM, C_XLL, C_XE, C_EFD, C_VR, C_VI, C_VS = range(7)


@njit
def _lead_lag_out(z, p, col, u):
    """Signals up to the exciter lag: (Et, dEt/dvr, dEt/dvi, ll tuple, K*y)."""
    et, det_r, det_i = vmag(z[col[u, C_VR]], z[col[u, C_VI]])
    uin = p[u, VREF] - z[col[u, C_VM]] + z[col[u, C_VS]]
    ll = leadlag_rhs(uin, z[col[u, C_XLL]], p[u, TATB] * p[u, TB], p[u, TB])
    return et, det_r, det_i, ll, p[u, K] * ll[1]


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        et, det_r, det_i, ll, ky = _lead_lag_out(z, p, col, u)
        vm = z[col[u, C_VM]]
        xe = z[col[u, C_XE]]
        f_vm, dvm_du, dvm_dx = lag_rhs(et, vm, p[u, TR])
        f_xe, dxe_du, dxe_dx = nw_lag(ky, xe, p[u, TE], ds[u, 0], p[u, EMIN], p[u, EMAX])
        r[u, 0] = f_vm
        r[u, 1] = ll[0]
        r[u, 2] = f_xe
        r[u, 3] = xe - z[col[u, C_EFD]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        dy_du, dy_dx, df_du, df_dx = ll[2], ll[3], ll[4], ll[5]
        J[0, C_VM] = dvm_dx
        J[0, C_VR] = dvm_du * det_r
        J[0, C_VI] = dvm_du * det_i
        J[1, C_XLL] = df_dx
        J[1, C_VM] = -df_du
        J[1, C_VS] = df_du
        g = dxe_du * p[u, K]
        J[2, C_XE] = dxe_dx
        J[2, C_XLL] = g * dy_dx
        J[2, C_VM] = -g * dy_du
        J[2, C_VS] = g * dy_du
        J[3, C_XE] = 1.0
        J[3, C_EFD] = -1.0


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        _, _, _, _, ky = _lead_lag_out(z, p, col, u)
        x, f = nw_update(ky, z[col[u, C_XE]], ds[u, 0], p[u, EMIN], p[u, EMAX])
        z[col[u, C_XE]] = x
        z[col[u, C_EFD]] = x  # keep the output consistent with a clamped state (efd = xe)
        if f != ds[u, 0]:
            ds[u, 0] = f
            n += 1
    return n


def _init(p, ctx):
    efd = ctx.value("efd")
    vs = ctx.value("vs")
    et = np.abs(ctx.v)
    y0 = efd / p[:, K]
    p[:, VREF] = et + y0 - vs
    bad = [(k, "emax_pu" if efd[k] > p[k, EMAX] else "emin_pu",
            f"initial field voltage {efd[k]:.4f} pu is outside [EMIN, EMAX] = "
            f"[{p[k, EMIN]:g}, {p[k, EMAX]:g}]")
           for k in np.flatnonzero((efd > p[:, EMAX]) | (efd < p[:, EMIN]))]
    return {"vm": et, "xll": y0, "xe": efd, "efd": efd, "_problems": bad}


def _diff_mask(p):
    return np.stack([lag_diff(p[:, TR]), lag_diff(p[:, TB]), lag_diff(p[:, TE])], axis=1)


_MASK = np.zeros((4, 7), dtype=bool)
_MASK[0, [C_VM, C_VR, C_VI]] = True
_MASK[1, [C_XLL, C_VM, C_VS]] = True
_MASK[2, [C_XE, C_XLL, C_VM, C_VS]] = True
_MASK[3, [C_XE, C_EFD]] = True

SPEC = ModelSpec(
    name="sexs", family="exciter", params=PARAMS, extra=EXTRA,
    states=("vm", "xll", "xe"), algebs=(), outputs=("efd",), inputs=("vr", "vi", "vs"),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff_mask,
)
