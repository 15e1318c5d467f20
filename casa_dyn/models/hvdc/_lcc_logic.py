"""Discrete logic of the LCC converters, evaluated between time steps (no events inside a
step; the engine follows any change with a backward-Euler half step and a fresh Jacobian).

Per converter, in this order (thresholds and timers in ``lcc_control``; PSS/E CDC4T-style
semantics as coded in STEPS ``hvdc_model.cpp``, REFERENCE.md 2.3 item 7):

1. DC-line-fault sequence of a rectifier (started by a ``DcLineFault`` event): after the
   detection delay alpha goes to alpha_retard; once the current is zero the de-ionization
   timer runs; then a restart with the current ramp, up to n_restarts attempts (a
   permanent fault is detected again t_detect_s after current flows again), then lockout.
2. Rectifier blocking below v_block_pu (AC); unblocking (of any blocked converter) above
   v_unblock_pu after t_block_s, restart with the current order ramping from i_restart_pu at
   i_ramp_pu_per_s.
3. Inverter bypass below v_bypass_pu (DC), removed above v_unbypass_pu (AC) after
   t_bypass_s, restart with the DC voltage ramping from v_restart_pu at v_ramp_pu_per_s.
4. Inverter commutation failure: gamma below gamma_cf_deg (criterion 1) or an AC voltage
   drop since the previous step boundary above dv_cf_pu (criterion 2); lasts t_cf_s.  An
   inverter that is not the voltage-setting one and keeps failing (failures less than
   t_block_s apart) for t_block_s is blocked
   (its failures hold the whole DC network down, REFERENCE.md 5) and restarts like a
   blocked rectifier (after t_block_s, AC voltage above v_unblock_pu, current ramp).
5. Valves: a conducting converter whose current has reversed stops conducting (its
   terminal's branch currents are set so that Kirchhoff's law holds with Id = 0); a
   non-conducting one starts again when it could drive current into the DC network.
6. VCMOD: a power-controlled converter below v_cmod_kv holds the current p/v_set of its
   pole's voltage-setting converter for at least t_cmode_s.
7. Controller selection of an inverter (``_inverter_sel``: current control when the
   current is below the inverter's order, otherwise the voltage side -- CEA, CV, or the
   restart ramp -- with the extinction-angle limit; bumpless hand-over) and the alpha
   limits.
Then per isolated cluster of DC nodes (``_network``) whose converters all stopped
conducting, the first converter holds its terminal at 0 kV so that the cluster's voltage
is defined ("pinned"; it is released as soon as a converter of the cluster conducts).
"""
from __future__ import annotations

import math

from casa_dyn._jit import njit
from casa_dyn.models.hvdc._lcc_core import *  # noqa: F401,F403  (index constants)
from casa_dyn.models.hvdc._lcc_core import ac_side, candidates, forced, order
from casa_dyn.network.dc.qss import K_RX, K_VD0


@njit
def _set(ds, u, k, value):
    if ds[u, k] != value:
        ds[u, k] = value
        return 1
    return 0


@njit
def _line_fault(t, p, ds, u):
    lf = ds[u, D_LF]
    if lf == LF_ARMED and ds[u, D_NC] == 0.0:
        ds[u, D_LF] = LF_PENDING
        ds[u, D_TLF] = t + ds[u, D_LFDET]
        return 1
    if lf == LF_PENDING and t >= ds[u, D_TLF] - T_EPS:
        ds[u, D_LF] = LF_RETARD
        return 1
    if lf == LF_RETARD and ds[u, D_NC] != 0.0:
        ds[u, D_LF] = LF_DEION
        ds[u, D_TLF] = t + p[u, TDEION]
        return 1
    if lf == LF_DEION and t >= ds[u, D_TLF] - T_EPS:
        ds[u, D_NLF] += 1.0
        if ds[u, D_NLF] > p[u, NRST]:
            ds[u, D_LF] = LF_LOCKOUT
        else:
            ds[u, D_TRS] = t
            ds[u, D_LF] = LF_ARMED if ds[u, D_LFPERM] != 0.0 else LF_NONE
        return 1
    return 0


@njit
def _block_bypass_cf(t, z, p, col, ds, u, vac, vt):
    n = 0
    if ds[u, D_BLK] != 0.0 and t - ds[u, D_TBLK] >= p[u, TBLK] - T_EPS and vac > p[u, VUNBLK]:
        ds[u, D_BLK], ds[u, D_TRS] = 0.0, t
        n += 1
    if p[u, KIND] > 0.0:
        if ds[u, D_BLK] == 0.0 and vac < p[u, VBLK]:
            ds[u, D_BLK], ds[u, D_TBLK] = 1.0, t
            n += 1
        return n
    conducting = ds[u, D_NC] == 0.0
    if (ds[u, D_BYP] == 0.0 and conducting and ds[u, D_CF] == 0.0 and p[u, VBYP] > 0.0
            and vt < p[u, VBYP] * p[u, VB]):
        ds[u, D_BYP], ds[u, D_TBYP] = 1.0, t
        n += 1
    elif ds[u, D_BYP] != 0.0 and t - ds[u, D_TBYP] >= p[u, TBYP] - T_EPS and vac > p[u, VUNBYP]:
        ds[u, D_BYP], ds[u, D_TVR] = 0.0, t
        n += 1
    was = ds[u, D_CF]
    ended = was != 0.0 and t >= ds[u, D_TCF] - T_EPS
    if ended:
        ds[u, D_CF] = 0.0
    if (ds[u, D_CF] == 0.0 and conducting and ds[u, D_BYP] == 0.0 and not forced(ds, u)
            and p[u, CFCRIT] > 0.0):
        gamma = math.pi - z[col[u, C_AL]] - z[col[u, C_MU]]
        vp = ds[u, D_VACP]
        hit = ((p[u, CFCRIT] == 1.0 and gamma < p[u, GCF])
               or (p[u, CFCRIT] == 2.0 and vp > 0.0 and 1.0 - vac / vp > p[u, DVCF]))
        if hit:
            if t - ds[u, D_TCF] > p[u, TBLK]:
                ds[u, D_TCF0] = t  # a new episode of (repeated) commutation failures
            ds[u, D_CF], ds[u, D_TCF] = 1.0, t + p[u, TCF]
            if p[u, ISVST] == 0.0 and t - ds[u, D_TCF0] >= p[u, TBLK] - T_EPS:
                # a tap inverter failing for t_block_s would hold the whole DC network
                # down: it blocks (alpha to retard, valves stop) and restarts later
                ds[u, D_CF], ds[u, D_BLK], ds[u, D_TBLK] = 0.0, 1.0, t
                n += 1
    return n + (1 if ds[u, D_CF] != was else 0)


@njit
def _stop_conducting(z, p, col, u):
    """Id = 0 from now on: make the terminal's branch currents obey Kirchhoff's law with it."""
    z[col[u, C_ID]] = 0.0
    z[col[u, C_P]] = 0.0
    z[col[u, C_Q]] = 0.0
    if p[u, FLOAT] == 0.0:
        return
    ex, ws, vsum = 0.0, 0.0, 0.0
    for j in range(3):
        w = p[u, W1 + 3 * j]
        if w > 0.0:
            ex += p[u, S1 + 3 * j] * z[col[u, C_IA1 + 2 * j]]
            ws += w
    for j in range(3):
        w = p[u, W1 + 3 * j]
        if w > 0.0:
            c = col[u, C_IA1 + 2 * j]
            z[c] -= p[u, S1 + 3 * j] * ex * w / ws
            vsum += w * (z[col[u, C_VA1 + 2 * j]] + p[u, R1 + 3 * j] * p[u, S1 + 3 * j] * z[c])
    z[col[u, C_VP] if p[u, FLOAT] > 0.0 else col[u, C_VN]] = vsum / ws


@njit
def _conduction(z, p, col, ds, u, vac, vt):
    idk = z[col[u, C_ID]]
    if ds[u, D_NC] == 0.0:
        if idk < 0.0:
            ds[u, D_NC] = 1.0
            _stop_conducting(z, p, col, u)
            return 1
        return 0
    shorted = ds[u, D_CF] != 0.0 or ds[u, D_BYP] != 0.0
    eac = vac * p[u, EBAS] * p[u, RATIO] / p[u, TAP]
    e0 = 0.0 if shorted else p[u, NB] * K_VD0 * eac * math.cos(z[col[u, C_AL]])
    req = p[u, NB] * (K_RX * p[u, XC] + 2.0 * p[u, RC])
    if (e0 - p[u, KIND] * vt) / req > I_ON_PU * p[u, IR]:
        ds[u, D_NC] = 0.0
        return 1
    return 0


@njit
def _cmode(t, z, p, col, ds, u):
    if p[u, MODE] != MODE_POWER or p[u, VCMOD] <= 0.0:
        return 0
    vme = z[col[u, C_VM]]
    if ds[u, D_CMODE] == 0.0 and vme < p[u, VCMOD]:
        ds[u, D_CMODE], ds[u, D_TCMODE] = 1.0, t
        return 1
    if ds[u, D_CMODE] != 0.0 and t - ds[u, D_TCMODE] >= p[u, TCMODE] - T_EPS and vme >= p[u, VCMOD]:
        ds[u, D_CMODE] = 0.0
        return 1
    return 0


@njit
def _inverter_sel(p, u, sel, e_i, gamma, e_v, vr_open):
    """Hand-over between the inverter controllers (REFERENCE.md 2.3 items 3-4: the current
    controller lowers alpha below what the voltage side -- CEA, CV or the restart ramp --
    allows when the current falls below the inverter's order; the extinction-angle limit
    caps alpha).  Decided on the controllers' errors, with hysteresis."""
    vside = float(SEL_VR) if vr_open else (float(SEL_CV) if p[u, CVCTL] != 0.0 else float(SEL_CEA))
    if sel == SEL_VR and not vr_open:
        sel = vside
    if sel == SEL_CC:
        if gamma < p[u, GORD] - SEL_HYST_G_RAD:
            return float(SEL_CEA)
        if p[u, ISVST] != 0.0 and e_i < -SEL_HYST_I_PU:
            return vside
        return sel
    if e_i > SEL_HYST_I_PU:
        return float(SEL_CC)
    if sel != SEL_CEA and gamma < p[u, GMIN] - SEL_HYST_G_RAD:
        return float(SEL_CEA)
    if sel == SEL_CEA and p[u, CVCTL] != 0.0 and e_v < -SEL_HYST_V_PU:
        return float(SEL_CV)
    return sel


@njit
def _select(t, z, p, col, ds, u):
    """Controller selection (bumpless: the controller taking over starts from the present
    alpha) and the alpha limits."""
    a_cc, a_g, a_cv, a_vr, e_i, gamma, e_v = candidates(t, z, p, col, ds, u)
    old = ds[u, D_SEL]
    if p[u, KIND] > 0.0:
        sel = float(SEL_CC)
    else:
        sel = _inverter_sel(p, u, old, e_i, gamma, e_v, not math.isnan(a_vr))
    if sel != old:
        al = z[col[u, C_AL]]
        if sel == SEL_CC:
            z[col[u, C_XI]] = al + p[u, KPI] * e_i
            a_cc = al
        elif sel == SEL_CEA:
            z[col[u, C_XG]] = al - p[u, KPG] * (z[col[u, C_GM]] - p[u, GORD])
            a_g = al
        elif sel == SEL_CV:
            z[col[u, C_XV]] = al - p[u, KPV] * e_v
            a_cv = al
    v = (a_cc, a_g, a_cv, a_vr)[int(sel) - 1]
    lim = -1.0 if v < p[u, AMIN] else (1.0 if v > p[u, AMAX] else 0.0)
    return _set(ds, u, D_SEL, sel) + _set(ds, u, D_LIM, lim)


@njit
def _pins(p, ds):
    n = 0
    nu = p.shape[0]
    for u in range(nu):
        c = p[u, CLUSTER]
        want = 0.0
        if c >= 0.0 and p[u, ISOL] != 0.0 and ds[u, D_NC] != 0.0:
            all_nc, first = True, -1
            for k in range(nu):
                if p[k, CLUSTER] == c:
                    if ds[k, D_NC] == 0.0:
                        all_nc = False
                    if first < 0:
                        first = k
            want = 1.0 if (all_nc and first == u) else 0.0
        n += _set(ds, u, D_PIN, want)
    return n


@njit
def _flags(t, z, p, col, ds, u):
    """The reported mode flags (algebraic variables equal to the discrete state)."""
    ds[u, D_VDCOL] = 1.0 if order(t, p, ds, u, z[col[u, C_VM]], z[col[u, C_PAUX]])[3] else 0.0
    if ds[u, D_NC] != 0.0:
        code = float(CODE_NC)
    elif forced(ds, u):
        code = float(CODE_FORCED)
    elif ds[u, D_LIM] != 0.0:
        code = float(CODE_AMIN) if ds[u, D_LIM] < 0.0 else float(CODE_AMAX)
    else:
        code = ds[u, D_SEL]
    z[col[u, C_MODE]] = code
    z[col[u, C_VDCOL]] = ds[u, D_VDCOL]
    z[col[u, C_BLK]] = 1.0 if forced(ds, u) else 0.0
    z[col[u, C_BYP]] = ds[u, D_BYP]
    z[col[u, C_CF]] = ds[u, D_CF]


@njit
def _update_discrete(t, z, p, col, ds):
    n = 0
    for u in range(p.shape[0]):
        vac = ac_side(z, p, col, u)[0]
        vt = z[col[u, C_VP]] - z[col[u, C_VN]]
        if p[u, KIND] > 0.0:
            n += _line_fault(t, p, ds, u)
        n += _block_bypass_cf(t, z, p, col, ds, u, vac, vt)
        n += _conduction(z, p, col, ds, u, vac, vt)
        n += _cmode(t, z, p, col, ds, u)
        if not forced(ds, u):
            n += _select(t, z, p, col, ds, u)
        ds[u, D_VACP] = vac
    n += _pins(p, ds)
    for u in range(p.shape[0]):
        _flags(t, z, p, col, ds, u)
    return n
