"""PSS2A: IEEE dual-input stabilizer (PSS/E Model Library, PSS2A; IEEE Std 421.5-2005 sec. 8.2,
type PSS2A; the same structure as OpenIPSL's PSSE.PSS.PSS2A and PowerSimulationsDynamics' PSS2A;
facts only)::

    s1, s2 = input signals selected by ICON codes 1 and 2 (``_inputs``: 1 speed deviation,
             3 electrical power, 4 accelerating power, 5 terminal voltage)
    A   = s1  sTW1/(1 + sTW1)  sTW2/(1 + sTW2)  1/(1 + sT6)
    B   = s2  sTW3/(1 + sTW3)  sTW4/(1 + sTW4)  KS2/(1 + sT7)
    y   = (A + KS3 B) [(1 + sT8)/(1 + sT9)^M]^N - B          ramp-tracking filter
    y2  = KS1 y (1 + sT1)/(1 + sT2) (1 + sT3)/(1 + sT4)
    vs  = clip(y2, VSTMIN, VSTMAX)                            windup output limit

With speed as input 1 and electrical power as input 2 and KS2 = T7/(2H), KS3 = 1, the sum before
the ramp-tracking filter approximates the integral of mechanical power, which the filter
smooths; subtracting B leaves an "integral of accelerating power" speed signal.
Zero time constants, per the PSS/E manual as quoted in iTesla's ipsl issue #33: TW2 = 0 and
TW4 = 0 bypass the second washout of each input (its state then tracks the washout input
algebraically and is not used); T6 = 0 and T7 = 0 make their lags algebraic; T2 = 0 and T4 = 0
bypass a lead-lag.  TW1 and TW3 must be positive.
The ramp-tracking filter is realised as N blocks of M stages: the first stage of each block is
the lead-lag (1 + sT8)/(1 + sT9), the other M - 1 are lags 1/(1 + sT9) (at most M N = 8 stages,
as IEEE 421.5 and PowerSystems.jl's PSS2A); M N = 0 (M = 0 or N = 0) bypasses the filter, the
unused stage states stay at 0.  Input codes 2 (bus frequency) and 6 (voltage derivative) and
remote-bus voltages are rejected (``_inputs``).
PSS/E DYR: ICONs input code 1, remote bus 1, input code 2, remote bus 2, M, N; CONs TW1, TW2, T6,
TW3, TW4, T7, KS2, KS3, T8, T9, KS1, T1, T2, T3, T4, VSTMAX, VSTMIN.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d
from casa_dyn.models.pss import _inputs

ALLOWED = {k: v for k, v in _inputs.SUPPORTED.items() if k != 0}
MAX_STAGES = 8


def _checks(t):
    out = _inputs.problems(t, "input_code_1", "input_bus_1", ALLOWED)
    out += _inputs.problems(t, "input_code_2", "input_bus_2", ALLOWED)
    out += [(int(r), "vstmax_pu", f"VSTMAX {t['vstmax_pu'][r]:g} must exceed VSTMIN "
             f"{t['vstmin_pu'][r]:g}") for r in np.flatnonzero(t["vstmax_pu"] <= t["vstmin_pu"])]
    m, n = np.asarray(t["m"]), np.asarray(t["n"])
    out += [(int(r), "n", f"the ramp-tracking filter has M N = {m[r] * n[r]} stages; at most "
             f"{MAX_STAGES}") for r in np.flatnonzero(m * n > MAX_STAGES)]
    improper = (t["t8_s"] != 0.0) & (((m * n > 0) & (t["t9_s"] == 0.0)) | ((m == 0) & (n > 0)))
    out += [(int(r), "t8_s", "the ramp-tracking filter (1 + sT8)/(1 + sT9)^M has a numerator of "
             "higher order than its denominator (T9 = 0 or M = 0 with T8 != 0)")
            for r in np.flatnonzero(improper)]
    return out


def _tc(name, doc, dyr, positive=False):
    return pos(name, "s", doc, dyr=dyr, open_lo=positive)


TABLE = register(Table(
    "pss2a", "IEEE dual-input stabilizer (PSS/E PSS2A); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        Column("input_code_1", INT, "ICON input signal code 1: 1 rotor speed deviation, 3 electrical "
               "power, 4 accelerating power, 5 terminal voltage (2, 6 not supported)", lo=1, hi=6),
        Column("input_bus_1", INT, "ICON remote bus of input 1 (only 0 = own terminal is supported "
               "for code 5; ignored by the other codes)", default=0, lo=0),
        Column("input_code_2", INT, "ICON input signal code 2 (as input_code_1)", lo=1, hi=6),
        Column("input_bus_2", INT, "ICON remote bus of input 2 (as input_bus_1)", default=0, lo=0),
        Column("m", INT, "ICON M: lags per block of the ramp-tracking filter", lo=0, hi=MAX_STAGES),
        Column("n", INT, "ICON N: blocks of the ramp-tracking filter (M N <= 8; 0 = no filter)",
               lo=0, hi=MAX_STAGES),
        _tc("tw1_s", "TW1: first washout of input 1 (> 0)", 1, positive=True),
        _tc("tw2_s", "TW2: second washout of input 1 (0 = bypassed)", 2),
        _tc("t6_s", "T6: lag of input 1 (0 = none)", 3),
        _tc("tw3_s", "TW3: first washout of input 2 (> 0)", 4, positive=True),
        _tc("tw4_s", "TW4: second washout of input 2 (0 = bypassed)", 5),
        _tc("t7_s", "T7: lag of input 2 (0 = none)", 6),
        real("ks2", "", "KS2: gain of input 2 (T7/(2H) for the integral-of-power signal)", dyr=7),
        real("ks3", "", "KS3: gain of input 2 into the ramp-tracking filter", dyr=8),
        _tc("t8_s", "T8: lead time constant of the ramp-tracking filter", 9),
        _tc("t9_s", "T9: lag time constant of the ramp-tracking filter", 10),
        real("ks1", "", "KS1: stabilizer gain", dyr=11),
        _tc("t1_s", "T1: lead time constant, first lead-lag", 12),
        _tc("t2_s", "T2: lag time constant, first lead-lag (0 = bypassed)", 13),
        _tc("t3_s", "T3: lead time constant, second lead-lag", 14),
        _tc("t4_s", "T4: lag time constant, second lead-lag (0 = bypassed)", 15),
        real("vstmax_pu", "pu", "VSTMAX: output upper limit", dyr=16),
        real("vstmin_pu", "pu", "VSTMIN: output lower limit", dyr=17),
    ),
    family="pss",
    since_version=2,
    checks=(_checks,),
))

PARAMS = ("input_code_1", "input_bus_1", "input_code_2", "input_bus_2", "m", "n", "tw1_s", "tw2_s",
          "t6_s", "tw3_s", "tw4_s", "t7_s", "ks2", "ks3", "t8_s", "t9_s", "ks1", "t1_s", "t2_s",
          "t3_s", "t4_s", "vstmax_pu", "vstmin_pu")
EXTRA = ()
(IC1, IB1, IC2, IB2, M, N, TW1, TW2, T6, TW3, TW4, T7, KS2, KS3, T8, T9, KS1, T1, T2, T3, T4,
 VSTMAX, VSTMIN) = range(23)
STATES = ("w1", "w2", "x6", "w3", "w4", "x7") + tuple(f"r{i}" for i in range(MAX_STAGES)) + ("x1", "x3")
# local columns: w1 w2 x6 w3 w4 x7 r0..r7 x1 x3 | vs | omega pe pm vr vi
C_W1, C_W2, C_X6, C_W3, C_W4, C_X7 = range(6)
C_R0 = 6
C_X1, C_X3, C_VS, C_W = 14, 15, 16, 17


@njit
def _stage(i, m, t8, t9):
    """Output gains of ramp-tracking stage i: y_i = b y_{i-1} + a r_i (lead-lag or lag)."""
    if i % m == 0 and t9 > 0.0:
        k = t8 / t9
        return 1.0 - k, k
    if i % m == 0:
        return 0.0, 1.0  # T9 = 0 (then T8 = 0): pass-through
    return 1.0, 0.0


@njit
def _gain(lo, hi, m, t8, t9):
    """Product of the stage input gains b_l for l = lo..hi (1 for an empty range)."""
    g = 1.0
    for l in range(lo, hi + 1):
        g *= _stage(l, m, t8, t9)[1]
    return g


@njit
def _path(z, p, col, u, code, c_a, c_b, c_x, twa, twb, tx, gain):
    """One input path: washout, second washout (or bypass), lag with gain.
    Returns (signal tuple, (ra, rb, rx), (dyb/ds, dyb/dwa, dyb/dwb), (lag dfdu, dfdx), row-b gains)."""
    s = _inputs.signal(code, z, col, u, C_W)
    wa, wb = z[col[u, c_a]], z[col[u, c_b]]
    ya = s[0] - wa
    if twb > 0.0:
        yb, db, rb, cb = ya - wb, (1.0, -1.0, -1.0), (ya - wb) / twb, 1.0 / twb
    else:
        yb, db, rb, cb = ya, (1.0, -1.0, 0.0), ya - wb, 1.0
    fx, dxu, dxx = lag_rhs(gain * yb, z[col[u, c_x]], tx)
    return s, ((s[0] - wa) / twa, rb, fx), db, (dxu, dxx), cb


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        pa = _path(z, p, col, u, p[u, IC1], C_W1, C_W2, C_X6, p[u, TW1], p[u, TW2], p[u, T6], 1.0)
        pb = _path(z, p, col, u, p[u, IC2], C_W3, C_W4, C_X7, p[u, TW3], p[u, TW4], p[u, T7], p[u, KS2])
        x6, x7 = z[col[u, C_X6]], z[col[u, C_X7]]
        m = int(p[u, M])
        nst = m * int(p[u, N])
        t8, t9 = p[u, T8], p[u, T9]
        prev = x6 + p[u, KS3] * x7
        for i in range(MAX_STAGES):
            ri = z[col[u, C_R0 + i]]
            if i >= nst:
                r[u, C_R0 + i] = -ri
                continue
            if i % m == 0:
                ll = leadlag_rhs(prev, ri, t8, t9)
                f, y = ll[0], ll[1]
            else:
                f, y = lag_rhs(prev, ri, t9)[0], ri
            r[u, C_R0 + i] = f
            prev = y
        ysum = prev - x7
        ll1 = leadlag_rhs(p[u, KS1] * ysum, z[col[u, C_X1]], p[u, T1], p[u, T2])
        ll2 = leadlag_rhs(ll1[1], z[col[u, C_X3]], p[u, T3], p[u, T4])
        vst, dvst, _, _ = clip_d(ll2[1], p[u, VSTMIN], p[u, VSTMAX])
        for k in range(3):
            r[u, C_W1 + k] = pa[1][k]
            r[u, C_W3 + k] = pb[1][k]
        r[u, C_X1] = ll1[0]
        r[u, C_X3] = ll2[0]
        r[u, C_VS] = vst - z[col[u, C_VS]]
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        for c_a, c_b, c_x, tw, path, gain in ((C_W1, C_W2, C_X6, p[u, TW1], pa, 1.0),
                                             (C_W3, C_W4, C_X7, p[u, TW3], pb, p[u, KS2])):
            s, db, (dxu, dxx), cb = path[0], path[2], path[3], path[4]
            for q in range(5):  # d/d(omega, pe, pm, vr, vi) through the input signal
                J[c_a, C_W + q] = s[1 + q] / tw
                J[c_b, C_W + q] = cb * s[1 + q]
                J[c_x, C_W + q] = dxu * gain * db[0] * s[1 + q]
            J[c_a, c_a] = -1.0 / tw
            J[c_b, c_a] = -cb
            J[c_b, c_b] = -cb
            J[c_x, c_a] = dxu * gain * db[1]
            J[c_x, c_b] = dxu * gain * db[2]
            J[c_x, c_x] = dxx
        # ramp-tracking stages: f_i = c (in_i - r_i), in_0 = x6 + KS3 x7, in_i = y_{i-1}
        c = 1.0 / t9 if t9 > 0.0 else 1.0
        for i in range(MAX_STAGES):
            row = C_R0 + i
            if i >= nst:
                J[row, row] = -1.0
                continue
            J[row, row] = -c
            g_in = c * _gain(0, i - 1, m, t8, t9)
            J[row, C_X6] = g_in
            J[row, C_X7] = g_in * p[u, KS3]
            for j in range(i):
                J[row, C_R0 + j] = c * _stage(j, m, t8, t9)[0] * _gain(j + 1, i - 1, m, t8, t9)
        # y = y_rtf - x7 ; u1 = KS1 y ; lead-lags ; clip
        e1 = ll1[4] * p[u, KS1]                     # d r_x1 / dy
        e2 = ll2[4] * ll1[2] * p[u, KS1]            # d r_x3 / dy
        e3 = dvst * ll2[2] * ll1[2] * p[u, KS1]     # d vs / dy
        g_all = _gain(0, nst - 1, m, t8, t9) if nst > 0 else 1.0
        for row, e in ((C_X1, e1), (C_X3, e2), (C_VS, e3)):
            J[row, C_X6] = e * g_all
            J[row, C_X7] = e * (g_all * p[u, KS3] - 1.0)
            for j in range(nst):
                J[row, C_R0 + j] = e * _stage(j, m, t8, t9)[0] * _gain(j + 1, nst - 1, m, t8, t9)
        J[C_X1, C_X1] = ll1[5]
        J[C_X3, C_X1] = ll2[4] * ll1[3]
        J[C_X3, C_X3] = ll2[5]
        J[C_VS, C_X1] = dvst * ll2[2] * ll1[3]
        J[C_VS, C_X3] = dvst * ll2[3]
        J[C_VS, C_VS] = -1.0


def _init(p, ctx):
    """Steady state: the washouts block their constant inputs, so every state after them and the
    output are zero (the first washout states hold the input signals)."""
    code1, code2 = p[:, IC1].astype(int), p[:, IC2].astype(int)
    tab = {"input_code_1": code1, "input_code_2": code2, "input_bus_1": p[:, IB1],
           "input_bus_2": p[:, IB2]}
    problems = _inputs.problems(tab, "input_code_1", "input_bus_1", ALLOWED)
    problems += _inputs.problems(tab, "input_code_2", "input_bus_2", ALLOWED)
    problems += [(int(k), "vstmax_pu", "the output limits [VSTMIN, VSTMAX] must contain 0, the "
                  "steady-state output") for k in np.flatnonzero((p[:, VSTMIN] > 0) | (p[:, VSTMAX] < 0))]
    zero = np.zeros(p.shape[0])
    out = {name: zero.copy() for name in STATES}
    out["w1"] = _inputs.initial(code1, ctx)
    out["w3"] = _inputs.initial(code2, ctx)
    out["vs"] = zero.copy()
    out["_problems"] = problems
    return out


def _diff_mask(p):
    n = p.shape[0]
    on = np.ones(n, dtype=bool)
    nst = (p[:, M] * p[:, N]).astype(int)
    rtf = [(nst > i) & (p[:, T9] > 0.0) for i in range(MAX_STAGES)]
    return np.stack([on, lag_diff(p[:, TW2]), lag_diff(p[:, T6]), on, lag_diff(p[:, TW4]),
                     lag_diff(p[:, T7])] + rtf + [lag_diff(p[:, T2]), lag_diff(p[:, T4])], axis=1)


_IN = list(range(C_W, C_W + 5))
_R = list(range(C_R0, C_R0 + MAX_STAGES))
_MASK = np.zeros((17, 22), dtype=bool)
for _a, _b, _x in ((C_W1, C_W2, C_X6), (C_W3, C_W4, C_X7)):
    _MASK[_a, [_a] + _IN] = True
    _MASK[_b, [_a, _b] + _IN] = True
    _MASK[_x, [_a, _b, _x] + _IN] = True
for _i in range(MAX_STAGES):
    _MASK[C_R0 + _i, [C_X6, C_X7] + _R[:_i + 1]] = True
_MASK[C_X1, [C_X6, C_X7, C_X1] + _R] = True
_MASK[C_X3, [C_X6, C_X7, C_X1, C_X3] + _R] = True
_MASK[C_VS, [C_X6, C_X7, C_X1, C_X3, C_VS] + _R] = True

SPEC = ModelSpec(
    name="pss2a", family="pss", params=PARAMS, extra=EXTRA,
    states=STATES, algebs=(), outputs=("vs",), inputs=_inputs.INPUTS,
    injects=False, eval=_eval, init=_init, jac_mask=_MASK, diff_mask=_diff_mask,
)
