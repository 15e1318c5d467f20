"""Layout and shared compiled pieces of the LCC converter model (``lcc``): parameter,
discrete-state and column indices, the current order (power/current order with ramps, the
voltage-setting converter's share, restart ramp, VDCOL) and the firing-angle candidates of
the controllers.  Equations and their sources: ``casa_dyn.models.hvdc.lcc``.
"""
from __future__ import annotations

import math

from casa_dyn._jit import njit
from casa_dyn.models.hvdc._blocks import acos_sat, ramp, vdcol
from casa_dyn.network.dc.qss import K_RX, K_VD0

# ---------------------------------------------------------------- parameters (p columns)
EXTRA = (
    "kind", "mode", "n_bridges", "xc_ohm", "rc_ohm", "ebas_kv", "ratio", "tap_pu",
    "i_rated_ka", "v_base_kv", "s_base_mva", "margin_pu", "v_cmod_kv", "r_comp_ohm",
    "k_p_i", "k_i_i", "k_p_g", "k_i_g", "k_p_v", "k_i_v", "t_id_s", "t_vd_s", "t_gamma_s",
    "alpha_min", "alpha_max", "gamma_min",
    "vdcol_v_lo", "vdcol_i_lo", "vdcol_v_hi", "vdcol_i_hi", "i_min_pu",
    "p_ramp_mw_per_s", "t_cmode_s", "cf_criterion", "gamma_cf", "dv_cf_pu", "t_cf_s",
    "v_block_pu", "v_unblock_pu", "t_block_s", "v_bypass_pu", "v_unbypass_pu", "t_bypass_s",
    "v_restart_pu", "i_restart_pu", "v_ramp_pu_per_s", "i_ramp_pu_per_s",
    "alpha_retard", "t_deion_s", "n_restarts", "k_aux",
    "scale_p", "scale_n", "float_side", "w1", "r1", "s1", "w2", "r2", "s2", "w3", "r3", "s3",
    "free_side", "cluster", "isolated", "group", "is_vst", "cv_control", "gamma_ord", "v_set_vst_kv",
    "p_aux_mw", "exact_pf",
)
(KIND, MODE, NB, XC, RC, EBAS, RATIO, TAP, IR, VB, SB, MARGIN, VCMOD, RCOMP,
 KPI, KII, KPG, KIG, KPV, KIV, TID, TVD, TGM, AMIN, AMAX, GMIN,
 VDL, IDL, VDH, IDH, IMIN, PRAMP, TCMODE, CFCRIT, GCF, DVCF, TCF,
 VBLK, VUNBLK, TBLK, VBYP, VUNBYP, TBYP, VRS, IRS, VRAMP, IRAMP,
 ARET, TDEION, NRST, KAUX, SP, SN, FLOAT, W1, R1, S1, W2, R2, S2, W3, R3, S3,
 FREE, CLUSTER, ISOL, GROUP, ISVST, CVCTL, GORD, VSETVST, PAUX0, EXACT) = range(len(EXTRA))

MODE_POWER, MODE_CURRENT, MODE_VOLTAGE = 1, 2, 3

# ---------------------------------------------------------------- discrete state (ds columns)
DISC = ("sel", "lim", "nc", "pin", "cf", "t_cf_end", "blk", "t_blk", "ev_blk", "byp", "t_byp",
        "t_restart", "t_vramp", "cmode", "t_cmode", "lf", "t_lf", "n_lf", "lf_perm",
        "lf_detect_s", "ord_t0", "ord_v0", "ord_target", "ord_rate", "vac_prev", "vdcol",
        "t_cf_start")
(D_SEL, D_LIM, D_NC, D_PIN, D_CF, D_TCF, D_BLK, D_TBLK, D_EVBLK, D_BYP, D_TBYP, D_TRS, D_TVR,
 D_CMODE, D_TCMODE, D_LF, D_TLF, D_NLF, D_LFPERM, D_LFDET, D_OT0, D_OV0, D_OTGT, D_ORATE,
 D_VACP, D_VDCOL, D_TCF0) = range(len(DISC))
# firing-angle sources (D_SEL) and mode codes reported in the ``mode`` variable
SEL_CC, SEL_CEA, SEL_CV, SEL_VR = 1, 2, 3, 4
CODE_NC, CODE_AMIN, CODE_AMAX, CODE_FORCED = 0, 5, 6, 7
# DC-line-fault sequence (D_LF)
#: (armed: restarted into a permanent fault, detected again once current flows)
LF_NONE, LF_PENDING, LF_ARMED, LF_RETARD, LF_DEION, LF_LOCKOUT = 0, 1, 2, 3, 4, 5
#: "no restart ramp running" time
NEVER = -1e30

# ---------------------------------------------------------------- local columns and rows
STATES = ("i_meas", "v_meas", "g_meas", "x_i", "x_g", "x_v")
ALGEBS = ("alpha", "mu", "id", "p", "q", "paux", "mode", "vdcol", "blocked", "bypassed", "cf")
INPUTS = ("vr", "vi", "v_p", "v_n", "va1", "ia1", "va2", "ia2", "va3", "ia3")
# a state's or algebraic variable's row has the index of its column
(C_IM, C_VM, C_GM, C_XI, C_XG, C_XV, C_AL, C_MU, C_ID, C_P, C_Q, C_PAUX, C_MODE, C_VDCOL, C_BLK,
 C_BYP, C_CF, C_VR, C_VI, C_VP, C_VN, C_VA1, C_IA1, C_VA2, C_IA2, C_VA3, C_IA3) = range(27)
R_IR, R_II, R_KP, R_KN = 17, 18, 19, 20
N_ROWS = 21

# ---------------------------------------------------------------- named tuning constants
#: power orders are divided by at least this fraction of the base DC voltage
V_FLOOR_FRAC = 0.05
#: the smallest valve-side AC voltage used in divisions (kV)
EAC_FLOOR_KV = 1e-6
#: controller hand-over hysteresis: current error (pu of rated), gamma (rad), voltage (pu)
SEL_HYST_I_PU = 0.01
SEL_HYST_G_RAD = math.radians(0.5)
SEL_HYST_V_PU = 0.01
#: tracking rate of controller integrators that are not in use (1/s)
W_IDLE = 10.0
#: a non-conducting converter starts conducting when it could drive this current (pu)
I_ON_PU = 1e-4
#: the restart-voltage ramp stops limiting above this DC voltage (pu)
VR_END_PU = 1.2
#: below this AC voltage (pu) the converter's AC current is taken proportional to V (P and Q
#: already fall with V there; this keeps a bolted fault at the converter bus well posed)
V_INJ_LIN_PU = 0.02
#: slack on timers compared at step boundaries (s)
T_EPS = 1e-9


@njit
def forced(ds, u):
    """Firing angle forced to the retard angle: blocked (AC undervoltage or event) or in the
    retard / de-ionization / lockout phases of a DC line fault."""
    return ds[u, D_BLK] != 0.0 or ds[u, D_EVBLK] != 0.0 or ds[u, D_LF] >= LF_RETARD


@njit
def track_rate(kp, ki):
    """Rate of the back-calculation (reset) term of a PI whose output is not applied."""
    if kp > 0.0:
        return ki / kp
    return W_IDLE if ki > 0.0 else 0.0


@njit
def own_order(t, p, ds, u, v_kv, paux):
    """Current order of a power- or current-controlled converter before VDCOL (kA), with
    d/d v_kv and d/d paux: the ramped order, the auxiliary modulation (MW) and the restart
    ramp after a block or a DC line fault."""
    val = ramp(t, ds[u, D_OT0], ds[u, D_OV0], ds[u, D_OTGT], ds[u, D_ORATE])
    vfl = V_FLOOR_FRAC * p[u, VB]
    vv, dvv = (v_kv, 1.0) if v_kv > vfl else (vfl, 0.0)
    if p[u, MODE] == MODE_POWER and ds[u, D_CMODE] == 0.0:
        num = val + p[u, KAUX] * paux
        i, di, dpa = num / vv, -num / (vv * vv) * dvv, p[u, KAUX] / vv
    elif p[u, MODE] == MODE_POWER:
        # VCMOD: the current of the scheduled power at the scheduled voltage
        i, di, dpa = (val + p[u, KAUX] * paux) / p[u, VSETVST], 0.0, p[u, KAUX] / p[u, VSETVST]
    else:
        i, di, dpa = val + p[u, KAUX] * paux / vv, -p[u, KAUX] * paux / (vv * vv) * dvv, p[u, KAUX] / vv
    if p[u, IRAMP] > 0.0 and t >= ds[u, D_TRS]:
        lim = (p[u, IRS] + p[u, IRAMP] * (t - ds[u, D_TRS])) * p[u, IR]
        if lim < i:
            return lim, 0.0, 0.0
    return i, di, dpa


@njit
def order(t, p, ds, u, v_meas, paux):
    """Effective current order (kA) with d/d v_meas, d/d paux and whether VDCOL limits it.

    The voltage-setting converter orders the sum of its pole's rectifier orders minus the
    other inverters' orders (power orders converted with its own measured voltage), less
    the current margin (REFERENCE.md 2.3 item 4 and 5)."""
    if p[u, MODE] == MODE_VOLTAGE:
        i, di, dpa = 0.0, 0.0, 0.0
        for k in range(p.shape[0]):
            if k != u and p[k, GROUP] == p[u, GROUP] and not forced(ds, k):
                ik, dik, _ = own_order(t, p, ds, k, v_meas, 0.0)
                i += p[k, KIND] * ik
                di += p[k, KIND] * dik
    else:
        i, di, dpa = own_order(t, p, ds, u, v_meas, paux)
    lim, dlim = vdcol(v_meas / p[u, VB], p[u, VDL], p[u, IDL], p[u, VDH], p[u, IDH])
    lim *= p[u, IR]
    dlim *= p[u, IR] / p[u, VB]
    limited = lim < i
    if limited:
        i, di, dpa = lim, dlim, 0.0
    floor = p[u, IMIN] * p[u, IR]
    if i < floor:
        i, di, dpa = floor, 0.0, 0.0
    if p[u, MODE] == MODE_VOLTAGE:
        k = 1.0 - p[u, MARGIN]
        i, di, dpa = k * i, k * di, k * dpa
    return i, di, dpa, limited


@njit
def v_ramp_kv(t, p, ds, u):
    """Restart DC-voltage limit of an inverter after a bypass (kV, capped at VR_END_PU), and
    whether it is still ramping; (-1, False) when no ramp applies."""
    if p[u, VRAMP] <= 0.0 or t < ds[u, D_TVR] or ds[u, D_TVR] <= NEVER:
        return -1.0, False
    v = (p[u, VRS] + p[u, VRAMP] * (t - ds[u, D_TVR])) * p[u, VB]
    top = VR_END_PU * p[u, VB]
    return (v, True) if v < top else (top, False)


@njit
def ac_side(z, p, col, u):
    """|V| (pu), its derivatives, the valve-side voltage Eac (kV, floored) and d Eac / d|V|."""
    vr = z[col[u, C_VR]]
    vi = z[col[u, C_VI]]
    vm = math.sqrt(vr * vr + vi * vi)
    dvr, dvi = (vr / vm, vi / vm) if vm > 1e-9 else (0.0, 0.0)
    ke = p[u, EBAS] * p[u, RATIO] / p[u, TAP]
    eac = vm * ke
    if eac < EAC_FLOOR_KV:
        return vm, dvr, dvi, EAC_FLOOR_KV, 0.0
    return vm, dvr, dvi, eac, ke


@njit
def candidates(t, z, p, col, ds, u):
    """What the controllers ask for: unclipped firing angles (rad) of current (CC),
    extinction-angle (CEA), DC-voltage (CV) control and the restart voltage ramp (VR; NaN
    when not applicable), and the errors behind them: current (pu, order - measured),
    the actual (not measured) gamma (rad) and voltage (pu, order - measured)."""
    paux = z[col[u, C_PAUX]]
    im = z[col[u, C_IM]]
    vm = z[col[u, C_VM]]
    e_i = (order(t, p, ds, u, vm, paux)[0] - im) / p[u, IR]
    a_cc = z[col[u, C_XI]] - p[u, KPI] * e_i
    gamma = math.pi - z[col[u, C_AL]] - z[col[u, C_MU]]
    a_g = z[col[u, C_XG]] + p[u, KPG] * (z[col[u, C_GM]] - p[u, GORD])
    vord = ramp(t, ds[u, D_OT0], ds[u, D_OV0], ds[u, D_OTGT], ds[u, D_ORATE])
    e_v = (vord - vm - p[u, RCOMP] * im) / p[u, VB]
    a_cv = z[col[u, C_XV]] + p[u, KPV] * e_v if p[u, CVCTL] != 0.0 else math.nan
    a_vr = math.nan
    vr, ramping = v_ramp_kv(t, p, ds, u)
    if ramping:
        eac = ac_side(z, p, col, u)[3]
        vd0 = p[u, NB] * K_VD0 * eac
        req = p[u, NB] * (K_RX * p[u, XC] + 2.0 * p[u, RC])
        a_vr = acos_sat((req * z[col[u, C_ID]] - vr) / vd0)[0]
    return a_cc, a_g, a_cv, a_vr, e_i, gamma, e_v
