"""Lay out the LCC converter units and start them in equilibrium at the AC/DC power flow.

Initial point: alpha, mu, Id, P, Q, the tap and the node voltages come from the power flow
(``pf.dc``, ``casa_dyn.network.dc.dcflow``); the measured current and voltage equal the
actual ones; every controller integrator starts at alpha (the active one then has zero
error, the others sit in tracking).  The active controller follows the power flow's
control: rectifiers current control (at alpha_min when the power flow held them there),
the voltage-setting inverter constant extinction angle at its power-flow gamma when
``angle_min_deg == angle_max_deg`` (the power flow's constant-gamma mode), otherwise
constant DC voltage at its power-flow (compounded) voltage with gamma_min_deg as the limit,
or current control when the power flow gave it the current margin; other inverters current
control with gamma_min_deg as the limit.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn.case import schema as S
from casa_dyn.errors import ModelInitError
from casa_dyn.models.hvdc import _network as N
from casa_dyn.models.hvdc._lcc_core import *  # noqa: F401,F403
from casa_dyn.models.hvdc._lcc_core import ALGEBS, DISC, EXTRA, INPUTS, STATES, track_rate
from casa_dyn.network.dc.checks import dc_islands
from casa_dyn.solver.layout import Family

#: an inverter never fires below this angle (it would turn into a rectifier); own choice
INV_ALPHA_MIN_DEG = 90.0
#: slack when comparing power-flow angles with the dynamic limits (rad)
ANGLE_TOL_RAD = 1e-6

_CONV_COLS = {KIND: None, MODE: "mode", NB: "n_bridges", XC: "xc_ohm", RC: "rc_ohm",
              EBAS: "ebas_kv", RATIO: "ratio", IR: "i_rated_ka", MARGIN: "i_margin_pu",
              VCMOD: "v_cmod_kv", RCOMP: "r_comp_ohm"}
_CTL_COLS = {KPI: "k_p_i", KII: "k_i_i", KPG: "k_p_g", KIG: "k_i_g", KPV: "k_p_v", KIV: "k_i_v",
             TID: "t_id_s", TVD: "t_vd_s", TGM: "t_gamma_s", VDL: "vdcol_v_low_pu", IDL: "vdcol_i_low_pu",
             VDH: "vdcol_v_high_pu", IDH: "vdcol_i_high_pu", IMIN: "i_min_pu",
             PRAMP: "p_ramp_mw_per_s", TCMODE: "t_cmode_s", CFCRIT: "cf_criterion",
             DVCF: "dv_cf_pu", TCF: "t_cf_s", VBLK: "v_block_pu", VUNBLK: "v_unblock_pu",
             TBLK: "t_block_s", VBYP: "v_bypass_pu", VUNBYP: "v_unbypass_pu",
             TBYP: "t_bypass_s", VRS: "v_restart_pu", IRS: "i_restart_pu",
             VRAMP: "v_ramp_pu_per_s", IRAMP: "i_ramp_pu_per_s", TDEION: "t_deion_s",
             NRST: "n_restarts", KAUX: "k_aux"}
_CTL_DEG = {AMIN: "alpha_min_deg", AMAX: "alpha_max_deg", GMIN: "gamma_min_deg",
            GCF: "gamma_cf_deg", ARET: "alpha_retard_deg"}


def _controls(case, conv_ids):
    """The lcc_control row of each converter (schema defaults when it has none)."""
    schema = S.get("lcc_control")
    t = case.tables.get("lcc_control")
    row = {} if t is None else {int(c): r for r, c in enumerate(t["conv"])}
    out = []
    for cid in conv_ids:
        r = row.get(int(cid))
        out.append({c.name: (t[c.name][r] if r is not None else c.default)
                    for c in schema.columns if c.name not in ("id", "conv")})
    return out


def build(spec, case, pf, alloc) -> Family:
    net = N.dc_net(case, pf)
    ncol, nrow = len(STATES + ALGEBS + INPUTS), len(spec.rows)
    if net is None:
        return Family(spec, np.zeros((0, len(EXTRA))), np.zeros((0, ncol), np.int64),
                      np.zeros((0, nrow), np.int64), np.zeros((0, len(DISC))),
                      np.zeros(0, np.int64), -np.ones(0, np.int64))
    N.allocate(net, alloc)
    cv, dc = case["lcc_converter"], pf.dc
    rows = net.conv_rows
    n = len(rows)
    pos = {int(i): k for k, i in enumerate(net.node_ids)}
    p = np.zeros((n, len(EXTRA)))
    ds = np.zeros((n, len(DISC)))
    col = np.zeros((n, ncol), dtype=np.int64)
    rowg = np.zeros((n, nrow), dtype=np.int64)
    ctl = _controls(case, cv["id"][rows])
    groups, problems = {}, []
    labels = dc_islands(case)[0]  # pole groups as the power flow forms them
    index = {int(i): k for k, i in enumerate(case["dc_node"]["id"])}
    zero = alloc.shared["dc_node/0/v"]
    for u, r in enumerate(rows):
        cid = int(cv["id"][r])
        for k, name in _CONV_COLS.items():
            if name:
                p[u, k] = cv[name][r]
        p[u, KIND] = 1.0 if cv["kind"][r] == 1 else -1.0
        for k, name in _CTL_COLS.items():
            p[u, k] = ctl[u][name]
        for k, name in _CTL_DEG.items():
            p[u, k] = math.radians(ctl[u][name])
        if p[u, KIND] < 0:
            p[u, AMIN] = max(p[u, AMIN], math.radians(INV_ALPHA_MIN_DEG))
        p[u, TAP] = dc.tap_pu[r]
        p[u, SB] = case.base_mva
        kp, kn = pos[int(cv["dc_node_p"][r])], pos[int(cv["dc_node_n"][r])]
        line = kp if cv["pole"][r] > 0 else kn
        p[u, VB] = net.base_kv[line]
        p[u, SP], p[u, SN] = net.scale[kp], net.scale[kn]
        p[u, EXACT] = 1.0 if getattr(dc, "exact_pf", True) else 0.0
        _place(net, p, u, kp, kn, cid, problems)
        key = (int(labels[index[int(cv["dc_node_p"][r])]]), int(cv["pole"][r]))
        p[u, GROUP] = groups.setdefault(key, len(groups))
        p[u, ISVST] = 1.0 if cv["mode"][r] == MODE_VOLTAGE else 0.0
        # columns: own variables, AC bus, DC terminals, floating-terminal neighbours
        names = STATES + ALGEBS
        init = _initial(p, u, r, dc, net, kp, kn)
        for j, v in enumerate(names):
            diff = j < len(STATES) and (j >= 3 or p[u, (TID, TVD, TGM)[j]] > 0)
            col[u, j] = alloc.var(f"lcc/{cid}/{v}", diff, init[v])
        # the auxiliary input's row, for a modulation controller to add its output into
        alloc.shared[f"lcc/{cid}/paux"] = int(col[u, C_PAUX])
        vr, vi = alloc.bus(int(cv["bus"][r]))
        col[u, C_VR], col[u, C_VI] = vr, vi
        col[u, C_VP] = alloc.shared[f"dc_node/{net.node_ids[kp]}/v"]
        col[u, C_VN] = alloc.shared[f"dc_node/{net.node_ids[kn]}/v"]
        for j in range(3):
            col[u, C_VA1 + 2 * j] = col[u, C_IA1 + 2 * j] = zero
        side = kp if p[u, FLOAT] > 0 else kn
        if p[u, FLOAT] != 0:
            for j, (b, s) in enumerate(b_s for b_s in net.branches_at(side) if net.br_l[b_s[0]] > 0):
                other = net.br_t[b] if s > 0 else net.br_f[b]
                col[u, C_VA1 + 2 * j] = alloc.shared[f"dc_node/{net.node_ids[other]}/v"]
                col[u, C_IA1 + 2 * j] = alloc.shared[f"dc_branch/{net.br_ids[b]}/i"]
        nown = len(names)
        rowg[u, :nown] = col[u, :nown]
        rowg[u, nown], rowg[u, nown + 1] = vr, vi
        rowg[u, nown + 2], rowg[u, nown + 3] = col[u, C_VP], col[u, C_VN]
    _orders(p, ds, rows, cv, dc, problems)
    for u in range(n):  # the reported mode code at t = 0
        alloc.init[col[u, C_MODE]] = CODE_AMIN if ds[u, D_LIM] < 0 else ds[u, D_SEL]
    if problems:
        raise ModelInitError("HVDC converters cannot start in equilibrium:\n"
                             + "\n".join(f"  - converter {c}: {m}" for c, m in problems))
    _settle_integrators(spec, p, col, ds, pf, alloc)
    return Family(spec, p, col, rowg, ds, cv["id"][rows].astype(np.int64), -np.ones(n, np.int64))


def _settle_integrators(spec, p, col, ds, pf, alloc):
    """Start every controller integrator where its row is zero.  The rows are linear in the
    integrator, ``c e + w (alpha - x)``; with a proportional gain (c = 0) this is x = alpha,
    for a pure integral controller not in use x = alpha + c e / w."""
    z = np.zeros(alloc.n)
    v = pf.v_complex()
    z[0:2 * len(v):2], z[1:2 * len(v):2] = v.real, v.imag
    for i, value in alloc.init.items():
        z[i] = value
    r = np.zeros((p.shape[0], len(spec.rows)))
    jl = np.zeros((p.shape[0], len(spec.rows), len(spec.cols)))
    spec.eval(0.0, z, p, col, r, jl, ds, False)
    for u in range(p.shape[0]):
        for c in (C_XI, C_XG, C_XV):
            w = _integrator_rate(p, u, c)
            if w > 0:
                alloc.init[col[u, c]] = z[col[u, c]] + r[u, c] / w


def _integrator_rate(p, u, c):
    """w of an integrator row ``c e + w (alpha - x)`` (its tracking rate, 1/s)."""
    if c == C_XI:
        return track_rate(p[u, KPI], p[u, KII])
    if c == C_XG:
        return track_rate(p[u, KPG], p[u, KIG]) if p[u, KIND] < 0 else W_IDLE
    return track_rate(p[u, KPV], p[u, KIV]) if p[u, CVCTL] != 0 else W_IDLE


def _place(net, p, u, kp, kn, cid, problems):
    """Node scales, the floating terminal (if any) with its branches, and the cluster."""
    free = [k for k in (kp, kn) if not net.anchored[k]]
    if len(free) == 2:
        problems.append((cid, "both DC terminals are without capacitance or ground; ground the "
                         "neutral (dc_node.grounded = 1)"))
        return
    p[u, CLUSTER], p[u, ISOL] = -1.0, 0.0
    if not free:
        return
    k = free[0]
    p[u, FREE] = 1.0 if k == kp else -1.0
    p[u, CLUSTER] = net.cluster[k]
    p[u, ISOL] = 1.0 if net.isolated[net.cluster[k]] else 0.0
    ind = [(b, s) for b, s in net.branches_at(k) if net.br_l[b] > 0]
    alg = [b for b, _ in net.branches_at(k) if net.br_l[b] == 0]
    if ind and not alg:
        p[u, FLOAT] = 1.0 if k == kp else -1.0
        for j, (b, s) in enumerate(ind):
            p[u, W1 + 3 * j] = 1.0 / net.br_l[b]
            p[u, R1 + 3 * j] = net.br_r[b]
            p[u, S1 + 3 * j] = s


def _initial(p, u, r, dc, net, kp, kn):
    """Initial values of the unit's own variables from the power flow."""
    al = math.radians(dc.alpha_deg[r])
    mu = math.radians(dc.mu_deg[r])
    idk = float(dc.id_ka[r])
    vt = float(net.v0[kp] - net.v0[kn])
    return {"i_meas": idk, "v_meas": vt, "g_meas": math.pi - al - mu, "x_i": al, "x_g": al,
            "x_v": al, "alpha": al, "mu": mu, "id": idk, "p": float(dc.p_ac_mw[r]),
            "q": float(dc.q_ac_mvar[r]), "paux": 0.0, "mode": 0.0, "vdcol": 0.0, "blocked": 0.0,
            "bypassed": 0.0, "cf": 0.0}


def _orders(p, ds, rows, cv, dc, problems):
    """Orders, controller selection and discrete state at t = 0."""
    ds[:, D_TRS] = ds[:, D_TVR] = NEVER
    ds[:, D_VACP] = np.asarray(dc.vac_pu)[rows]
    vst_of = {}
    for u, r in enumerate(rows):
        if cv["mode"][r] == MODE_VOLTAGE:
            vst_of[p[u, GROUP]] = u
    for u, r in enumerate(rows):
        cid = int(cv["id"][r])
        control = dc.control[r]
        al = math.radians(dc.alpha_deg[r])
        vst = vst_of.get(p[u, GROUP])
        p[u, VSETVST] = cv["v_set_kv"][rows[vst]] if vst is not None else 1.0
        mode = cv["mode"][r]
        if mode == MODE_POWER:
            order = cv["p_set_mw"][r]
            ds[u, D_CMODE] = 1.0 if "VCMOD" in control else 0.0
        elif mode == MODE_CURRENT:
            order = cv["i_set_ka"][r]
        else:
            order = dc.vd_kv[r] + cv["r_comp_ohm"][r] * dc.id_ka[r]
        ds[u, D_OV0] = ds[u, D_OTGT] = order
        if p[u, KIND] > 0:
            ds[u, D_SEL] = SEL_CC
            if al < p[u, AMIN] - ANGLE_TOL_RAD or al > p[u, AMAX] + ANGLE_TOL_RAD:
                problems.append((cid, f"power-flow alpha {math.degrees(al):.4f} deg outside the "
                                 f"dynamic limits [{math.degrees(p[u, AMIN]):g}, "
                                 f"{math.degrees(p[u, AMAX]):g}] deg (lcc_control)"))
            elif al <= p[u, AMIN] + ANGLE_TOL_RAD:
                ds[u, D_LIM] = -1.0
            p[u, GORD] = p[u, GMIN]
            continue
        g0 = math.radians(dc.gamma_deg[r])
        at_gmin = g0 <= p[u, GMIN] + ANGLE_TOL_RAD
        if g0 < p[u, GMIN] - ANGLE_TOL_RAD:
            problems.append((cid, f"power-flow gamma {dc.gamma_deg[r]:.4f} deg below the "
                             f"dynamic gamma_min_deg {math.degrees(p[u, GMIN]):g}"))
        p[u, GORD] = p[u, GMIN]
        if mode == MODE_VOLTAGE and "margin" in control:
            ds[u, D_SEL] = SEL_CC
        elif mode == MODE_VOLTAGE and cv["angle_min_deg"][r] == cv["angle_max_deg"][r]:
            p[u, GORD] = g0
            ds[u, D_SEL] = SEL_CEA
        elif mode == MODE_VOLTAGE:
            p[u, CVCTL] = 1.0
            ds[u, D_SEL] = SEL_CEA if at_gmin else SEL_CV
        else:
            ds[u, D_SEL] = SEL_CEA if at_gmin else SEL_CC
        if al < p[u, AMIN] - ANGLE_TOL_RAD:
            problems.append((cid, f"power-flow firing angle {math.degrees(al):.3f} deg is below "
                             f"the inverter minimum {math.degrees(p[u, AMIN]):g} deg"))
