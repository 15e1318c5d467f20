"""ESST3A: IEEE Type ST3A static excitation system, potential or compound source with an inner
field-voltage loop (PSS/E Model Library, ESST3A; IEEE Std 421.5-1992/2005 sec. 7.3, type ST3A;
rectifier regulation FEX from IEEE Std 421.5-2005 Annex D; the same structure as ANDES's ESST3A
and OpalRT's PSS/E library; facts only)::

    Et  = |V|,  V = vr + j vi
    vm  = Et / (1 + s TR)
    vi  = clip(vref - vm + vs, VIMIN, VIMAX)                  (UEL HV gate: pass-through)
    y   = vi (1 + s TC)/(1 + s TB)
    VR  = KA y / (1 + s TA),  VRMIN <= VR <= VRMAX             non-windup
    VG  = min(KG efd, VGMAX)                                   inner-loop feedback
    VM  = KM (VR - VG) / (1 + s TM),  VMMIN <= VM <= VMMAX     non-windup
    VE  = | KP e^{j THETAP} V + j (KI + KP e^{j THETAP} XL) I |     potential / compound source
    IN  = KC XadIfd / VE
    FEX = 1 - 0.577 IN (IN <= 0.433);  sqrt(0.75 - IN^2) (< 0.75);  1.732 (1 - IN) (<= 1);  0 (> 1)
    VB  = min(VE FEX, VBMAX)
    efd = VB VM

The terminal current I (machine base) is I = conj(S / V) with S = pe + j qe, the machine's
air-gap power and terminal reactive power (casa_dyn machines expose no terminal current):
exact when the armature resistance is zero, otherwise P is overstated by Ra |I|^2 (for Kundur's
Ra = 0.0025 pu, 0.2 % of the unit's current).  THETAP is in degrees.  casa_dyn has no UEL/OEL
models: the HV gate passes the error through.
PSS/E DYR CONs in order: TR, VIMAX, VIMIN, KM, TC, TB, KA, TA, VRMAX, VRMIN, KG, KP, KI, VBMAX,
KC, XL, VGMAX, THETAP, TM, VMMAX, VMMIN.  TR, TB, TA, TM = 0 bypass their lags.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d, nw_lag, nw_update, vmag


def _checks(t):
    out = []
    for hi, lo in (("vimax_pu", "vimin_pu"), ("vrmax_pu", "vrmin_pu"), ("vmmax_pu", "vmmin_pu")):
        out += [(int(r), hi, f"{hi[:-3].upper()} {t[hi][r]:g} must exceed {lo[:-3].upper()} "
                 f"{t[lo][r]:g}") for r in np.flatnonzero(t[hi] <= t[lo])]
    return out


TABLE = register(Table(
    "esst3a", "IEEE Type ST3A static excitation system (PSS/E ESST3A); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("tr_s", "s", "TR: transducer time constant (0 = none)", dyr=1, open_lo=False),
        real("vimax_pu", "pu", "VIMAX: upper limit of the voltage error", dyr=2),
        real("vimin_pu", "pu", "VIMIN: lower limit of the voltage error", dyr=3),
        pos("km", "", "KM: forward gain of the inner field-voltage loop", dyr=4),
        pos("tc_s", "s", "TC: lead time constant", dyr=5, open_lo=False),
        pos("tb_s", "s", "TB: lag time constant (0 = lead-lag bypassed)", dyr=6, open_lo=False),
        pos("ka", "", "KA: regulator gain", dyr=7),
        pos("ta_s", "s", "TA: regulator time constant (0 = none)", dyr=8, open_lo=False),
        real("vrmax_pu", "pu", "VRMAX: regulator upper limit (non-windup)", dyr=9),
        real("vrmin_pu", "pu", "VRMIN: regulator lower limit (non-windup)", dyr=10),
        pos("kg", "", "KG: feedback gain of the inner field-voltage loop", dyr=11, open_lo=False),
        pos("kp", "", "KP: potential circuit gain", dyr=12),
        pos("ki", "", "KI: compound (current) circuit gain", dyr=13, open_lo=False),
        pos("vbmax_pu", "pu", "VBMAX: upper limit of the available exciter voltage VB", dyr=14),
        pos("kc", "", "KC: rectifier loading factor (commutating reactance)", dyr=15, open_lo=False),
        pos("xl_pu", "pu", "XL: reactance of the potential source", dyr=16, open_lo=False),
        pos("vgmax_pu", "pu", "VGMAX: upper limit of the inner-loop feedback VG", dyr=17,
            open_lo=False),
        real("thetap_deg", "deg", "THETAP: potential circuit phase angle", dyr=18),
        pos("tm_s", "s", "TM: inner-loop time constant (0 = none)", dyr=19, open_lo=False),
        real("vmmax_pu", "pu", "VMMAX: inner-loop upper limit (non-windup)", dyr=20),
        real("vmmin_pu", "pu", "VMMIN: inner-loop lower limit (non-windup)", dyr=21),
    ),
    family="exciter",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("tr_s", "vimax_pu", "vimin_pu", "km", "tc_s", "tb_s", "ka", "ta_s", "vrmax_pu", "vrmin_pu",
          "kg", "kp", "ki", "vbmax_pu", "kc", "xl_pu", "vgmax_pu", "thetap_deg", "tm_s", "vmmax_pu",
          "vmmin_pu")
EXTRA = ("vref",)
(TR, VIMAX, VIMIN, KM, TC, TB, KA, TA, VRMAX, VRMIN, KG, KP, KI, VBMAX, KC, XL, VGMAX, THETAP, TM,
 VMMAX, VMMIN, VREF) = range(22)
# local columns: vm xll vrg vmm | efd | vr vi vs xadifd pe qe ; rows: vm xll vrg vmm efd
C_VM, C_XLL, C_VRG, C_VMM, C_EFD, C_VR, C_VI, C_VS, C_IFD, C_PE, C_QE = range(11)
#: the smallest VE used as a divisor (a dead source gives FEX = 0, not a crash)
VE_EPS = 1e-9


@njit
def _source(vr, vi, pe, qe, kp, theta_deg, ki, xl):
    """VE and dVE/d(vr, vi, pe, qe) of the potential/compound source."""
    th = math.radians(theta_deg)
    kpc = kp * complex(math.cos(th), math.sin(th))
    v = complex(vr, vi)
    vc = v.conjugate()
    c = 1j * (ki + kpc * xl)
    if abs(v) > 1e-6:
        sc = complex(pe, -qe)
        cur = sc / vc
        di_dvr = -sc / (vc * vc)
        di_dvi = 1j * sc / (vc * vc)
        di_dpe = 1.0 / vc
        di_dqe = -1j / vc
    else:
        cur = di_dvr = di_dvi = di_dpe = di_dqe = 0j
    w = kpc * v + c * cur
    ve = abs(w)
    if ve < VE_EPS:
        return ve, 0.0, 0.0, 0.0, 0.0
    wc = w.conjugate()
    return (ve, (wc * (kpc + c * di_dvr)).real / ve, (wc * (1j * kpc + c * di_dvi)).real / ve,
            (wc * c * di_dpe).real / ve, (wc * c * di_dqe).real / ve)


@njit
def fex(i_n):
    """Rectifier regulation FEX(IN) and its derivative (IEEE Std 421.5 Annex D)."""
    if i_n <= 0.433:
        return 1.0 - 0.577 * i_n, -0.577
    if i_n < 0.75:
        s = math.sqrt(0.75 - i_n * i_n)
        return s, -i_n / s
    if i_n <= 1.0:
        return 1.732 * (1.0 - i_n), -1.732
    return 0.0, 0.0


@njit
def _vb(z, p, col, u):
    """VB and dVB/d(VE-inputs vr, vi, pe, qe) and dVB/dXadIfd."""
    ve, dr, di, dp, dq = _source(z[col[u, C_VR]], z[col[u, C_VI]], z[col[u, C_PE]], z[col[u, C_QE]],
                                 p[u, KP], p[u, THETAP], p[u, KI], p[u, XL])
    if ve < VE_EPS:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    kc_ifd = p[u, KC] * z[col[u, C_IFD]]
    f, df = fex(kc_ifd / ve)
    vb, dvb, _, _ = clip_d(ve * f, -np.inf, p[u, VBMAX])
    # d(VE FEX)/dVE = FEX - IN FEX' ;  d(VE FEX)/dXadIfd = KC FEX'
    g = dvb * (f - kc_ifd / ve * df)
    return vb, g * dr, g * di, g * dp, g * dq, dvb * p[u, KC] * df


@njit
def _front(z, p, col, u):
    """(clipped error tuple, lead-lag tuple, KA y, inner-loop input KM (VR - VG), dVG/defd)."""
    err = p[u, VREF] - z[col[u, C_VM]] + z[col[u, C_VS]]
    vi, dvi, _, _ = clip_d(err, p[u, VIMIN], p[u, VIMAX])
    ll = leadlag_rhs(vi, z[col[u, C_XLL]], p[u, TC], p[u, TB])
    vg, dvg, _, _ = clip_d(p[u, KG] * z[col[u, C_EFD]], -np.inf, p[u, VGMAX])
    return dvi, ll, p[u, KA] * ll[1], p[u, KM] * (z[col[u, C_VRG]] - vg), dvg * p[u, KG]


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        et, det_r, det_i = vmag(z[col[u, C_VR]], z[col[u, C_VI]])
        vm, vrg, vmm = z[col[u, C_VM]], z[col[u, C_VRG]], z[col[u, C_VMM]]
        dvi, ll, kay, kmu, dvg = _front(z, p, col, u)
        vb, dvb_r, dvb_i, dvb_p, dvb_q, dvb_f = _vb(z, p, col, u)
        f_vm, dvm_du, dvm_dx = lag_rhs(et, vm, p[u, TR])
        f_vr, dvr_du, dvr_dx = nw_lag(kay, vrg, p[u, TA], ds[u, 0], p[u, VRMIN], p[u, VRMAX])
        f_mm, dmm_du, dmm_dx = nw_lag(kmu, vmm, p[u, TM], ds[u, 1], p[u, VMMIN], p[u, VMMAX])
        r[u, 0] = f_vm
        r[u, 1] = ll[0]
        r[u, 2] = f_vr
        r[u, 3] = f_mm
        r[u, 4] = vb * vmm - z[col[u, C_EFD]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_VM] = dvm_dx
        J[0, C_VR] = dvm_du * det_r
        J[0, C_VI] = dvm_du * det_i
        # error = vref - vm + vs, clipped (dvi = 0 on a limit)
        J[1, C_XLL] = ll[5]
        J[1, C_VM] = -ll[4] * dvi
        J[1, C_VS] = ll[4] * dvi
        g = dvr_du * p[u, KA]
        J[2, C_VRG] = dvr_dx
        J[2, C_XLL] = g * ll[3]
        J[2, C_VM] = -g * ll[2] * dvi
        J[2, C_VS] = g * ll[2] * dvi
        J[3, C_VMM] = dmm_dx
        J[3, C_VRG] = dmm_du * p[u, KM]
        J[3, C_EFD] = -dmm_du * p[u, KM] * dvg
        J[4, C_VMM] = vb
        J[4, C_VR] = vmm * dvb_r
        J[4, C_VI] = vmm * dvb_i
        J[4, C_PE] = vmm * dvb_p
        J[4, C_QE] = vmm * dvb_q
        J[4, C_IFD] = vmm * dvb_f
        J[4, C_EFD] = -1.0


@njit
def _update_discrete(z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        _, _, kay, _, _ = _front(z, p, col, u)
        x, f = nw_update(kay, z[col[u, C_VRG]], ds[u, 0], p[u, VRMIN], p[u, VRMAX])
        z[col[u, C_VRG]] = x
        if f != ds[u, 0]:
            ds[u, 0] = f
            n += 1
        kmu = _front(z, p, col, u)[3]  # with the (possibly clamped) VR
        x, f = nw_update(kmu, z[col[u, C_VMM]], ds[u, 1], p[u, VMMIN], p[u, VMMAX])
        z[col[u, C_VMM]] = x
        if f != ds[u, 1]:
            ds[u, 1] = f
            n += 1
        # keep the output consistent with a clamped VM (efd = VB VM)
        z[col[u, C_EFD]] = _vb(z, p, col, u)[0] * x
    return n


def source_voltage(p, v, pe, qe):
    """VE of the potential/compound source, vectorised (NumPy), for initialization and tests."""
    kpc = p[:, KP] * np.exp(1j * np.radians(p[:, THETAP]))
    cur = np.conj((pe + 1j * qe) / v)
    return np.abs(kpc * v + 1j * (p[:, KI] + kpc * p[:, XL]) * cur)


def fex_np(i_n):
    i_n = np.asarray(i_n, dtype=float)
    return np.select([i_n <= 0.433, i_n < 0.75, i_n <= 1.0],
                     [1.0 - 0.577 * i_n, np.sqrt(np.maximum(0.75 - i_n ** 2, 0.0)), 1.732 * (1.0 - i_n)],
                     0.0)


def _outside(x, lo, hi, what, names):
    return [(int(j), names[0] if x[j] > hi[j] else names[1],
             f"initial {what} {x[j]:.4f} pu is outside [{lo[j]:.4g}, {hi[j]:.4g}]")
            for j in np.flatnonzero((x > hi) | (x < lo))]


def _init(p, ctx):
    efd, vs, ifd = ctx.value("efd"), ctx.value("vs"), ctx.value("xadifd")
    et = np.abs(ctx.v)
    ve = source_voltage(p, ctx.v, ctx.value("pe"), ctx.value("qe"))
    with np.errstate(divide="ignore", invalid="ignore"):
        vb = np.minimum(ve * fex_np(p[:, KC] * ifd / ve), p[:, VBMAX])
        vm0 = efd / vb
    problems = [(int(k), "kp", f"the exciter source voltage VB = {vb[k]:.4g} pu cannot supply the "
                 f"initial field voltage {efd[k]:.4f} pu") for k in np.flatnonzero(~(vb > 0.0))]
    vm0 = np.where(vb > 0.0, vm0, 0.0)
    vg0 = np.minimum(p[:, KG] * efd, p[:, VGMAX])
    vr0 = vm0 / p[:, KM] + vg0
    y0 = vr0 / p[:, KA]
    problems += _outside(vm0, p[:, VMMIN], p[:, VMMAX], "inner-loop output VM",
                         ("vmmax_pu", "vmmin_pu"))
    problems += _outside(vr0, p[:, VRMIN], p[:, VRMAX], "regulator output VR",
                         ("vrmax_pu", "vrmin_pu"))
    problems += _outside(y0, p[:, VIMIN], p[:, VIMAX], "voltage error", ("vimax_pu", "vimin_pu"))
    p[:, VREF] = et + y0 - vs
    return {"vm": et, "xll": y0, "vrg": vr0, "vmm": vm0, "efd": efd, "_problems": problems}


def _diff_mask(p):
    return np.stack([lag_diff(p[:, TR]), lag_diff(p[:, TB]), lag_diff(p[:, TA]), lag_diff(p[:, TM])],
                    axis=1)


_MASK = np.zeros((5, 11), dtype=bool)
_MASK[0, [C_VM, C_VR, C_VI]] = True
_MASK[1, [C_XLL, C_VM, C_VS]] = True
_MASK[2, [C_VRG, C_XLL, C_VM, C_VS]] = True
_MASK[3, [C_VMM, C_VRG, C_EFD]] = True
_MASK[4, [C_VMM, C_EFD, C_VR, C_VI, C_PE, C_QE, C_IFD]] = True

SPEC = ModelSpec(
    name="esst3a", family="exciter", params=PARAMS, extra=EXTRA,
    states=("vm", "xll", "vrg", "vmm"), algebs=(), outputs=("efd",),
    inputs=("vr", "vi", "vs", "xadifd", "pe", "qe"),
    injects=False, eval=_eval, init=_init, n_disc=2, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff_mask,
)
