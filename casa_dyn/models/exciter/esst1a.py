"""ESST1A: IEEE Type ST1A static excitation system (PSS/E Model Library, ESST1A; IEEE Std
421.5-2016 sec. 7.1 and 421.5-2005 sec. 7.1; the same structure as OpenIPSL's PSSE.ES.ESST1A and
PowerSimulationsDynamics' ESST1A)::

    Et   = |vr + j vi|
    vm   = Et / (1 + s TR)
    ilim = max(0, KLR (XadIfd - ILR))                 field-current limiter signal
    vp   = VA + [VOS = 2] vs - ilim                   (UEL/OEL gates: pass-through, see below)
    vf   = s KF / (1 + s TF) * vp = (KF/TF) (vp - xf),  dxf/dt = (vp - xf)/TF
    vi   = clip(vref - vm + [VOS = 1] vs - vf, VIMIN, VIMAX)
    y    = vi (1 + s TC)/(1 + s TB) (1 + s TC1)/(1 + s TB1)
    VA   = KA y / (1 + s TA),  VAMIN <= VA <= VAMAX   non-windup
    efd  = clip(vp, Et VRMIN, Et VRMAX - KC XadIfd)   windup output limit

ICONs: UEL (1: UEL signal added to the error; 2: HV gate after VI; 3: HV gate after VA) and
VOS (1: stabilizer signal added to the error; 2: added after VA) — PowerWorld's ESST1A page and
OpenIPSL agree on these codes.  casa_dyn has **no under- or over-excitation limiter models**:
VUEL and VOEL are absent, which for every UEL code means the gates pass the main signal through
(an absent UEL adds 0 or loses every HV gate; an absent OEL loses every LV gate).  UEL is kept
for data round trips.  The rate feedback is taken from vp (before the output limit), as in
OpenIPSL and PowerSimulationsDynamics.
PSS/E DYR CONs in order: TR, VIMAX, VIMIN, TC, TB, TC1, TB1, KA, TA, VAMAX, VAMIN, VRMAX, VRMIN,
KC, KF, TF, KLR, ILR.  TR, TB, TB1, TA = 0 bypass their blocks; TF = 0 only with KF = 0.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d, nw_lag, nw_update, vmag


def _checks(t):
    out = []
    for hi, lo in (("vimax_pu", "vimin_pu"), ("vamax_pu", "vamin_pu"), ("vrmax_pu", "vrmin_pu")):
        out += [(int(r), hi, f"{hi[:-3].upper()} {t[hi][r]:g} must exceed {lo[:-3].upper()} "
                 f"{t[lo][r]:g}") for r in np.flatnonzero(t[hi] <= t[lo])]
    out += [(int(r), "tf_s", "TF = 0 needs KF = 0 (a rate feedback without lag is a pure derivative)")
            for r in np.flatnonzero((t["tf_s"] == 0.0) & (t["kf"] != 0.0))]
    return out


TABLE = register(Table(
    "esst1a", "IEEE Type ST1A static excitation system (PSS/E ESST1A); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        Column("uel", INT, "ICON UEL: where a UEL signal would enter (1 error sum, 2 HV gate after "
               "VI, 3 HV gate after VA); no effect, casa_dyn has no UEL models", default=1, lo=1, hi=3),
        Column("vos", INT, "ICON VOS: where the stabilizer signal enters (1 error sum, 2 after VA)",
               default=1, lo=1, hi=2),
        pos("tr_s", "s", "TR: transducer time constant (0 = none)", dyr=1, open_lo=False),
        real("vimax_pu", "pu", "VIMAX: upper limit of the voltage error", dyr=2),
        real("vimin_pu", "pu", "VIMIN: lower limit of the voltage error", dyr=3),
        pos("tc_s", "s", "TC: lead time constant, first lead-lag", dyr=4, open_lo=False),
        pos("tb_s", "s", "TB: lag time constant, first lead-lag (0 = bypassed)", dyr=5, open_lo=False),
        pos("tc1_s", "s", "TC1: lead time constant, second lead-lag", dyr=6, open_lo=False),
        pos("tb1_s", "s", "TB1: lag time constant, second lead-lag (0 = bypassed)", dyr=7,
            open_lo=False),
        pos("ka", "", "KA: regulator gain", dyr=8),
        pos("ta_s", "s", "TA: regulator time constant (0 = none)", dyr=9, open_lo=False),
        real("vamax_pu", "pu", "VAMAX: regulator upper limit (non-windup)", dyr=10),
        real("vamin_pu", "pu", "VAMIN: regulator lower limit (non-windup)", dyr=11),
        real("vrmax_pu", "pu", "VRMAX: output upper limit factor (times Et, minus KC XadIfd)", dyr=12),
        real("vrmin_pu", "pu", "VRMIN: output lower limit factor (times Et)", dyr=13),
        pos("kc", "", "KC: rectifier loading factor", dyr=14, open_lo=False),
        pos("kf", "", "KF: rate-feedback gain", dyr=15, open_lo=False),
        pos("tf_s", "s", "TF: rate-feedback time constant (0 only with KF = 0)", dyr=16,
            open_lo=False),
        pos("klr", "", "KLR: field-current limiter gain", dyr=17, open_lo=False),
        real("ilr_pu", "pu", "ILR: field-current limiter reference (XadIfd units)", dyr=18),
    ),
    family="exciter",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("uel", "vos", "tr_s", "vimax_pu", "vimin_pu", "tc_s", "tb_s", "tc1_s", "tb1_s", "ka",
          "ta_s", "vamax_pu", "vamin_pu", "vrmax_pu", "vrmin_pu", "kc", "kf", "tf_s", "klr", "ilr_pu")
EXTRA = ("vref",)
(UEL, VOS, TR, VIMAX, VIMIN, TC, TB, TC1, TB1, KA, TA, VAMAX, VAMIN, VRMAX, VRMIN, KC, KF, TF, KLR,
 ILR, VREF) = range(21)
# local columns: vm x1 x2 va xf | efd | vr vi vs xadifd ; rows: vm x1 x2 va xf efd
C_VM, C_X1, C_X2, C_VA, C_XF, C_EFD, C_VR, C_VI, C_VS, C_IFD = range(10)
#: the columns the error signal depends on, in the order of ``d_err`` in ``_eval``
_ERR = (C_VM, C_VS, C_VA, C_IFD, C_XF)


@njit
def _signals(z, p, col, u):
    """(vp, dvp/dvs, dvp/difd, kf/tf, vi, dvi/derr, ll1, ll2, KA*y)."""
    vos2 = 1.0 if p[u, VOS] == 2.0 else 0.0
    vs = z[col[u, C_VS]]
    ilr = p[u, KLR] * (z[col[u, C_IFD]] - p[u, ILR])
    dilim = p[u, KLR] if ilr > 0.0 else 0.0
    vp = z[col[u, C_VA]] + vos2 * vs - (ilr if ilr > 0.0 else 0.0)
    kf_tf = p[u, KF] / p[u, TF] if p[u, TF] > 0.0 else 0.0
    err = p[u, VREF] - z[col[u, C_VM]] + (1.0 - vos2) * vs - kf_tf * (vp - z[col[u, C_XF]])
    vi, dvi, _, _ = clip_d(err, p[u, VIMIN], p[u, VIMAX])
    ll1 = leadlag_rhs(vi, z[col[u, C_X1]], p[u, TC], p[u, TB])
    ll2 = leadlag_rhs(ll1[1], z[col[u, C_X2]], p[u, TC1], p[u, TB1])
    return vp, vos2, -dilim, kf_tf, vi, dvi, ll1, ll2, p[u, KA] * ll2[1]


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        et, det_r, det_i = vmag(z[col[u, C_VR]], z[col[u, C_VI]])
        vm = z[col[u, C_VM]]
        va = z[col[u, C_VA]]
        xf = z[col[u, C_XF]]
        vp, dvp_dvs, dvp_difd, kf_tf, vi, dvi, ll1, ll2, kay = _signals(z, p, col, u)
        f_vm, dvm_du, dvm_dx = lag_rhs(et, vm, p[u, TR])
        f_va, dva_du, dva_dx = nw_lag(kay, va, p[u, TA], ds[u, 0], p[u, VAMIN], p[u, VAMAX])
        f_xf, dxf_du, dxf_dx = lag_rhs(vp, xf, p[u, TF])
        kc = p[u, KC]
        lo = et * p[u, VRMIN]
        hi = et * p[u, VRMAX] - kc * z[col[u, C_IFD]]
        efd, de_dx, de_dlo, de_dhi = clip_d(vp, lo, hi)
        r[u, 0] = f_vm
        r[u, 1] = ll1[0]
        r[u, 2] = ll2[0]
        r[u, 3] = f_va
        r[u, 4] = f_xf
        r[u, 5] = efd - z[col[u, C_EFD]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_VM] = dvm_dx
        J[0, C_VR] = dvm_du * det_r
        J[0, C_VI] = dvm_du * det_i
        # chain rule through err -> vi -> lead-lag 1 -> lead-lag 2 -> KA/(1 + s TA); err depends on
        # vm, vs, va, xadifd, xf (vp = va + vos2 vs - ilim enters through the rate feedback)
        d_err = (-1.0, (1.0 - dvp_dvs) - kf_tf * dvp_dvs, -kf_tf, -kf_tf * dvp_difd, kf_tf)
        g = dva_du * p[u, KA]
        for m in range(5):
            k = _ERR[m]
            dv = dvi * d_err[m]
            dy1 = ll1[2] * dv
            J[1, k] += ll1[4] * dv
            J[2, k] += ll2[4] * dy1
            J[3, k] += g * ll2[2] * dy1
        J[1, C_X1] += ll1[5]
        J[2, C_X1] += ll2[4] * ll1[3]
        J[2, C_X2] += ll2[5]
        J[3, C_X1] += g * ll2[2] * ll1[3]
        J[3, C_X2] += g * ll2[3]
        J[3, C_VA] += dva_dx
        J[4, C_VA] = dxf_du
        J[4, C_VS] = dxf_du * dvp_dvs
        J[4, C_IFD] = dxf_du * dvp_difd
        J[4, C_XF] = dxf_dx
        J[5, C_VA] = de_dx
        J[5, C_VS] = de_dx * dvp_dvs
        J[5, C_IFD] = de_dx * dvp_difd - de_dhi * kc
        J[5, C_VR] = (de_dlo * p[u, VRMIN] + de_dhi * p[u, VRMAX]) * det_r
        J[5, C_VI] = (de_dlo * p[u, VRMIN] + de_dhi * p[u, VRMAX]) * det_i
        J[5, C_EFD] = -1.0


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        kay = _signals(z, p, col, u)[8]
        x, f = nw_update(kay, z[col[u, C_VA]], ds[u, 0], p[u, VAMIN], p[u, VAMAX])
        z[col[u, C_VA]] = x
        # keep the output consistent with a clamped VA (efd = clip(vp, lo, hi))
        et = vmag(z[col[u, C_VR]], z[col[u, C_VI]])[0]
        hi = et * p[u, VRMAX] - p[u, KC] * z[col[u, C_IFD]]
        z[col[u, C_EFD]] = clip_d(_signals(z, p, col, u)[0], et * p[u, VRMIN], hi)[0]
        if f != ds[u, 0]:
            ds[u, 0] = f
            n += 1
    return n


def _init(p, ctx):
    efd = ctx.value("efd")
    vs = ctx.value("vs")
    ifd = ctx.value("xadifd")
    et = np.abs(ctx.v)
    vos2 = (p[:, VOS] == 2).astype(float)
    lo = et * p[:, VRMIN]
    hi = et * p[:, VRMAX] - p[:, KC] * ifd
    ilim = np.maximum(0.0, p[:, KLR] * (ifd - p[:, ILR]))
    va0 = efd - vos2 * vs + ilim
    y0 = va0 / p[:, KA]
    problems = [(k, "vrmax_pu" if efd[k] > hi[k] else "vrmin_pu",
                 f"initial field voltage {efd[k]:.4f} pu is outside the output limits "
                 f"[{lo[k]:.4f}, {hi[k]:.4f}] pu") for k in np.flatnonzero((efd > hi) | (efd < lo))]
    problems += [(k, "vamax_pu" if va0[k] > p[k, VAMAX] else "vamin_pu",
                  f"initial regulator output {va0[k]:.4f} pu is outside [VAMIN, VAMAX] = "
                  f"[{p[k, VAMIN]:g}, {p[k, VAMAX]:g}]")
                 for k in np.flatnonzero((va0 > p[:, VAMAX]) | (va0 < p[:, VAMIN]))]
    problems += [(k, "vimax_pu" if y0[k] > p[k, VIMAX] else "vimin_pu",
                  f"initial voltage error {y0[k]:.4f} pu is outside [VIMIN, VIMAX] = "
                  f"[{p[k, VIMIN]:g}, {p[k, VIMAX]:g}]")
                 for k in np.flatnonzero((y0 > p[:, VIMAX]) | (y0 < p[:, VIMIN]))]
    p[:, VREF] = et + y0 - (1.0 - vos2) * vs
    return {"vm": et, "x1": y0, "x2": y0, "va": va0, "xf": efd, "efd": efd, "_problems": problems}


def _diff_mask(p):
    return np.stack([lag_diff(p[:, TR]), lag_diff(p[:, TB]), lag_diff(p[:, TB1]),
                     lag_diff(p[:, TA]), lag_diff(p[:, TF])], axis=1)


_MASK = np.zeros((6, 10), dtype=bool)
_MASK[0, [C_VM, C_VR, C_VI]] = True
_MASK[1, list(_ERR) + [C_X1]] = True
_MASK[2, list(_ERR) + [C_X1, C_X2]] = True
_MASK[3, list(_ERR) + [C_X1, C_X2]] = True
_MASK[4, [C_VA, C_VS, C_IFD, C_XF]] = True
_MASK[5, [C_VA, C_VS, C_IFD, C_VR, C_VI, C_EFD]] = True

SPEC = ModelSpec(
    name="esst1a", family="exciter", params=PARAMS, extra=EXTRA,
    states=("vm", "x1", "x2", "va", "xf"), algebs=(), outputs=("efd",),
    inputs=("vr", "vi", "vs", "xadifd"),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff_mask,
)
