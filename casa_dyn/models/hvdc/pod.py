"""HVDC_POD: power-oscillation damping by modulation of an LCC converter's power order.

A supplementary control that adds to the auxiliary power input ``paux`` (MW) of one LCC
converter a signal proportional, through phase compensation, to the speed difference of two
machines that swing against each other in the mode to be damped::

    u    = K (omega_a - omega_b)                 MW; omega in pu, gen_b = 0: omega_b = 1 pu
    w    = u s Tw / (1 + s Tw)                   washout (no steady-state action)
    y    = w (1 + s T1)/(1 + s T2) (1 + s T3)/(1 + s T4)      phase compensation
    p_mw = clip(y, -p_max_mw, p_max_mw)          windup output limit
    converter row:  0 = p_aux - paux + p_mw      (the ``lcc`` family's auxiliary input)

The structure is the classical one of HVDC damping (modulation) controls: a signal
proportional to a speed (or frequency) difference across the AC system, a washout, lead-lag
phase compensation and limits on the power swing (IEEE Special Stability Controls Working
Group, "HVDC controls for system dynamic performance", IEEE Trans. Power Systems 6(2), 1991,
pp. 743-752; the Pacific HVDC Intertie modulation: R. L. Cresap, D. N. Scott,
W. A. Mittelstadt, C. W. Taylor, "Operating experience with modulation of the Pacific HVDC
Intertie", IEEE Trans. PAS-97(4), 1978, pp. 1053-1059; Kundur, Power System Stability and
Control, 1994, ch. 17 on supplementary control of HVDC links for small-signal stability, and
sec. 12.5 for the same gain / washout / lead-lag / limit chain in a PSS).  The converter
turns the MW into a current order ``k_aux paux / v_meas`` (``casa_dyn.models.hvdc.lcc``).

Blocks are realised as in the PSS models: the washout as ``w = u - xw``,
``dxw/dt = (u - xw)/Tw``; each lead-lag as ``base.leadlag_rhs`` (T2 or T4 = 0 bypasses the
stage).  States are in MW (the gain is applied first).  At a power-flow initialization every
machine turns at 1 pu, so u = 0 and every state starts at 0.

One unit per in-service ``hvdc_pod`` row; the converter's ``paux`` row and the machines'
speeds are found through the layout's shared keys (``lcc/<id>/paux``, ``gen/<id>/omega``).
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register, status_col
from casa_dyn.errors import CaseError, Problem
from casa_dyn.models.base import ModelSpec, lag_diff, leadlag_rhs
from casa_dyn.models.exciter._common import clip_d
from casa_dyn.solver.layout import Family


def _checks(t):
    out = [(int(r), "gen_b", f"gen_b {t['gen_b'][r]} equals gen_a: the speed difference would be 0")
           for r in np.flatnonzero(t["gen_b"] == t["gen_a"])]
    for lead, lag in (("t1_s", "t2_s"), ("t3_s", "t4_s")):
        out += [(int(r), lag, f"{lead} = {t[lead][r]:g} s with {lag} = 0: a lead without a lag is "
                 "a pure derivative; give the stage a lag time constant or set both to 0")
                for r in np.flatnonzero((t[lag] == 0.0) & (t[lead] > 0.0))]
    return out


TABLE = register(Table(
    "hvdc_pod",
    "HVDC power-oscillation damping control: modulates the power order of one LCC converter "
    "(its auxiliary input, MW) with the washed-out, phase-compensated speed difference of two "
    "generators (docs/modes.md).",
    (
        id_col(),
        Column("conv", INT, "LCC converter whose auxiliary power input is modulated",
               ref="lcc_converter", lo=1),
        Column("gen_a", INT, "generator whose speed is the input (minus gen_b's)", ref="generator",
               lo=1),
        Column("gen_b", INT, "generator whose speed is subtracted; 0: none (gen_a's speed "
               "deviation from 1 pu alone); checked when the system is built", default=0, lo=0),
        real("k_mw_per_pu", "MW/pu", "K: gain, MW of modulation per pu of speed difference "
             "(positive: more power drawn at the converter while gen_a runs ahead of gen_b)"),
        pos("t_w_s", "s", "Tw: washout time constant (> 0)", 10.0),
        pos("t1_s", "s", "T1: lead time constant, first lead-lag", 0.0, open_lo=False),
        pos("t2_s", "s", "T2: lag time constant, first lead-lag (0 = stage bypassed)", 0.0,
            open_lo=False),
        pos("t3_s", "s", "T3: lead time constant, second lead-lag", 0.0, open_lo=False),
        pos("t4_s", "s", "T4: lag time constant, second lead-lag (0 = stage bypassed)", 0.0,
            open_lo=False),
        pos("p_max_mw", "MW", "output limit: the modulation stays within +-p_max_mw"),
        status_col(),
    ),
    family="hvdc",
    since_version=3,
    checks=(_checks,),
))

PARAMS = ()
EXTRA = ("k_mw_per_pu", "t_w_s", "t1_s", "t2_s", "t3_s", "t4_s", "p_max_mw", "has_b")
K, TW, T1, T2, T3, T4, PMAX, HASB = range(8)
STATES = ("xw", "x1", "x2")
ALGEBS = ("p_mw",)
INPUTS = ("omega_a", "omega_b")
# local columns: xw x1 x2 | p_mw | omega_a omega_b ; rows: xw x1 x2 p_mw | paux (the converter's)
C_XW, C_X1, C_X2, C_P, C_WA, C_WB = range(6)
R_PAUX = 4


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        k, hb, tw = p[u, K], p[u, HASB], p[u, TW]
        wb = z[col[u, C_WB]] if hb != 0.0 else 1.0
        xin = k * (z[col[u, C_WA]] - wb)
        xw, pmw = z[col[u, C_XW]], z[col[u, C_P]]
        w = xin - xw
        ll1 = leadlag_rhs(w, z[col[u, C_X1]], p[u, T1], p[u, T2])
        ll2 = leadlag_rhs(ll1[1], z[col[u, C_X2]], p[u, T3], p[u, T4])
        out, dout, _, _ = clip_d(ll2[1], -p[u, PMAX], p[u, PMAX])
        r[u, C_XW] = w / tw
        r[u, C_X1] = ll1[0]
        r[u, C_X2] = ll2[0]
        r[u, C_P] = out - pmw
        r[u, R_PAUX] = pmw
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        # d w / d (omega_a, omega_b, xw); then the chain through the two lead-lags
        dw = (k, -k * hb, -1.0)
        cw = (C_WA, C_WB, C_XW)
        for m in range(3):
            J[C_XW, cw[m]] = dw[m] / tw
            J[C_X1, cw[m]] = ll1[4] * dw[m]
            dy1 = ll1[2] * dw[m]
            J[C_X2, cw[m]] = ll2[4] * dy1
            J[C_P, cw[m]] = dout * ll2[2] * dy1
        J[C_X1, C_X1] = ll1[5]
        J[C_X2, C_X1] = ll2[4] * ll1[3]
        J[C_X2, C_X2] = ll2[5]
        J[C_P, C_X1] = dout * ll2[2] * ll1[3]
        J[C_P, C_X2] = dout * ll2[3]
        J[C_P, C_P] = -1.0
        J[R_PAUX, C_P] = 1.0


def _init(p, ctx):
    return {}


def _diff_mask(p):
    return np.stack([np.ones(p.shape[0], bool), lag_diff(p[:, T2]), lag_diff(p[:, T4])], axis=1)


_MASK = np.zeros((5, 6), dtype=bool)
_MASK[C_XW, [C_XW, C_WA, C_WB]] = True
_MASK[C_X1, [C_XW, C_X1, C_WA, C_WB]] = True
_MASK[C_X2, [C_XW, C_X1, C_X2, C_WA, C_WB]] = True
_MASK[C_P, [C_XW, C_X1, C_X2, C_P, C_WA, C_WB]] = True
_MASK[R_PAUX, C_P] = True


def _build(case, pf, alloc) -> Family:
    """One unit per in-service row; its output row adds into the converter's ``paux`` row."""
    t = case.tables.get("hvdc_pod")
    rows = [] if t is None else [r for r in range(len(t["id"])) if t["in_service"][r] == 1]
    n = len(rows)
    p = np.zeros((n, len(EXTRA)))
    col = np.zeros((n, len(SPEC.cols)), dtype=np.int64)
    rowg = np.zeros((n, len(SPEC.rows)), dtype=np.int64)
    problems = []
    for u, r in enumerate(rows):
        pid = int(t["id"][r])
        for j, name in enumerate(EXTRA[:-1]):
            p[u, j] = t[name][r]
        paux = alloc.shared.get(f"lcc/{int(t['conv'][r])}/paux")
        if paux is None:
            problems.append(Problem("hvdc_pod", r, "conv", f"converter {t['conv'][r]} is out of "
                                    "service or not in an energized DC network: nothing to modulate",
                                    pid))
            continue
        speeds = []
        for field_ in ("gen_a", "gen_b"):
            g = int(t[field_][r])
            w = alloc.shared.get(f"gen/{g}/omega")
            if w is None and not (field_ == "gen_b" and g == 0):
                problems.append(Problem("hvdc_pod", r, field_, f"generator {g} does not exist, is "
                                        "out of service or has no machine model (no speed to "
                                        "measure)", pid))
            speeds.append(w)
        p[u, HASB] = 1.0 if speeds[1] is not None else 0.0
        for j, v in enumerate(STATES + ALGEBS):
            diff = j < len(STATES) and (j == 0 or p[u, (T2, T4)[j - 1]] > 0.0)
            col[u, j] = alloc.var(f"hvdc_pod/{pid}/{v}", diff, 0.0)
        # without gen_b the kernel reads no second speed: point the column at the DC network's
        # 0 kV reference, a variable this model's rows do not depend on
        col[u, C_WA] = speeds[0] if speeds[0] is not None else 0
        col[u, C_WB] = speeds[1] if speeds[1] is not None else alloc.shared["dc_node/0/v"]
        rowg[u, :R_PAUX] = col[u, :R_PAUX]
        rowg[u, R_PAUX] = paux
    if problems:
        raise CaseError(problems)
    ids = np.array([t["id"][r] for r in rows], dtype=np.int64)
    return Family(SPEC, p, col, rowg, np.zeros((n, 0)), ids, -np.ones(n, np.int64))


SPEC = ModelSpec(
    name="hvdc_pod", family="hvdc", params=PARAMS, extra=EXTRA, states=STATES, algebs=ALGEBS,
    outputs=(), inputs=INPUTS, injects=False, eval=_eval, init=_init, jac_mask=_MASK,
    diff_mask=_diff_mask, extra_rows=("paux",), build=_build,
)
