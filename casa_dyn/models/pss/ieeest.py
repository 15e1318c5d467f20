"""IEEEST: IEEE 1981 power system stabilizer (PSS/E Model Library, IEEEST; IEEE Committee
Report, "Excitation system models for power system stability studies", IEEE Trans. PAS-100,
1981, sec. on stabilizers; the same structure as OpenIPSL's PSSE.PSS.IEEEST)::

    sig = omega - 1 (ICON input code 1, rotor speed deviation, pu)
        | pe        (ICON input code 3, electrical power on the machine base, pu)
    h   = sig (1 + A5 s + A6 s^2) / ((1 + A1 s + A2 s^2)(1 + A3 s + A4 s^2))
    y   = h (1 + s T1)/(1 + s T2) (1 + s T3)/(1 + s T4)
    vss = clip(KS s T5 / (1 + s T6) y, LSMIN, LSMAX)      windup output limit
    vs  = vss if VCL < Et < VCU else 0                      (VCU = 0 or VCL = 0: not used)

The filter is realised as two blocks in controllable canonical form: f1, f2 for
1/(1 + A1 s + A2 s^2) and f3, f4 for (1 + A5 s + A6 s^2)/(1 + A3 s + A4 s^2); coefficients that
are zero lower the order (the unused states become algebraic and stay at 0 or follow the
input).  The cut-off on the terminal voltage is a discrete flag evaluated between steps.
Input codes 2 (bus frequency), 4 (accelerating power), 5 (bus voltage), 6 (derivative of bus
voltage) are rejected when the case is validated; the ICON remote bus is only used by codes
2, 5, 6 in PSS/E, so it is kept for round trips and not used.
PSS/E DYR: ICONs input code, bus; CONs A1..A6, T1..T6 (s), KS, LSMAX, LSMIN, VCU, VCL.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d, vmag

SUPPORTED_INPUTS = {1: "rotor speed deviation", 3: "electrical power"}


def _checks(t):
    out = [(int(r), "input_code", f"input signal code {t['input_code'][r]} is not supported; "
            "casa_dyn's IEEEST takes code 1 (rotor speed deviation) or 3 (electrical power)")
           for r in np.flatnonzero(~np.isin(t["input_code"], list(SUPPORTED_INPUTS)))]
    out += [(int(r), "lsmax_pu", f"LSMAX {t['lsmax_pu'][r]:g} must exceed LSMIN {t['lsmin_pu'][r]:g}")
            for r in np.flatnonzero(t["lsmax_pu"] <= t["lsmin_pu"])]
    improper = ((t["a4"] == 0.0) & (t["a6"] > 0.0)) | \
               ((t["a3"] == 0.0) & (t["a4"] == 0.0) & ((t["a5"] > 0.0) | (t["a6"] > 0.0)))
    out += [(int(r), "a6", "the filter (1 + A5 s + A6 s^2)/(1 + A3 s + A4 s^2) has a numerator of "
             "higher order than its denominator") for r in np.flatnonzero(improper)]
    return out


def _a(k):
    return pos(f"a{k}", "s" if k % 2 else "s^2", f"A{k}: filter coefficient", 0.0, dyr=k,
               open_lo=False)


def _t(k, doc):
    return pos(f"t{k}_s", "s", f"T{k}: {doc}", dyr=6 + k, open_lo=k == 6)  # T6 > 0, others >= 0


TABLE = register(Table(
    "ieeest", "IEEE 1981 power system stabilizer (PSS/E IEEEST); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        Column("input_code", INT, "ICON input signal code: 1 rotor speed deviation, 3 electrical "
               "power (PSS/E codes 2, 4, 5, 6 are not supported)", lo=1, hi=6),
        Column("input_bus", INT, "ICON remote bus of the input signal (only PSS/E codes 2, 5, 6 use "
               "it; not used here)", default=0, lo=0),
        _a(1), _a(2), _a(3), _a(4), _a(5), _a(6),
        _t(1, "lead time constant, first lead-lag"),
        _t(2, "lag time constant, first lead-lag (0 = bypassed)"),
        _t(3, "lead time constant, second lead-lag"),
        _t(4, "lag time constant, second lead-lag (0 = bypassed)"),
        _t(5, "washout numerator time constant"),
        _t(6, "washout denominator time constant (> 0)"),
        real("ks", "", "KS: stabilizer gain", dyr=13),
        real("lsmax_pu", "pu", "LSMAX: output upper limit", dyr=14),
        real("lsmin_pu", "pu", "LSMIN: output lower limit", dyr=15),
        pos("vcu_pu", "pu", "VCU: output cut-off above this terminal voltage (0 = not used)", 0.0,
            dyr=16, open_lo=False),
        pos("vcl_pu", "pu", "VCL: output cut-off below this terminal voltage (0 = not used)", 0.0,
            dyr=17, open_lo=False),
    ),
    family="pss",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("input_code", "a1", "a2", "a3", "a4", "a5", "a6", "t1_s", "t2_s", "t3_s", "t4_s",
          "t5_s", "t6_s", "ks", "lsmax_pu", "lsmin_pu", "vcu_pu", "vcl_pu")
EXTRA = ()
IC, A1, A2, A3, A4, A5, A6, T1, T2, T3, T4, T5, T6, KS, LSMAX, LSMIN, VCU, VCL = range(18)
# local columns: f1 f2 f3 f4 x1 x2 xw | vs | omega pe vr vi ; rows: f1 f2 f3 f4 x1 x2 xw vs
C_F1, C_F2, C_F3, C_F4, C_X1, C_X2, C_XW, C_VS, C_W, C_PE, C_VR, C_VI = range(12)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        code1 = p[u, IC] == 1.0
        sig = z[col[u, C_W]] - 1.0 if code1 else z[col[u, C_PE]]
        f1, f2, f3, f4 = z[col[u, C_F1]], z[col[u, C_F2]], z[col[u, C_F3]], z[col[u, C_F4]]
        a1, a2, a3, a4, a5, a6 = p[u, A1], p[u, A2], p[u, A3], p[u, A4], p[u, A5], p[u, A6]
        # ---- 1/(1 + A1 s + A2 s^2): rows r0 (f1), r1 (f2); output f1
        if a2 > 0.0:
            r0, r1 = f2, (sig - f1 - a1 * f2) / a2
        elif a1 > 0.0:
            r0, r1 = (sig - f1) / a1, -f2
        else:
            r0, r1 = sig - f1, -f2
        # ---- (1 + A5 s + A6 s^2)/(1 + A3 s + A4 s^2): rows r2 (f3), r3 (f4); output h
        # h = f3 + ch3 * f3' + ch4 * f4 + chg * f1 written out per case (dh/d f1, f3, f4)
        if a4 > 0.0:
            acc = (f1 - f3 - a3 * f4) / a4
            r2, r3 = f4, acc
            h = f3 + a5 * f4 + a6 * acc
            dh_f1, dh_f3, dh_f4 = a6 / a4, 1.0 - a6 / a4, a5 - a6 * a3 / a4
        elif a3 > 0.0:
            r2, r3 = (f1 - f3) / a3, -f4
            h = f3 + a5 * (f1 - f3) / a3
            dh_f1, dh_f3, dh_f4 = a5 / a3, 1.0 - a5 / a3, 0.0
        else:
            r2, r3 = f1 - f3, -f4
            h = f3
            dh_f1, dh_f3, dh_f4 = 0.0, 1.0, 0.0
        ll1 = leadlag_rhs(h, z[col[u, C_X1]], p[u, T1], p[u, T2])
        ll2 = leadlag_rhs(ll1[1], z[col[u, C_X2]], p[u, T3], p[u, T4])
        y = ll2[1]
        xw = z[col[u, C_XW]]
        t6 = p[u, T6]
        kw = p[u, KS] * p[u, T5] / t6
        vss, dvss, _, _ = clip_d(kw * (y - xw), p[u, LSMIN], p[u, LSMAX])
        on = 1.0 - ds[u, 0]
        r[u, 0] = r0
        r[u, 1] = r1
        r[u, 2] = r2
        r[u, 3] = r3
        r[u, 4] = ll1[0]
        r[u, 5] = ll2[0]
        r[u, 6] = (y - xw) / t6
        r[u, 7] = on * vss - z[col[u, C_VS]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        c_sig = C_W if code1 else C_PE
        if a2 > 0.0:
            J[0, C_F2] = 1.0
            J[1, c_sig] = 1.0 / a2
            J[1, C_F1] = -1.0 / a2
            J[1, C_F2] = -a1 / a2
        elif a1 > 0.0:
            J[0, c_sig] = 1.0 / a1
            J[0, C_F1] = -1.0 / a1
            J[1, C_F2] = -1.0
        else:
            J[0, c_sig] = 1.0
            J[0, C_F1] = -1.0
            J[1, C_F2] = -1.0
        if a4 > 0.0:
            J[2, C_F4] = 1.0
            J[3, C_F1] = 1.0 / a4
            J[3, C_F3] = -1.0 / a4
            J[3, C_F4] = -a3 / a4
        elif a3 > 0.0:
            J[2, C_F1] = 1.0 / a3
            J[2, C_F3] = -1.0 / a3
            J[3, C_F4] = -1.0
        else:
            J[2, C_F1] = 1.0
            J[2, C_F3] = -1.0
            J[3, C_F4] = -1.0
        # lead-lags: y1 depends on h (f1, f3, f4) and x1; y on y1 and x2
        J[4, C_F1] = ll1[4] * dh_f1
        J[4, C_F3] = ll1[4] * dh_f3
        J[4, C_F4] = ll1[4] * dh_f4
        J[4, C_X1] = ll1[5]
        d1 = ll1[2]  # dy1/dh
        dy_f1, dy_f3, dy_f4 = ll2[2] * d1 * dh_f1, ll2[2] * d1 * dh_f3, ll2[2] * d1 * dh_f4
        dy_x1, dy_x2 = ll2[2] * ll1[3], ll2[3]
        J[5, C_F1] = ll2[4] * d1 * dh_f1
        J[5, C_F3] = ll2[4] * d1 * dh_f3
        J[5, C_F4] = ll2[4] * d1 * dh_f4
        J[5, C_X1] = ll2[4] * ll1[3]
        J[5, C_X2] = ll2[5]
        J[6, C_F1] = dy_f1 / t6
        J[6, C_F3] = dy_f3 / t6
        J[6, C_F4] = dy_f4 / t6
        J[6, C_X1] = dy_x1 / t6
        J[6, C_X2] = dy_x2 / t6
        J[6, C_XW] = -1.0 / t6
        g = on * dvss * kw
        J[7, C_F1] = g * dy_f1
        J[7, C_F3] = g * dy_f3
        J[7, C_F4] = g * dy_f4
        J[7, C_X1] = g * dy_x1
        J[7, C_X2] = g * dy_x2
        J[7, C_XW] = -g
        J[7, C_VS] = -1.0


@njit
def _update_discrete(z, p, col, ds):
    """Output cut-off flag (1 = output forced to 0) from the terminal voltage."""
    n = 0
    for u in range(p.shape[0]):
        et = vmag(z[col[u, C_VR]], z[col[u, C_VI]])[0]
        cut = 0.0
        if p[u, VCU] > 0.0 and et > p[u, VCU]:
            cut = 1.0
        if p[u, VCL] > 0.0 and et < p[u, VCL]:
            cut = 1.0
        if cut != ds[u, 0]:
            ds[u, 0] = cut
            n += 1
    return n


def _init(p, ctx):
    """Steady state: every filter and lead-lag passes the constant input (DC gain 1), the
    washout blocks it, so vs = 0."""
    code = p[:, IC].astype(int)
    problems = [(k, "input_code", f"input signal code {code[k]} is not supported (1 or 3 only)")
                for k in np.flatnonzero(~np.isin(code, list(SUPPORTED_INPUTS)))]
    sig = np.where(code == 1, ctx.value("omega") - 1.0, ctx.value("pe"))
    zero = np.zeros_like(sig)
    f1 = sig
    return {"f1": f1, "f2": zero, "f3": f1, "f4": zero, "x1": f1, "x2": f1, "xw": f1, "vs": zero,
            "_problems": problems}


def _diff_mask(p):
    f1 = (p[:, A2] > 0.0) | (p[:, A1] > 0.0)
    f3 = (p[:, A4] > 0.0) | (p[:, A3] > 0.0)
    return np.stack([f1, p[:, A2] > 0.0, f3, p[:, A4] > 0.0, lag_diff(p[:, T2]), lag_diff(p[:, T4]),
                     np.ones(p.shape[0], bool)], axis=1)


_F = [C_F1, C_F3, C_F4]
_MASK = np.zeros((8, 12), dtype=bool)
_MASK[0, [C_F1, C_F2, C_W, C_PE]] = True
_MASK[1, [C_F1, C_F2, C_W, C_PE]] = True
_MASK[2, [C_F1, C_F3, C_F4]] = True
_MASK[3, [C_F1, C_F3, C_F4]] = True
_MASK[4, _F + [C_X1]] = True
_MASK[5, _F + [C_X1, C_X2]] = True
_MASK[6, _F + [C_X1, C_X2, C_XW]] = True
_MASK[7, _F + [C_X1, C_X2, C_XW, C_VS]] = True

SPEC = ModelSpec(
    name="ieeest", family="pss", params=PARAMS, extra=EXTRA,
    states=("f1", "f2", "f3", "f4", "x1", "x2", "xw"), algebs=(), outputs=("vs",),
    inputs=("omega", "pe", "vr", "vi"),
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff_mask,
)
