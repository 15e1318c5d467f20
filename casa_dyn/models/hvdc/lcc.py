"""LCC converter: quasi-steady-state (QSS) converter equations with its controls.

One unit per in-service ``lcc_converter`` row (a pole of a station), controls from its
``lcc_control`` row (schema defaults when it has none).  Units: kV, kA, MW, Mvar, rad.
``k`` = +1 rectifier, -1 inverter; ``Vt = V(dc_node_p) - V(dc_node_n)``; ``Id >= 0``.

Converter (Kimbark 1971 ch. 3 and 7; Kundur 1994 sec. 10.2; REFERENCE.md 2.1; the compiled
QSS functions of ``casa_dyn.network.dc.qss``), alpha = firing angle of both kinds (an
inverter's alpha = pi - beta, its extinction angle gamma = pi - alpha - mu)::

    Eac = |V| ebas ratio / tap,   Vd0 = n (3 sqrt2/pi) Eac
    alpha + mu = acos_sat(cos alpha - sqrt2 Xc Id / Eac)               overlap
    E   = Vd0 (cos alpha + cos(alpha + mu)) / 2   (= Vd0 cos alpha - n 3/pi Xc Id)
    Vt  = k (E - 2 n Rc Id)                                            DC terminal voltage
    P   = E Id                             AC power drawn (negative: delivered by an inverter)
    Q   = n 3 Eac^2 / (4 pi Xc) (2 mu + sin 2 alpha - sin 2(alpha + mu))     Kimbark, exact
          (equal to P tan(phi) with his power factor, the power flow's choice, but free of
          its pole at phi = 90 deg), or the approximation Q = Id sqrt(Vd0^2 - E^2)
          (cos phi = E / Vd0) when the power flow used that
    I_ac = (P - jQ) / conj(V) / S_base                   current drawn from the AC bus (pu)
           (with |V|^2 held at V_INJ_LIN_PU^2 below that voltage, so that at a nearly dead
           bus the current falls with V instead of turning with its angle)

Written with mu, the equations stay finite when the AC voltage collapses: below the voltage
at which the valves can finish commutating, acos_sat saturates (alpha + mu = pi), E, P and
Q fall with Vd0 and the AC current stays bounded (a bolted fault at the converter bus).

Controls (REFERENCE.md 2.3; CIGRE benchmark structure, Szechtman et al. 1991; Faruque et al.
2006), each PI ``a = x + Kp e`` with a reset (back-calculation) integrator
``dx/dt = Ki e + (Ki/Kp)(alpha - a)`` that follows the applied angle when its output is not
used (Astrom & Hagglund, PID Controllers, 1995, sec. 3.5, tracking time Tt = Ti)::

    measurement lags   d(i_meas)/dt = (Id - i_meas)/T_id,  d(v_meas)/dt = (Vt - v_meas)/T_vd,
                       d(g_meas)/dt = (gamma - g_meas)/T_gamma
    current order      I = ramped order (P/v_meas in power mode, + aux), restart ramp,
                       VDCOL(v_meas), floor i_min; the voltage-setting inverter orders
                       (1 - margin)(sum rectifier orders - other inverter orders)
    CC   a_cc = x_i - K_p,i (I - i_meas)/I_rated        (both kinds)
    CEA  a_g  = x_g + K_p,g (g_meas - gamma_ord)         (inverters; the measured gamma: the
         angle is known once per commutation, and the lag keeps the loop alpha -> gamma
         -> alpha out of the algebraic equations, where Newton cycles near the overlap limit)
    CV   a_v  = x_v + K_p,v (V_ord - v_meas - R_comp i_meas)/V_base
         (the voltage-setting inverter whose power-flow gamma is not fixed)
    rectifier alpha = clip(a_cc, alpha_min, alpha_max)
    inverter  alpha = clip(a_cc, a_g, a_v or a_restart as selected, alpha_min, alpha_max)
    (an inverter's alpha_min is at least 90 deg; the clip is a flag between steps and a
    plain windup clip within a step)

Discrete logic at step boundaries (``_lcc_logic``): selection of the smallest inverter
angle and the limits, VCMOD, commutation failure (Vt = 0 for t_cf_s: the DC current
bypasses the AC side, P = Q = 0; REFERENCE.md 2.3 item 6), bypass (the same, until the
un-bypass conditions hold), blocking (alpha forced to alpha_retard), the DC-line-fault
sequence, and valve conduction: a converter whose current would reverse stops conducting
(``Id = 0``; at a terminal without capacitance whose branches are inductive the row becomes
``sum_j (V - V_j - R_j s_j I_j)/L_j = 0``, the derivative of Kirchhoff's law there; in a
cluster of such nodes cut off from capacitance and ground, one non-conducting converter
holds its terminal at 0 kV so that the dead line's voltage is defined).
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.models.base import ModelSpec, lag_diff, lag_rhs
from casa_dyn.models.hvdc._blocks import acos_sat, ramp
from casa_dyn.models.hvdc._lcc_core import *  # noqa: F401,F403  (index constants)
from casa_dyn.models.hvdc._lcc_core import (
    ALGEBS, DISC, EXTRA, INPUTS, N_ROWS, STATES, ac_side, forced, order, track_rate, v_ramp_kv,
)
from casa_dyn.models.hvdc._lcc_logic import _update_discrete
from casa_dyn.network.dc.qss import K_RX, K_VD0

SQRT2 = math.sqrt(2.0)


@njit
def mode_code(ds, u):
    if ds[u, D_NC] != 0.0:
        return float(CODE_NC)
    if forced(ds, u):
        return float(CODE_FORCED)
    if ds[u, D_LIM] < 0.0:
        return float(CODE_AMIN)
    if ds[u, D_LIM] > 0.0:
        return float(CODE_AMAX)
    return ds[u, D_SEL]


@njit
def _q_rows(p, u, al, mu, idk, E, dE_da, dE_dmu, dE_dv, vd0, dvd0_dv, eac, deac):
    """Q drawn and its derivatives (alpha, mu, id, |V|) in normal conduction."""
    if p[u, EXACT] != 0.0:
        # Kimbark's exact reactive power, Q = n 3 Eac^2 / (4 pi Xc) (2 mu + sin 2a - sin 2(a+mu))
        # (= P tan phi with his power factor, without its pole at phi = 90 deg; the same in
        # alpha for both kinds, since sin 2 gamma = -sin 2(a+mu), sin 2(gamma+mu) = -sin 2a)
        kq = p[u, NB] * 3.0 / (4.0 * math.pi * p[u, XC])
        g = 2.0 * mu + math.sin(2.0 * al) - math.sin(2.0 * (al + mu))
        c2 = math.cos(2.0 * (al + mu))
        e2 = kq * eac * eac
        return (e2 * g, e2 * (2.0 * math.cos(2.0 * al) - 2.0 * c2), e2 * (2.0 - 2.0 * c2), 0.0,
                2.0 * kq * eac * g * deac)
    sq = max(vd0 * vd0 - E * E, 1e-12)
    s = math.sqrt(sq)
    dq_de = -idk * E / s
    return (idk * s, dq_de * dE_da, dq_de * dE_dmu, s,
            dq_de * dE_dv + idk * vd0 / s * dvd0_dv)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        J = jl[u]
        if want_jac:
            J[:, :] = 0.0
        kind = p[u, KIND]
        im, vme, gme = z[col[u, C_IM]], z[col[u, C_VM]], z[col[u, C_GM]]
        xi, xg, xv = z[col[u, C_XI]], z[col[u, C_XG]], z[col[u, C_XV]]
        al, mu, idk = z[col[u, C_AL]], z[col[u, C_MU]], z[col[u, C_ID]]
        pz, qz, paux = z[col[u, C_P]], z[col[u, C_Q]], z[col[u, C_PAUX]]
        vr, vi = z[col[u, C_VR]], z[col[u, C_VI]]
        vt = z[col[u, C_VP]] - z[col[u, C_VN]]
        vac, dvr, dvi, eac, deac = ac_side(z, p, col, u)
        kv = p[u, NB] * K_VD0
        vd0 = kv * eac
        dvd0_dv = kv * deac
        ca, sa = math.cos(al), math.sin(al)
        cam, sam = math.cos(al + mu), math.sin(al + mu)
        E = vd0 * (ca + cam) / 2.0
        dE_da = -vd0 * (sa + sam) / 2.0
        dE_dmu = -vd0 * sam / 2.0
        dE_dv = dvd0_dv * (ca + cam) / 2.0
        rq = 2.0 * p[u, NB] * p[u, RC]
        req = p[u, NB] * K_RX * p[u, XC] + rq
        nc = ds[u, D_NC] != 0.0
        short = (ds[u, D_CF] != 0.0 or ds[u, D_BYP] != 0.0) and not nc
        gamma = math.pi - al - mu

        # measurement lags (current, DC voltage, extinction angle)
        f, fu, fx = lag_rhs(idk, im, p[u, TID])
        r[u, C_IM] = f
        g, gu, gx = lag_rhs(vt, vme, p[u, TVD])
        r[u, C_VM] = g
        h, hu, hx = lag_rhs(gamma, gme, p[u, TGM])
        r[u, C_GM] = h
        # current order, controller errors and the reset integrators
        iord, di_dv, di_dpa, _ = order(t, p, ds, u, vme, paux)
        ir_ = p[u, IR]
        e_i = (iord - im) / ir_
        wi = track_rate(p[u, KPI], p[u, KII])
        ci = wi * p[u, KPI] - p[u, KII]
        r[u, C_XI] = ci * e_i + wi * (al - xi)
        e_g = gme - p[u, GORD]
        wg = track_rate(p[u, KPG], p[u, KIG])
        cg = p[u, KIG] - wg * p[u, KPG]
        r[u, C_XG] = cg * e_g + wg * (al - xg) if kind < 0.0 else W_IDLE * (al - xg)
        vord = ramp(t, ds[u, D_OT0], ds[u, D_OV0], ds[u, D_OTGT], ds[u, D_ORATE])
        e_v = (vord - vme - p[u, RCOMP] * im) / p[u, VB]
        wv = track_rate(p[u, KPV], p[u, KIV])
        cv = p[u, KIV] - wv * p[u, KPV]
        r[u, C_XV] = cv * e_v + wv * (al - xv) if p[u, CVCTL] != 0.0 else W_IDLE * (al - xv)
        # firing angle
        sel = ds[u, D_SEL]
        lim = ds[u, D_LIM]
        dar, xr = 0.0, 0.0
        if forced(ds, u):
            asel = p[u, ARET]
        elif lim < 0.0:
            asel = p[u, AMIN]
        elif lim > 0.0:
            asel = p[u, AMAX]
        elif sel == SEL_CEA:
            asel = xg + p[u, KPG] * e_g
        elif sel == SEL_CV:
            asel = xv + p[u, KPV] * e_v
        elif sel == SEL_VR:
            vrk, _ = v_ramp_kv(t, p, ds, u)
            xr = (req * idk - vrk) / vd0
            asel, dar = acos_sat(xr)
        else:
            asel = xi - p[u, KPI] * e_i
        # windup clip inside a step (the limit flags take over at the next step boundary)
        clipped = asel < p[u, AMIN] or asel > p[u, AMAX]
        if clipped:
            asel = p[u, AMIN] if asel < p[u, AMIN] else p[u, AMAX]
        r[u, C_AL] = asel - al
        # overlap
        kmu = SQRT2 * p[u, XC]
        a_mu, da_mu = acos_sat(ca - kmu * idk / eac)
        r[u, C_MU] = a_mu - al - mu
        # conduction / DC voltage row
        fs = p[u, FLOAT]
        pinned = ds[u, D_PIN] != 0.0
        if short:
            r[u, C_ID] = -vt
        elif nc and pinned:
            r[u, C_ID] = -(z[col[u, C_VP]] if p[u, FREE] > 0.0 else z[col[u, C_VN]])
        elif nc and fs == 0.0:
            r[u, C_ID] = -req * idk
        elif nc:
            vx = z[col[u, C_VP]] if fs > 0.0 else z[col[u, C_VN]]
            acc = 0.0
            for j in range(3):
                w = p[u, W1 + 3 * j]
                if w > 0.0:
                    acc += w * (vx - z[col[u, C_VA1 + 2 * j]]
                                - p[u, R1 + 3 * j] * p[u, S1 + 3 * j] * z[col[u, C_IA1 + 2 * j]])
            r[u, C_ID] = acc
        else:
            r[u, C_ID] = kind * (E - rq * idk) - vt
        # AC powers
        r[u, C_P] = -pz if short else E * idk - pz
        dq_da, dq_dmu, dq_di, dq_dv = 0.0, 0.0, 0.0, 0.0
        if short:
            qv = 0.0
        else:
            qv, dq_da, dq_dmu, dq_di, dq_dv = _q_rows(p, u, al, mu, idk, E, dE_da, dE_dmu, dE_dv,
                                                      vd0, dvd0_dv, eac, deac)
        r[u, C_Q] = qv - qz
        r[u, C_PAUX] = p[u, PAUX0] - paux
        r[u, C_MODE] = mode_code(ds, u) - z[col[u, C_MODE]]
        r[u, C_VDCOL] = ds[u, D_VDCOL] - z[col[u, C_VDCOL]]
        r[u, C_BLK] = (1.0 if forced(ds, u) else 0.0) - z[col[u, C_BLK]]
        r[u, C_BYP] = ds[u, D_BYP] - z[col[u, C_BYP]]
        r[u, C_CF] = ds[u, D_CF] - z[col[u, C_CF]]
        # current drawn from the AC bus (system base) and into the DC nodes
        v2 = vr * vr + vi * vi
        lin = v2 < V_INJ_LIN_PU * V_INJ_LIN_PU
        if lin:  # at a nearly dead bus the current falls with V (see V_INJ_LIN_PU)
            v2 = V_INJ_LIN_PU * V_INJ_LIN_PU
        sb = p[u, SB]
        a_num = pz * vr + qz * vi
        b_num = pz * vi - qz * vr
        r[u, R_IR] = a_num / (sb * v2)
        r[u, R_II] = b_num / (sb * v2)
        r[u, R_KP] = kind * idk * p[u, SP]
        r[u, R_KN] = -kind * idk * p[u, SN]
        if not want_jac:
            continue
        J[C_IM, C_ID], J[C_IM, C_IM] = fu, fx
        J[C_VM, C_VP], J[C_VM, C_VN], J[C_VM, C_VM] = gu, -gu, gx
        J[C_GM, C_AL], J[C_GM, C_MU], J[C_GM, C_GM] = -hu, -hu, hx
        de_dim, de_dvm, de_dpa = -1.0 / ir_, di_dv / ir_, di_dpa / ir_
        J[C_XI, C_AL], J[C_XI, C_XI] = wi, -wi
        J[C_XI, C_IM], J[C_XI, C_VM], J[C_XI, C_PAUX] = ci * de_dim, ci * de_dvm, ci * de_dpa
        if kind < 0.0:
            J[C_XG, C_AL], J[C_XG, C_GM], J[C_XG, C_XG] = wg, cg, -wg
        else:
            J[C_XG, C_AL], J[C_XG, C_XG] = W_IDLE, -W_IDLE
        if p[u, CVCTL] != 0.0:
            J[C_XV, C_VM], J[C_XV, C_IM] = -cv / p[u, VB], -cv * p[u, RCOMP] / p[u, VB]
            J[C_XV, C_AL], J[C_XV, C_XV] = wv, -wv
        else:
            J[C_XV, C_AL], J[C_XV, C_XV] = W_IDLE, -W_IDLE
        J[C_AL, C_AL] = -1.0
        if forced(ds, u) or lim != 0.0 or clipped:
            pass
        elif sel == SEL_CEA:
            J[C_AL, C_XG], J[C_AL, C_GM] = 1.0, p[u, KPG]
        elif sel == SEL_CV:
            J[C_AL, C_XV] = 1.0
            J[C_AL, C_VM] = -p[u, KPV] / p[u, VB]
            J[C_AL, C_IM] = -p[u, KPV] * p[u, RCOMP] / p[u, VB]
        elif sel == SEL_VR:
            J[C_AL, C_ID] = dar * req / vd0
            dv = dar * (-xr / vd0) * dvd0_dv
            J[C_AL, C_VR], J[C_AL, C_VI] = dv * dvr, dv * dvi
        else:
            k = -p[u, KPI]
            J[C_AL, C_XI] = 1.0
            J[C_AL, C_IM], J[C_AL, C_VM], J[C_AL, C_PAUX] = k * de_dim, k * de_dvm, k * de_dpa
        J[C_MU, C_AL] = -da_mu * sa - 1.0
        J[C_MU, C_MU] = -1.0
        J[C_MU, C_ID] = -da_mu * kmu / eac
        dmu_v = da_mu * kmu * idk / (eac * eac) * deac
        J[C_MU, C_VR], J[C_MU, C_VI] = dmu_v * dvr, dmu_v * dvi
        if short:
            J[C_ID, C_VP], J[C_ID, C_VN] = -1.0, 1.0
        elif nc and pinned:
            J[C_ID, C_VP if p[u, FREE] > 0.0 else C_VN] = -1.0
        elif nc and fs == 0.0:
            J[C_ID, C_ID] = -req
        elif nc:
            ws = 0.0
            for j in range(3):
                w = p[u, W1 + 3 * j]
                if w > 0.0:
                    ws += w
                    J[C_ID, C_VA1 + 2 * j] = -w
                    J[C_ID, C_IA1 + 2 * j] = -w * p[u, R1 + 3 * j] * p[u, S1 + 3 * j]
            J[C_ID, C_VP if fs > 0.0 else C_VN] = ws
        else:
            J[C_ID, C_AL], J[C_ID, C_MU], J[C_ID, C_ID] = kind * dE_da, kind * dE_dmu, -kind * rq
            J[C_ID, C_VR], J[C_ID, C_VI] = kind * dE_dv * dvr, kind * dE_dv * dvi
            J[C_ID, C_VP], J[C_ID, C_VN] = -1.0, 1.0
        J[C_P, C_P] = -1.0
        if not short:
            J[C_P, C_AL], J[C_P, C_MU], J[C_P, C_ID] = dE_da * idk, dE_dmu * idk, E
            J[C_P, C_VR], J[C_P, C_VI] = dE_dv * idk * dvr, dE_dv * idk * dvi
        J[C_Q, C_Q] = -1.0
        if not short:
            J[C_Q, C_AL], J[C_Q, C_MU], J[C_Q, C_ID] = dq_da, dq_dmu, dq_di
            J[C_Q, C_VR], J[C_Q, C_VI] = dq_dv * dvr, dq_dv * dvi
        for k in range(C_PAUX, C_CF + 1):
            J[k, k] = -1.0
        d2 = 0.0 if lin else sb * v2 * v2
        J[R_IR, C_P], J[R_IR, C_Q] = vr / (sb * v2), vi / (sb * v2)
        J[R_II, C_P], J[R_II, C_Q] = vi / (sb * v2), -vr / (sb * v2)
        J[R_IR, C_VR], J[R_IR, C_VI] = pz / (sb * v2), qz / (sb * v2)
        J[R_II, C_VR], J[R_II, C_VI] = -qz / (sb * v2), pz / (sb * v2)
        if not lin:
            J[R_IR, C_VR] -= 2.0 * vr * a_num / d2
            J[R_IR, C_VI] -= 2.0 * vi * a_num / d2
            J[R_II, C_VR] -= 2.0 * vr * b_num / d2
            J[R_II, C_VI] -= 2.0 * vi * b_num / d2
        J[R_KP, C_ID] = kind * p[u, SP]
        J[R_KN, C_ID] = -kind * p[u, SN]


def _init(p, ctx):
    return {}


def _diff_mask(p):
    n = p.shape[0]
    ones = np.ones(n, bool)
    return np.stack([lag_diff(p[:, TID]), lag_diff(p[:, TVD]), lag_diff(p[:, TGM]), ones, ones, ones],
                    axis=1)


def _mask() -> np.ndarray:
    m = np.zeros((N_ROWS, len(STATES + ALGEBS + INPUTS)), dtype=bool)
    ac = [C_VR, C_VI]
    m[C_IM, [C_ID, C_IM]] = True
    m[C_VM, [C_VP, C_VN, C_VM]] = True
    m[C_GM, [C_AL, C_MU, C_GM]] = True
    m[C_XI, [C_XI, C_AL, C_IM, C_VM, C_PAUX]] = True
    m[C_XG, [C_XG, C_AL, C_GM]] = True
    m[C_XV, [C_XV, C_AL, C_VM, C_IM]] = True
    m[C_AL, [C_AL, C_XI, C_IM, C_VM, C_PAUX, C_XG, C_GM, C_XV, C_ID] + ac] = True
    m[C_MU, [C_MU, C_AL, C_ID] + ac] = True
    m[C_ID, [C_AL, C_MU, C_ID, C_VP, C_VN, C_VA1, C_IA1, C_VA2, C_IA2, C_VA3, C_IA3] + ac] = True
    m[C_P, [C_P, C_AL, C_MU, C_ID] + ac] = True
    m[C_Q, [C_Q, C_AL, C_MU, C_ID] + ac] = True
    for k in range(C_PAUX, C_CF + 1):
        m[k, k] = True
    m[R_IR, [C_P, C_Q] + ac] = True
    m[R_II, [C_P, C_Q] + ac] = True
    m[R_KP, C_ID] = True
    m[R_KN, C_ID] = True
    return m


def _build(case, pf, alloc):
    from casa_dyn.models.hvdc._lcc_build import build

    return build(SPEC, case, pf, alloc)


SPEC = ModelSpec(
    name="lcc", family="hvdc", params=(), extra=EXTRA, states=STATES, algebs=ALGEBS, outputs=(),
    inputs=INPUTS, injects=True, eval=_eval, init=_init, n_disc=len(DISC),
    update_discrete=_update_discrete, jac_mask=_mask(), diff_mask=_diff_mask,
    extra_rows=("kcl_p", "kcl_n"), build=_build,
)
