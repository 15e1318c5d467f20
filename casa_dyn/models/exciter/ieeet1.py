"""IEEET1: IEEE Type 1 excitation system, 1968 (PSS/E Model Library, IEEET1; IEEE Committee
Report, "Computer representation of excitation systems", IEEE Trans. PAS-87, 1968; the same
structure as OpenIPSL's PSSE.ES.IEEET1)::

    Et  = |vr + j vi|
    vm  = Et / (1 + s TR)
    vf  = s KF / (1 + s TF) * efd  = (KF/TF) (efd - xf),  dxf/dt = (efd - xf)/TF
    u   = vref - vm + vs - vf
    VR  = KA u / (1 + s TA),  VRMIN <= VR <= VRMAX  non-windup
    TE d(efd)/dt = VR - (KE efd + VX),   VX = efd SE(efd) = B (efd - A)^2 for efd > A

Exciter saturation SE through (E1, SE(E1)) and (E2, SE(E2)): PSS/E's quadratic form
(``casa_dyn.models.exciter._common.quad_sat_coeffs``).  KE = 0 follows PSS/E's rule for DC
exciters as restated in OpenIPSL (``calculate_dc_exciter_params``, after PSS/E Program
Application Guide vol. 2 sec. 15.2.4): the model uses KE = VRMAX / (10 efd0) - SE(efd0).
PSS/E DYR CONs in order: TR, KA, TA, VRMAX, VRMIN, KE, TE, KF, TF, SWITCH, E1, SE(E1), E2,
SE(E2).  SWITCH is kept for round trips and not used (PSS/E does not use it either).
TF and TE must be positive; TR = 0 and TA = 0 bypass their lags.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs
from casa_dyn.models.exciter._common import nw_lag, nw_update, quad_sat, quad_sat_coeffs, vmag


def _checks(t):
    out = [(int(r), "vrmax_pu", f"VRMAX {t['vrmax_pu'][r]:g} must exceed VRMIN {t['vrmin_pu'][r]:g}")
           for r in np.flatnonzero(t["vrmax_pu"] <= t["vrmin_pu"])]
    _, _, ok = quad_sat_coeffs(t["e1_pu"], t["se1"], t["e2_pu"], t["se2"])
    out += [(int(r), "se2", "the saturation points (E1, SE(E1)), (E2, SE(E2)) do not define an "
             "increasing saturation curve (need E2 > E1 with E2 SE(E2) > E1 SE(E1), or both SE = 0)")
            for r in np.flatnonzero(~ok)]
    return out


TABLE = register(Table(
    "ieeet1", "IEEE Type 1 excitation system, 1968 (PSS/E IEEET1); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("tr_s", "s", "TR: transducer time constant (0 = none)", dyr=1, open_lo=False),
        pos("ka", "", "KA: regulator gain", dyr=2),
        pos("ta_s", "s", "TA: regulator time constant (0 = none)", dyr=3, open_lo=False),
        real("vrmax_pu", "pu", "VRMAX: regulator upper limit (non-windup)", dyr=4),
        real("vrmin_pu", "pu", "VRMIN: regulator lower limit (non-windup)", dyr=5),
        real("ke", "", "KE: exciter self-excitation constant (0 = computed at initialization)",
             dyr=6),
        pos("te_s", "s", "TE: exciter time constant", dyr=7),
        pos("kf", "", "KF: rate-feedback gain", dyr=8, open_lo=False),
        pos("tf_s", "s", "TF: rate-feedback time constant", dyr=9),
        real("switch", "", "SWITCH: not used (kept for DYR round trips)", 0.0, dyr=10),
        pos("e1_pu", "pu", "E1: first exciter-voltage point of the saturation curve", dyr=11,
            open_lo=False),
        pos("se1", "", "SE(E1): saturation factor at E1", dyr=12, open_lo=False),
        pos("e2_pu", "pu", "E2: second exciter-voltage point of the saturation curve", dyr=13,
            open_lo=False),
        pos("se2", "", "SE(E2): saturation factor at E2", dyr=14, open_lo=False),
    ),
    family="exciter",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("tr_s", "ka", "ta_s", "vrmax_pu", "vrmin_pu", "ke", "te_s", "kf", "tf_s", "switch",
          "e1_pu", "se1", "e2_pu", "se2")
EXTRA = ("vref", "ke_eff", "sat_a", "sat_b")
(TR, KA, TA, VRMAX, VRMIN, KE, TE, KF, TF, SWITCH, E1, SE1, E2, SE2,
 VREF, KEFF, SAT_A, SAT_B) = range(18)
# local columns: vm vrg ef xf | efd | vr vi vs ; rows: vm vrg ef xf efd
C_VM, C_VRG, C_EF, C_XF, C_EFD, C_VR, C_VI, C_VS = range(8)


@njit
def _reg_input(z, p, col, u):
    """Regulator input KA*u (before the lag) and d(KA u)/d(vm, vs, ef, xf)."""
    kf_tf = p[u, KF] / p[u, TF]
    vf = kf_tf * (z[col[u, C_EF]] - z[col[u, C_XF]])
    uin = p[u, VREF] - z[col[u, C_VM]] + z[col[u, C_VS]] - vf
    ka = p[u, KA]
    return ka * uin, ka, kf_tf


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        et, det_r, det_i = vmag(z[col[u, C_VR]], z[col[u, C_VI]])
        vm = z[col[u, C_VM]]
        vrg = z[col[u, C_VRG]]
        ef = z[col[u, C_EF]]
        xf = z[col[u, C_XF]]
        kau, ka, kf_tf = _reg_input(z, p, col, u)
        f_vm, dvm_du, dvm_dx = lag_rhs(et, vm, p[u, TR])
        f_vr, dvr_du, dvr_dx = nw_lag(kau, vrg, p[u, TA], ds[u, 0], p[u, VRMIN], p[u, VRMAX])
        vx, dvx = quad_sat(ef, p[u, SAT_A], p[u, SAT_B])
        te, tf = p[u, TE], p[u, TF]
        r[u, 0] = f_vm
        r[u, 1] = f_vr
        r[u, 2] = (vrg - p[u, KEFF] * ef - vx) / te
        r[u, 3] = (ef - xf) / tf
        r[u, 4] = ef - z[col[u, C_EFD]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_VM] = dvm_dx
        J[0, C_VR] = dvm_du * det_r
        J[0, C_VI] = dvm_du * det_i
        g = dvr_du * ka
        J[1, C_VRG] = dvr_dx
        J[1, C_VM] = -g
        J[1, C_VS] = g
        J[1, C_EF] = -g * kf_tf
        J[1, C_XF] = g * kf_tf
        J[2, C_VRG] = 1.0 / te
        J[2, C_EF] = -(p[u, KEFF] + dvx) / te
        J[3, C_EF] = 1.0 / tf
        J[3, C_XF] = -1.0 / tf
        J[4, C_EF] = 1.0
        J[4, C_EFD] = -1.0


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        kau, _, _ = _reg_input(z, p, col, u)
        x, f = nw_update(kau, z[col[u, C_VRG]], ds[u, 0], p[u, VRMIN], p[u, VRMAX])
        z[col[u, C_VRG]] = x
        if f != ds[u, 0]:
            ds[u, 0] = f
            n += 1
    return n


def _init(p, ctx):
    efd = ctx.value("efd")
    vs = ctx.value("vs")
    et = np.abs(ctx.v)
    a, b, _ = quad_sat_coeffs(p[:, E1], p[:, SE1], p[:, E2], p[:, SE2])
    p[:, SAT_A], p[:, SAT_B] = a, b
    vx = np.where(efd > a, b * (efd - a) ** 2, 0.0)
    problems = [(k, "ke", f"initial field voltage {efd[k]:.4f} pu must be positive for KE = 0")
                for k in np.flatnonzero((p[:, KE] == 0.0) & ~(efd > 0.0))]
    with np.errstate(divide="ignore", invalid="ignore"):
        se0 = np.where(efd > 0.0, vx / efd, 0.0)
        p[:, KEFF] = np.where(p[:, KE] == 0.0, p[:, VRMAX] / (10.0 * efd) - se0, p[:, KE])
    vr0 = p[:, KEFF] * efd + vx
    problems += [(k, "vrmax_pu" if vr0[k] > p[k, VRMAX] else "vrmin_pu",
                  f"initial regulator output {vr0[k]:.4f} pu is outside [VRMIN, VRMAX] = "
                  f"[{p[k, VRMIN]:g}, {p[k, VRMAX]:g}]")
                 for k in np.flatnonzero((vr0 > p[:, VRMAX]) | (vr0 < p[:, VRMIN]))]
    p[:, VREF] = et + vr0 / p[:, KA] - vs
    return {"vm": et, "vrg": vr0, "ef": efd, "xf": efd, "efd": efd, "_problems": problems}


def _diff_mask(p):
    n = p.shape[0]
    return np.stack([lag_diff(p[:, TR]), lag_diff(p[:, TA]), np.ones(n, bool), np.ones(n, bool)],
                    axis=1)


_MASK = np.zeros((5, 8), dtype=bool)
_MASK[0, [C_VM, C_VR, C_VI]] = True
_MASK[1, [C_VRG, C_VM, C_VS, C_EF, C_XF]] = True
_MASK[2, [C_VRG, C_EF]] = True
_MASK[3, [C_EF, C_XF]] = True
_MASK[4, [C_EF, C_EFD]] = True

SPEC = ModelSpec(
    name="ieeet1", family="exciter", params=PARAMS, extra=EXTRA,
    states=("vm", "vrg", "ef", "xf"), algebs=(), outputs=("efd",), inputs=("vr", "vi", "vs"),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff_mask,
)
