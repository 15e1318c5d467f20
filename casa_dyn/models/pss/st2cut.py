"""ST2CUT: dual-input power system stabilizer with output cut-off (PSS/E Model Library, ST2CUT,
"PTI microprocessor-based stabilizer", IEC 61970-302 Pss2ST; the same structure as ANDES's
ST2CUT; facts only)::

    s1, s2 = input signals selected by ICON codes 1 and 2 (``_inputs``: 0 none, 1 speed
             deviation, 3 electrical power, 4 accelerating power, 5 terminal voltage)
    l1  = K1 s1 / (1 + s T1),   l2 = K2 s2 / (1 + s T2)         transducers (T = 0: none)
    w   = (l1 + l2) s T3 / (1 + s T4)                          washout; T3 = 0: lag 1/(1 + s T4)
    y   = w (1 + s T5)/(1 + s T6) (1 + s T7)/(1 + s T8) (1 + s T9)/(1 + s T10)
    vss = clip(y, LSMIN, LSMAX)                                windup output limit
    vs  = vss if VCL < Et < VCU else 0                          (VCU = 0 or VCL = 0: not used)

The washout is written xw' = (in - xw)/T4, w = (T3/T4)(in - xw); with T3 = 0 PSS/E's block is
the lag 1/(1 + s T4) (ANDES's "WashoutOrLag"), whose output does not start at zero, so a unit
whose input is not zero at t = 0 cannot start in equilibrium and is reported.  The cut-off
thresholds are absolute terminal voltages as in casa_dyn's IEEEST (ANDES adds them to the
initial voltage; PSS/E documents the band as VCL < Et < VCU).  The cut-off flag is evaluated
between steps.  Codes 2 (bus frequency) and 6 (voltage derivative) and remote-bus voltages are
rejected (``_inputs``).  TB = 0 (T6, T8, T10) bypasses a lead-lag.
PSS/E DYR: ICONs input code 1, remote bus 1, input code 2, remote bus 2; CONs K1, K2, T1, ...,
T10 (s), LSMAX, LSMIN, VCU, VCL.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d, vmag
from casa_dyn.models.pss import _inputs

ALLOWED = dict(_inputs.SUPPORTED)


def _checks(t):
    out = _inputs.problems(t, "input_code_1", "input_bus_1", ALLOWED)
    out += _inputs.problems(t, "input_code_2", "input_bus_2", ALLOWED)
    out += [(int(r), "lsmax_pu", f"LSMAX {t['lsmax_pu'][r]:g} must exceed LSMIN {t['lsmin_pu'][r]:g}")
            for r in np.flatnonzero(t["lsmax_pu"] <= t["lsmin_pu"])]
    return out


_LL = {5: "lead", 6: "lag", 7: "lead", 8: "lag", 9: "lead", 10: "lag"}


def _t(k):
    if k <= 2:
        doc = f"T{k}: time constant of transducer {k} (0 = none)"
    elif k == 3:
        doc = "T3: washout numerator time constant (0 = the block is the lag 1/(1 + s T4))"
    elif k == 4:
        doc = "T4: washout denominator time constant (> 0)"
    else:
        n = (k - 3) // 2
        doc = f"T{k}: {_LL[k]} time constant, lead-lag {n}" + (" (0 = bypassed)" if k % 2 == 0 else "")
    return pos(f"t{k}_s", "s", doc, dyr=k + 2, open_lo=k == 4)


TABLE = register(Table(
    "st2cut", "Dual-input stabilizer with output cut-off (PSS/E ST2CUT); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        Column("input_code_1", INT, "ICON input signal code 1: 0 none, 1 rotor speed deviation, "
               "3 electrical power, 4 accelerating power, 5 terminal voltage (2, 6 not supported)",
               lo=0, hi=6),
        Column("input_bus_1", INT, "ICON remote bus of input 1 (only 0 = own terminal is supported "
               "for code 5; ignored by the other codes)", default=0, lo=0),
        Column("input_code_2", INT, "ICON input signal code 2 (as input_code_1)", lo=0, hi=6),
        Column("input_bus_2", INT, "ICON remote bus of input 2 (as input_bus_1)", default=0, lo=0),
        real("k1", "", "K1: gain of input 1", dyr=1),
        real("k2", "", "K2: gain of input 2", dyr=2),
        *(_t(k) for k in range(1, 11)),
        real("lsmax_pu", "pu", "LSMAX: output upper limit", dyr=13),
        real("lsmin_pu", "pu", "LSMIN: output lower limit", dyr=14),
        pos("vcu_pu", "pu", "VCU: output cut-off above this terminal voltage (0 = not used)", 0.0,
            dyr=15, open_lo=False),
        pos("vcl_pu", "pu", "VCL: output cut-off below this terminal voltage (0 = not used)", 0.0,
            dyr=16, open_lo=False),
    ),
    family="pss",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("input_code_1", "input_bus_1", "input_code_2", "input_bus_2", "k1", "k2", "t1_s", "t2_s",
          "t3_s", "t4_s", "t5_s", "t6_s", "t7_s", "t8_s", "t9_s", "t10_s", "lsmax_pu", "lsmin_pu",
          "vcu_pu", "vcl_pu")
EXTRA = ()
(IC1, IB1, IC2, IB2, K1, K2, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, LSMAX, LSMIN, VCU,
 VCL) = range(20)
# local columns: l1 l2 xw x5 x7 x9 | vs | omega pe pm vr vi ; rows: l1 l2 xw x5 x7 x9 vs
C_L1, C_L2, C_XW, C_X5, C_X7, C_X9, C_VS, C_W, C_PE, C_PM, C_VR, C_VI = range(12)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        s1 = _inputs.signal(p[u, IC1], z, col, u, C_W)
        s2 = _inputs.signal(p[u, IC2], z, col, u, C_W)
        l1, l2, xw = z[col[u, C_L1]], z[col[u, C_L2]], z[col[u, C_XW]]
        f1, d1u, d1x = lag_rhs(p[u, K1] * s1[0], l1, p[u, T1])
        f2, d2u, d2x = lag_rhs(p[u, K2] * s2[0], l2, p[u, T2])
        t4 = p[u, T4]
        xin = l1 + l2
        # washout sT3/(1 + sT4) or, with T3 = 0, the lag 1/(1 + sT4): w = a (in - xw) + b xw
        a = p[u, T3] / t4
        b = 1.0 if p[u, T3] == 0.0 else 0.0
        w = a * (xin - xw) + b * xw
        ll1 = leadlag_rhs(w, z[col[u, C_X5]], p[u, T5], p[u, T6])
        ll2 = leadlag_rhs(ll1[1], z[col[u, C_X7]], p[u, T7], p[u, T8])
        ll3 = leadlag_rhs(ll2[1], z[col[u, C_X9]], p[u, T9], p[u, T10])
        vss, dvss, _, _ = clip_d(ll3[1], p[u, LSMIN], p[u, LSMAX])
        on = 1.0 - ds[u, 0]
        r[u, 0] = f1
        r[u, 1] = f2
        r[u, 2] = (xin - xw) / t4
        r[u, 3] = ll1[0]
        r[u, 4] = ll2[0]
        r[u, 5] = ll3[0]
        r[u, 6] = on * vss - z[col[u, C_VS]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        for m in range(5):
            J[0, C_W + m] = d1u * p[u, K1] * s1[1 + m]
            J[1, C_W + m] = d2u * p[u, K2] * s2[1 + m]
        J[0, C_L1] = d1x
        J[1, C_L2] = d2x
        J[2, C_L1] = 1.0 / t4
        J[2, C_L2] = 1.0 / t4
        J[2, C_XW] = -1.0 / t4
        # w = a l1 + a l2 + (b - a) xw ; each lead-lag output y_k = dydu_k y_{k-1} + dydx_k x_k
        dw_in, dw_xw = a, b - a
        g1 = ll1[2]                    # dy1/dw
        g2 = ll2[2] * g1               # dy2/dw
        g3 = ll3[2] * g2               # dy3/dw
        J[3, C_L1] = ll1[4] * dw_in
        J[3, C_L2] = ll1[4] * dw_in
        J[3, C_XW] = ll1[4] * dw_xw
        J[3, C_X5] = ll1[5]
        J[4, C_L1] = ll2[4] * g1 * dw_in
        J[4, C_L2] = ll2[4] * g1 * dw_in
        J[4, C_XW] = ll2[4] * g1 * dw_xw
        J[4, C_X5] = ll2[4] * ll1[3]
        J[4, C_X7] = ll2[5]
        J[5, C_L1] = ll3[4] * g2 * dw_in
        J[5, C_L2] = ll3[4] * g2 * dw_in
        J[5, C_XW] = ll3[4] * g2 * dw_xw
        J[5, C_X5] = ll3[4] * ll2[2] * ll1[3]
        J[5, C_X7] = ll3[4] * ll2[3]
        J[5, C_X9] = ll3[5]
        c = on * dvss
        J[6, C_L1] = c * g3 * dw_in
        J[6, C_L2] = c * g3 * dw_in
        J[6, C_XW] = c * g3 * dw_xw
        J[6, C_X5] = c * ll3[2] * ll2[2] * ll1[3]
        J[6, C_X7] = c * ll3[2] * ll2[3]
        J[6, C_X9] = c * ll3[3]
        J[6, C_VS] = -1.0


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
    """Steady state: the transducers pass their inputs, the washout blocks them (vs = 0); with
    T3 = 0 the lag passes them, which only starts in equilibrium if the sum is zero."""
    code1, code2 = p[:, IC1].astype(int), p[:, IC2].astype(int)
    tab = {"input_code_1": code1, "input_code_2": code2, "input_bus_1": p[:, IB1],
           "input_bus_2": p[:, IB2]}
    problems = _inputs.problems(tab, "input_code_1", "input_bus_1", ALLOWED)
    problems += _inputs.problems(tab, "input_code_2", "input_bus_2", ALLOWED)
    l1 = p[:, K1] * _inputs.initial(code1, ctx)
    l2 = p[:, K2] * _inputs.initial(code2, ctx)
    xin = l1 + l2
    lag = p[:, T3] == 0.0
    problems += [(int(k), "t3_s", f"T3 = 0 makes the washout a lag whose output starts at "
                  f"{xin[k]:.4g} pu, not 0: the stabilizer cannot start in equilibrium")
                 for k in np.flatnonzero(lag & (np.abs(xin) > 1e-12))]
    problems += [(int(k), "lsmax_pu", "the output limits [LSMIN, LSMAX] must contain 0, the "
                  "steady-state output") for k in np.flatnonzero((p[:, LSMIN] > 0) | (p[:, LSMAX] < 0))]
    w = np.where(lag, xin, 0.0)
    return {"l1": l1, "l2": l2, "xw": xin, "x5": w, "x7": w, "x9": w, "vs": np.zeros_like(xin),
            "_problems": problems}


def _diff_mask(p):
    n = p.shape[0]
    return np.stack([lag_diff(p[:, T1]), lag_diff(p[:, T2]), np.ones(n, bool), lag_diff(p[:, T6]),
                     lag_diff(p[:, T8]), lag_diff(p[:, T10])], axis=1)


_IN = [C_W, C_PE, C_PM, C_VR, C_VI]
_MASK = np.zeros((7, 12), dtype=bool)
_MASK[0, [C_L1] + _IN] = True
_MASK[1, [C_L2] + _IN] = True
_MASK[2, [C_L1, C_L2, C_XW]] = True
_MASK[3, [C_L1, C_L2, C_XW, C_X5]] = True
_MASK[4, [C_L1, C_L2, C_XW, C_X5, C_X7]] = True
_MASK[5, [C_L1, C_L2, C_XW, C_X5, C_X7, C_X9]] = True
_MASK[6, [C_L1, C_L2, C_XW, C_X5, C_X7, C_X9, C_VS]] = True

SPEC = ModelSpec(
    name="st2cut", family="pss", params=PARAMS, extra=EXTRA,
    states=("l1", "l2", "xw", "x5", "x7", "x9"), algebs=(), outputs=("vs",),
    inputs=_inputs.INPUTS,
    injects=False, eval=_eval, init=_init, n_disc=1, update_discrete=_update_discrete,
    jac_mask=_MASK, diff_mask=_diff_mask,
)
