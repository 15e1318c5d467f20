"""EXST1: IEEE Type ST1 static (potential-source, controlled-rectifier) excitation system,
1981 (PSS/E Model Library, EXST1; IEEE Committee Report, "Excitation system models for power
system stability studies", IEEE Trans. PAS-100, 1981; the same structure as OpenIPSL's
PSSE.ES.EXST1 and PowerSimulationsDynamics' EXST1)::

    Et  = |vr + j vi|
    vm  = Et / (1 + s TR)
    vf  = s KF / (1 + s TF) * VR = (KF/TF) (VR - xf),  dxf/dt = (VR - xf)/TF
    vi  = clip(vref - vm + vs - vf, VIMIN, VIMAX)
    y   = vi (1 + s TC) / (1 + s TB)
    VR  = KA y / (1 + s TA)                      (no limit on the state)
    efd = clip(VR, Et VRMIN - KC XadIfd, Et VRMAX - KC XadIfd)      windup output limit

The rate feedback is taken from the regulator output VR before the output limit, as in the
PSS/E diagram (OpenIPSL and PowerSimulationsDynamics agree).  PSS/E DYR CONs in order: TR,
VIMAX, VIMIN, TC, TB, KA, TA, VRMAX, VRMIN, KC, KF, TF.  TR, TB, TA = 0 bypass their blocks;
TF = 0 is allowed only with KF = 0 (no rate feedback).  ``xadifd`` is the field current from
the machine model (PSS/E's XadIfd).
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d, vmag


def _checks(t):
    out = [(int(r), "vrmax_pu", f"VRMAX {t['vrmax_pu'][r]:g} must exceed VRMIN {t['vrmin_pu'][r]:g}")
           for r in np.flatnonzero(t["vrmax_pu"] <= t["vrmin_pu"])]
    out += [(int(r), "vimax_pu", f"VIMAX {t['vimax_pu'][r]:g} must exceed VIMIN {t['vimin_pu'][r]:g}")
            for r in np.flatnonzero(t["vimax_pu"] <= t["vimin_pu"])]
    out += [(int(r), "tf_s", "TF = 0 needs KF = 0 (a rate feedback without lag is a pure derivative)")
            for r in np.flatnonzero((t["tf_s"] == 0.0) & (t["kf"] != 0.0))]
    return out


TABLE = register(Table(
    "exst1", "IEEE Type ST1 static excitation system, 1981 (PSS/E EXST1); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("tr_s", "s", "TR: transducer time constant (0 = none)", dyr=1, open_lo=False),
        real("vimax_pu", "pu", "VIMAX: upper limit of the voltage error", dyr=2),
        real("vimin_pu", "pu", "VIMIN: lower limit of the voltage error", dyr=3),
        pos("tc_s", "s", "TC: lead time constant", dyr=4, open_lo=False),
        pos("tb_s", "s", "TB: lag time constant (0 = lead-lag bypassed)", dyr=5, open_lo=False),
        pos("ka", "", "KA: regulator gain", dyr=6),
        pos("ta_s", "s", "TA: regulator time constant (0 = none)", dyr=7, open_lo=False),
        real("vrmax_pu", "pu", "VRMAX: output upper limit factor (times Et, minus KC XadIfd)", dyr=8),
        real("vrmin_pu", "pu", "VRMIN: output lower limit factor (times Et, minus KC XadIfd)", dyr=9),
        pos("kc", "", "KC: rectifier loading factor", dyr=10, open_lo=False),
        pos("kf", "", "KF: rate-feedback gain", dyr=11, open_lo=False),
        pos("tf_s", "s", "TF: rate-feedback time constant (0 only with KF = 0)", dyr=12,
            open_lo=False),
    ),
    family="exciter",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("tr_s", "vimax_pu", "vimin_pu", "tc_s", "tb_s", "ka", "ta_s", "vrmax_pu", "vrmin_pu",
          "kc", "kf", "tf_s")
EXTRA = ("vref",)
TR, VIMAX, VIMIN, TC, TB, KA, TA, VRMAX, VRMIN, KC, KF, TF, VREF = range(13)
# local columns: vm xll vrg xf | efd | vr vi vs xadifd ; rows: vm xll vrg xf efd
C_VM, C_XLL, C_VRG, C_XF, C_EFD, C_VR, C_VI, C_VS, C_IFD = range(9)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        et, det_r, det_i = vmag(z[col[u, C_VR]], z[col[u, C_VI]])
        vm = z[col[u, C_VM]]
        vrg = z[col[u, C_VRG]]
        xf = z[col[u, C_XF]]
        ifd = z[col[u, C_IFD]]
        kf_tf = p[u, KF] / p[u, TF] if p[u, TF] > 0.0 else 0.0
        err = p[u, VREF] - vm + z[col[u, C_VS]] - kf_tf * (vrg - xf)
        vi, dvi, _, _ = clip_d(err, p[u, VIMIN], p[u, VIMAX])
        ll = leadlag_rhs(vi, z[col[u, C_XLL]], p[u, TC], p[u, TB])
        f_vm, dvm_du, dvm_dx = lag_rhs(et, vm, p[u, TR])
        f_vr, dvr_du, dvr_dx = lag_rhs(p[u, KA] * ll[1], vrg, p[u, TA])
        f_xf, dxf_du, dxf_dx = lag_rhs(vrg, xf, p[u, TF])
        kc = p[u, KC]
        lo = et * p[u, VRMIN] - kc * ifd
        hi = et * p[u, VRMAX] - kc * ifd
        efd, de_dx, de_dlo, de_dhi = clip_d(vrg, lo, hi)
        r[u, 0] = f_vm
        r[u, 1] = ll[0]
        r[u, 2] = f_vr
        r[u, 3] = f_xf
        r[u, 4] = efd - z[col[u, C_EFD]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        dy_du, dy_dx, df_du, df_dx = ll[2], ll[3], ll[4], ll[5]
        J[0, C_VM] = dvm_dx
        J[0, C_VR] = dvm_du * det_r
        J[0, C_VI] = dvm_du * det_i
        # d(vi)/d(vm, vs, vrg, xf)
        a = dvi
        J[1, C_XLL] = df_dx
        J[1, C_VM] = -df_du * a
        J[1, C_VS] = df_du * a
        J[1, C_VRG] = -df_du * a * kf_tf
        J[1, C_XF] = df_du * a * kf_tf
        g = dvr_du * p[u, KA] * dy_du * a
        J[2, C_XLL] = dvr_du * p[u, KA] * dy_dx
        J[2, C_VM] = -g
        J[2, C_VS] = g
        J[2, C_VRG] = dvr_dx - g * kf_tf
        J[2, C_XF] = g * kf_tf
        J[3, C_VRG] = dxf_du
        J[3, C_XF] = dxf_dx
        J[4, C_VRG] = de_dx
        J[4, C_VR] = (de_dlo * p[u, VRMIN] + de_dhi * p[u, VRMAX]) * det_r
        J[4, C_VI] = (de_dlo * p[u, VRMIN] + de_dhi * p[u, VRMAX]) * det_i
        J[4, C_IFD] = -(de_dlo + de_dhi) * kc
        J[4, C_EFD] = -1.0


def _init(p, ctx):
    efd = ctx.value("efd")
    vs = ctx.value("vs")
    ifd = ctx.value("xadifd")
    et = np.abs(ctx.v)
    lo = et * p[:, VRMIN] - p[:, KC] * ifd
    hi = et * p[:, VRMAX] - p[:, KC] * ifd
    y0 = efd / p[:, KA]
    problems = [(k, "vrmax_pu" if efd[k] > hi[k] else "vrmin_pu",
                 f"initial field voltage {efd[k]:.4f} pu is outside the output limits "
                 f"[{lo[k]:.4f}, {hi[k]:.4f}] pu") for k in np.flatnonzero((efd > hi) | (efd < lo))]
    problems += [(k, "vimax_pu" if y0[k] > p[k, VIMAX] else "vimin_pu",
                  f"initial voltage error {y0[k]:.4f} pu is outside [VIMIN, VIMAX] = "
                  f"[{p[k, VIMIN]:g}, {p[k, VIMAX]:g}]")
                 for k in np.flatnonzero((y0 > p[:, VIMAX]) | (y0 < p[:, VIMIN]))]
    p[:, VREF] = et + y0 - vs
    return {"vm": et, "xll": y0, "vrg": efd, "xf": efd, "efd": efd, "_problems": problems}


def _diff_mask(p):
    return np.stack([lag_diff(p[:, TR]), lag_diff(p[:, TB]), lag_diff(p[:, TA]),
                     lag_diff(p[:, TF])], axis=1)


_MASK = np.zeros((5, 9), dtype=bool)
_MASK[0, [C_VM, C_VR, C_VI]] = True
_MASK[1, [C_XLL, C_VM, C_VS, C_VRG, C_XF]] = True
_MASK[2, [C_XLL, C_VM, C_VS, C_VRG, C_XF]] = True
_MASK[3, [C_VRG, C_XF]] = True
_MASK[4, [C_VRG, C_VR, C_VI, C_IFD, C_EFD]] = True

SPEC = ModelSpec(
    name="exst1", family="exciter", params=PARAMS, extra=EXTRA,
    states=("vm", "xll", "vrg", "xf"), algebs=(), outputs=("efd",),
    inputs=("vr", "vi", "vs", "xadifd"),
    injects=False, eval=_eval, init=_init, jac_mask=_MASK, diff_mask=_diff_mask,
)
