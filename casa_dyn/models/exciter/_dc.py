"""The DC commutator exciter shared by IEEEX1, EXDC2, ESDC1A and ESDC2A (one block diagram, two
switches), as in the PSS/E Model Library and IEEE Std 421.5-2005 sec. 5.1-5.2 (DC1A, DC2A)::

    Et  = |vr + j vi|
    vm  = Et / (1 + s TR)                                 transducer (TR = 0: none)
    vf  = s KF / (1 + s TF1) * efd = (KF/TF1) (efd - xf),  dxf/dt = (efd - xf)/TF1
    err = vref - vm + vs - vf
    y   = err (1 + s TC)/(1 + s TB)                       (TB = 0: bypassed)
    VR  = KA y / (1 + s TA),  lo <= VR <= hi               NON-WINDUP (TA = 0: algebraic)
          lo, hi = VRMIN, VRMAX              (IEEEX1, ESDC1A)
          lo, hi = Et VRMIN, Et VRMAX        (EXDC2, ESDC2A: regulator fed from the terminals)
    TE d(efd)/dt = VR - KE efd - VX,  VX = efd SE(efd) = B (efd - A)^2 above A
          efd >= 0 non-windup                (ESDC1A, ESDC2A only)

The four PSS/E models differ only in these two switches (IEEE 421.5-2005: "DC2A differs from
DC1A only in the voltage regulator output limits, which are now proportional to VT"); the
UEL entry (summed in IEEEX1/EXDC2, HV gate in ESDC1A/ESDC2A) has no effect because casa_dyn has
no UEL models.  The efd >= 0 floor of the 1992/2005 models follows the PSS/E-derived ESDC1A of
OpalRT's library and OpenIPSL's PSS/E-verified ESDC2A ("RotatingExciterLimited"); OpalRT's
ESDC2A leaves it out, so that choice is a judgement (the IEEE statement above says DC2A has
DC1A's exciter).  The regulator limits are non-windup in all four (OpalRT's and OpenIPSL's
PSS/E transcriptions agree).

While a regulator limit is active the regulator output is the limit itself (``VR_eff = lo`` or
``hi``, which moves with Et in EXDC2/ESDC2A) and the state is frozen; on release the state
restarts from the current limit, so VR is continuous.  Saturation is PSS/E's quadratic through
(E1, SE(E1)), (E2, SE(E2)) (``_common.quad_sat_coeffs``).  PSS/E's data rules, as restated in
OpalRT's and OpenIPSL's transcriptions of the PSS/E manual: VRMAX = 0 sets VRMAX = (SE(E2) +
KE) E2 (SE(E2) E2 when KE <= 0) and VRMIN = -VRMAX; KE = 0 sets KE = VRMAX/(10 efd0) - SE(efd0).
PSS/E DYR CONs in order (all four models): TR, KA, TA, TB, TC, VRMAX, VRMIN, KE, TE, KF, TF1,
SWITCH, E1, SE(E1), E2, SE(E2); SWITCH is kept for round trips and not used.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, id_col, pos, real
from casa_dyn.models.base import lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import quad_sat, quad_sat_coeffs, vmag


def columns() -> tuple:
    """The table columns of every DC exciter (PSS/E CON order)."""
    return (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("tr_s", "s", "TR: transducer time constant (0 = none)", dyr=1, open_lo=False),
        pos("ka", "", "KA: regulator gain", dyr=2),
        pos("ta_s", "s", "TA: regulator time constant (0 = none)", dyr=3, open_lo=False),
        pos("tb_s", "s", "TB: lag time constant of the lead-lag (0 = bypassed)", dyr=4, open_lo=False),
        pos("tc_s", "s", "TC: lead time constant of the lead-lag", dyr=5, open_lo=False),
        real("vrmax_pu", "pu", "VRMAX: regulator upper limit, non-windup (0 = computed from the "
             "saturation data)", dyr=6),
        real("vrmin_pu", "pu", "VRMIN: regulator lower limit, non-windup", dyr=7),
        real("ke", "", "KE: exciter self-excitation constant (0 = computed at initialization)", dyr=8),
        pos("te_s", "s", "TE: exciter time constant", dyr=9),
        pos("kf", "", "KF: rate-feedback gain", dyr=10, open_lo=False),
        pos("tf1_s", "s", "TF1: rate-feedback time constant", dyr=11),
        real("switch", "", "SWITCH: not used (kept for DYR round trips)", 0.0, dyr=12),
        pos("e1_pu", "pu", "E1: first exciter-voltage point of the saturation curve", dyr=13,
            open_lo=False),
        pos("se1", "", "SE(E1): saturation factor at E1", dyr=14, open_lo=False),
        pos("e2_pu", "pu", "E2: second exciter-voltage point of the saturation curve", dyr=15,
            open_lo=False),
        pos("se2", "", "SE(E2): saturation factor at E2", dyr=16, open_lo=False),
    )


def checks(t):
    out = [(int(r), "vrmax_pu", f"VRMAX {t['vrmax_pu'][r]:g} must exceed VRMIN {t['vrmin_pu'][r]:g} "
            "(or be 0)") for r in np.flatnonzero((t["vrmax_pu"] != 0.0) & (t["vrmax_pu"] <= t["vrmin_pu"]))]
    _, _, ok = quad_sat_coeffs(t["e1_pu"], t["se1"], t["e2_pu"], t["se2"])
    out += [(int(r), "se2", "the saturation points (E1, SE(E1)), (E2, SE(E2)) do not define an "
             "increasing saturation curve (need E2 > E1 with E2 SE(E2) > E1 SE(E1), or both SE = 0)")
            for r in np.flatnonzero(~ok)]
    return out


PARAMS = ("tr_s", "ka", "ta_s", "tb_s", "tc_s", "vrmax_pu", "vrmin_pu", "ke", "te_s", "kf", "tf1_s",
          "switch", "e1_pu", "se1", "e2_pu", "se2")
EXTRA = ("vref", "ke_eff", "vrmax_eff", "vrmin_eff", "sat_a", "sat_b")
(TR, KA, TA, TB, TC, VRMAX, VRMIN, KE, TE, KF, TF1, SWITCH, E1, SE1, E2, SE2,
 VREF, KEFF, VRMAXE, VRMINE, SAT_A, SAT_B) = range(22)
STATES = ("vm", "xll", "vrg", "ef", "xf")
INPUTS = ("vr", "vi", "vs")
# local columns: vm xll vrg ef xf | efd | vr vi vs ; rows: vm xll vrg ef xf efd
C_VM, C_XLL, C_VRG, C_EF, C_XF, C_EFD, C_VR, C_VI, C_VS = range(9)
N_DISC = 2  # regulator limit flag, efd floor flag (unused by IEEEX1 and EXDC2)


@njit
def _front(z, p, col, u, et_limits):
    """Everything up to the regulator: (Et, dEt/dvr, dEt/dvi, lead-lag tuple, KA y, lo, hi, kf/tf)."""
    et, det_r, det_i = vmag(z[col[u, C_VR]], z[col[u, C_VI]])
    kf_tf = p[u, KF] / p[u, TF1]
    err = p[u, VREF] - z[col[u, C_VM]] + z[col[u, C_VS]] - kf_tf * (z[col[u, C_EF]] - z[col[u, C_XF]])
    ll = leadlag_rhs(err, z[col[u, C_XLL]], p[u, TC], p[u, TB])
    s = et if et_limits else 1.0
    return et, det_r, det_i, ll, p[u, KA] * ll[1], s * p[u, VRMINE], s * p[u, VRMAXE], kf_tf


@njit
def dc_eval(z, p, col, r, jl, ds, want_jac, et_limits, floor):
    for u in range(p.shape[0]):
        et, det_r, det_i, ll, kay, lo, hi, kf_tf = _front(z, p, col, u, et_limits)
        vm, vrg, ef, xf = z[col[u, C_VM]], z[col[u, C_VRG]], z[col[u, C_EF]], z[col[u, C_XF]]
        f_vm, dvm_du, dvm_dx = lag_rhs(et, vm, p[u, TR])
        flag = ds[u, 0]
        ta = p[u, TA]
        if flag == 0.0:
            f_vr, dvr_du, dvr_dx = lag_rhs(kay, vrg, ta)
            vr_eff, dlim = vrg, 0.0
        else:
            vr_eff = hi if flag > 0.0 else lo
            dlim = (p[u, VRMAXE] if flag > 0.0 else p[u, VRMINE]) if et_limits else 0.0
            f_vr, dvr_du, dvr_dx = (vr_eff - vrg, 0.0, -1.0) if ta <= 0.0 else (0.0, 0.0, 0.0)
        vx, dvx = quad_sat(ef, p[u, SAT_A], p[u, SAT_B])
        te, tf = p[u, TE], p[u, TF1]
        frozen = floor and ds[u, 1] != 0.0
        r[u, 0] = f_vm
        r[u, 1] = ll[0]
        r[u, 2] = f_vr
        r[u, 3] = 0.0 if frozen else (vr_eff - p[u, KEFF] * ef - vx) / te
        r[u, 4] = (ef - xf) / tf
        r[u, 5] = ef - z[col[u, C_EFD]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_VM] = dvm_dx
        J[0, C_VR] = dvm_du * det_r
        J[0, C_VI] = dvm_du * det_i
        # err = vref - vm + vs - kf_tf (ef - xf)
        dy_du, dy_dx, df_du, df_dx = ll[2], ll[3], ll[4], ll[5]
        J[1, C_XLL] = df_dx
        J[1, C_VM] = -df_du
        J[1, C_VS] = df_du
        J[1, C_EF] = -df_du * kf_tf
        J[1, C_XF] = df_du * kf_tf
        g = dvr_du * p[u, KA]
        J[2, C_XLL] = g * dy_dx
        J[2, C_VM] = -g * dy_du
        J[2, C_VS] = g * dy_du
        J[2, C_EF] = -g * dy_du * kf_tf
        J[2, C_XF] = g * dy_du * kf_tf
        J[2, C_VRG] = dvr_dx
        if flag != 0.0 and ta <= 0.0:
            J[2, C_VR] = dlim * det_r
            J[2, C_VI] = dlim * det_i
        if not frozen:
            J[3, C_VRG] = (1.0 if flag == 0.0 else 0.0) / te
            J[3, C_VR] = dlim * det_r / te
            J[3, C_VI] = dlim * det_i / te
            J[3, C_EF] = -(p[u, KEFF] + dvx) / te
        J[4, C_EF] = 1.0 / tf
        J[4, C_XF] = -1.0 / tf
        J[5, C_EF] = 1.0
        J[5, C_EFD] = -1.0


@njit
def dc_update(z, p, col, ds, et_limits, floor):
    """Between steps: the regulator's non-windup flag (clamp on crossing, release when KA y
    points back inside, the state restarting from the current limit), then the efd floor."""
    n = 0
    for u in range(p.shape[0]):
        _, _, _, _, kay, lo, hi, _ = _front(z, p, col, u, et_limits)
        k = col[u, C_VRG]
        x, flag = z[k], ds[u, 0]
        if flag == 0.0:
            new = 1.0 if x > hi else (-1.0 if x < lo else 0.0)
        elif flag > 0.0:
            new = 0.0 if kay < hi else 1.0
        else:
            new = 0.0 if kay > lo else -1.0
        if flag != 0.0 or new != 0.0:
            z[k] = hi if (new > 0.0 or (new == 0.0 and flag > 0.0)) else lo
        if new != flag:
            ds[u, 0] = new
            n += 1
        if floor:
            ke = col[u, C_EF]
            vr_eff = z[k] if ds[u, 0] == 0.0 else (hi if ds[u, 0] > 0.0 else lo)
            if ds[u, 1] == 0.0:
                if z[ke] < 0.0:
                    z[ke] = 0.0
                    ds[u, 1] = -1.0
                    n += 1
            else:
                rate = vr_eff - p[u, KEFF] * z[ke] - quad_sat(z[ke], p[u, SAT_A], p[u, SAT_B])[0]
                if rate > 0.0:
                    ds[u, 1] = 0.0
                    n += 1
                else:
                    z[ke] = 0.0
        z[col[u, C_EFD]] = z[col[u, C_EF]]  # keep the output consistent with a clamped state
    return n


def dc_init(p, ctx, et_limits, floor):
    efd = ctx.value("efd")
    vs = ctx.value("vs")
    et = np.abs(ctx.v)
    a, b, _ = quad_sat_coeffs(p[:, E1], p[:, SE1], p[:, E2], p[:, SE2])
    p[:, SAT_A], p[:, SAT_B] = a, b
    vx = np.where(efd > a, b * (efd - a) ** 2, 0.0)
    ke, vrmax = p[:, KE], p[:, VRMAX]
    auto = np.where(ke > 0.0, (p[:, SE2] + ke) * p[:, E2], p[:, SE2] * p[:, E2])
    p[:, VRMAXE] = np.where(vrmax != 0.0, vrmax, auto)
    p[:, VRMINE] = np.where(vrmax != 0.0, p[:, VRMIN], -p[:, VRMAXE])
    problems = [(k, "ke", f"initial field voltage {efd[k]:.4f} pu must be positive for KE = 0")
                for k in np.flatnonzero((ke == 0.0) & ~(efd > 0.0))]
    with np.errstate(divide="ignore", invalid="ignore"):
        se0 = np.where(efd > 0.0, vx / efd, 0.0)
        p[:, KEFF] = np.where(ke == 0.0, p[:, VRMAXE] / (10.0 * efd) - se0, ke)
    vr0 = p[:, KEFF] * efd + vx
    s = et if et_limits else np.ones_like(et)
    lo, hi = s * p[:, VRMINE], s * p[:, VRMAXE]
    scaled = " times Et" if et_limits else ""
    problems += [(k, "vrmax_pu" if vr0[k] > hi[k] else "vrmin_pu",
                  f"initial regulator output {vr0[k]:.4f} pu is outside [VRMIN, VRMAX]{scaled} = "
                  f"[{lo[k]:.4f}, {hi[k]:.4f}]") for k in np.flatnonzero((vr0 > hi) | (vr0 < lo))]
    if floor:
        problems += [(k, "ke", f"initial field voltage {efd[k]:.4f} pu is negative; the exciter "
                      "output cannot go below 0") for k in np.flatnonzero(efd < 0.0)]
    y0 = vr0 / p[:, KA]
    p[:, VREF] = et + y0 - vs
    return {"vm": et, "xll": y0, "vrg": vr0, "ef": efd, "xf": efd, "efd": efd, "_problems": problems}


def dc_diff_mask(p):
    n = p.shape[0]
    on = np.ones(n, dtype=bool)
    return np.stack([lag_diff(p[:, TR]), lag_diff(p[:, TB]), lag_diff(p[:, TA]), on, on], axis=1)


MASK = np.zeros((6, 9), dtype=bool)
MASK[0, [C_VM, C_VR, C_VI]] = True
MASK[1, [C_XLL, C_VM, C_VS, C_EF, C_XF]] = True
MASK[2, [C_VRG, C_XLL, C_VM, C_VS, C_EF, C_XF, C_VR, C_VI]] = True
MASK[3, [C_VRG, C_EF, C_VR, C_VI]] = True
MASK[4, [C_EF, C_XF]] = True
MASK[5, [C_EF, C_EFD]] = True


# ------------------------------------------------------------------ the four variants
def register_table(name: str, description: str):
    """The case table of one variant: the shared CON columns and data checks."""
    from casa_dyn.case.schema import Table, register

    return register(Table(name, f"{description}; one row per generator.", columns(), family="exciter",
                          since_version=2, checks=(checks,)))


def variant_spec(name: str, eval_fn, update_fn, et_limits: bool, floor: bool):
    """The ``ModelSpec`` of one variant.  ``eval_fn`` and ``update_fn`` are the variant
    module's own compiled kernels (Numba caches a kernel per module-level function, so each
    variant keeps its two three-line kernels that call ``dc_eval`` / ``dc_update`` with its
    flags)."""
    from functools import partial

    from casa_dyn.models.base import ModelSpec

    return ModelSpec(name=name, family="exciter", params=PARAMS, extra=EXTRA, states=STATES, algebs=(),
                     outputs=("efd",), inputs=INPUTS, injects=False, eval=eval_fn,
                     init=partial(dc_init, et_limits=et_limits, floor=floor), n_disc=N_DISC,
                     update_discrete=update_fn, jac_mask=MASK, diff_mask=dc_diff_mask)
