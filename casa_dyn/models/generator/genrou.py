"""GENROU: round-rotor machine, two rotor circuits per axis, PSS/E quadratic saturation.

Equations: PSS/E Model Library, GENROU block diagram; restated in J. Weber, "Description of
Machine Models GENROU, GENSAL, GENTPF and GENTPJ", PowerWorld, 2015, sec. 2.2-2.3, and in the
PSS/E-verified OpenIPSL ``Electrical.Machines.PSSE.GENROU`` (facts only); background Kundur,
*Power System Stability and Control*, 1994, sec. 3.2-3.5 (dq model), 3.6 (steady state),
3.8 (saturation), 3.9 (equation of motion), 5.1 (stator simplifications).  Per unit on the
machine base; ``x''`` = X''d = X''q.

    psi''_d = k3d E'q + k4d psi_kd,  E''_d = k3q E'd + k4q psi_kq      (E''_d = -psi''_q)
      k3d = (X''-Xl)/(X'd-Xl), k4d = (X'd-X'')/(X'd-Xl), likewise k3q, k4q with X'q
    T'do  dE'q/dt   = efd - XadIfd
    T''do dpsikd/dt = E'q - psi_kd - (X'd - Xl) i_d
    T'qo  dE'd/dt   = -XaqIlq
    T''qo dpsikq/dt = E'd - psi_kq + (X'q - Xl) i_q
    XadIfd = E'q + (Xd-X'd) [i_d + (X'd-X'')/(X'd-Xl)^2 (E'q - psi_kd - (X'd-Xl) i_d)] + Se psi''_d
    XaqIlq = E'd + (Xq-X'q) [-i_q + (X'q-X'')/(X'q-Xl)^2 (E'd - psi_kq + (X'q-Xl) i_q)]
             + Se E''_d (Xq-Xl)/(Xd-Xl)
    Se = Se(|psi''|), |psi''| = sqrt(psi''_d^2 + E''_d^2)  (air-gap flux; ``saturation.py``)
    d(delta)/dt = wb (w - 1),   2H dw/dt = (pm - D (w - 1)) / w - pe            (as GENCLS)

PSS/E applies one saturation factor, a function of the air-gap (subtransient) flux magnitude,
to both axes, the q axis scaled by (Xq - Xl)/(Xd - Xl).  The stator is a current source behind
Ra + jX'' (``_stator.py``); pe is the air-gap power, which PSS/E uses as the electrical torque.
``xadifd`` (field current, XadIfd units) is an algebraic variable for exciters.

Swing equation: PSS/E writes the accelerating torque as (Pm - D dw)/(1 + dw) - Te, with Pm the
mechanical power and Te the air-gap torque (OpenIPSL's PSS/E-verified base machine; Weber 2015,
"mechanical swing equations"); with the speed left out of the stator, Te equals the air-gap
power pe.  GENCLS in casa_dyn uses the same form.

Initialization (Kundur sec. 3.6 steady-state procedure, extended to saturation as in PSS/E):
E'' = V + (Ra + jX'') I; Se = Se(|E''|) is known before the rotor position, and the q axis lies
along W = (1 + Se kq) E'' + j (Xq - X'') I, kq = (Xq - Xl)/(Xd - Xl) (with Se = 0 this is the
classical E_Q = V + (Ra + jXq) I).  The remaining states follow from the steady-state equations;
efd = XadIfd, pm = pe.  A unit whose efd would be negative (efd < 0, or W pointing more than
90 deg away from V, which is how a reversed field shows) cannot start and is reported.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec
from casa_dyn.models.generator import saturation as sat
from casa_dyn.models.generator._stator import add_grad, interface, start_problems


def _reactance_checks(cols):
    """Row checks: PSS/E's reactance ordering (and the denominators X'd - Xl, X'q - Xl)."""
    out = []
    xd, xq, xdp, xqp = cols["xd_pu"], cols["xq_pu"], cols["xdp_pu"], cols["xqp_pu"]
    xpp, xl = cols["xdpp_pu"], cols["xl_pu"]
    for r in range(len(xd)):
        if not xl[r] < xpp[r]:
            out.append((r, "xl_pu", f"Xl = {xl[r]:g} must be below X''d = {xpp[r]:g}"))
        if not xpp[r] <= xdp[r] <= xd[r]:
            out.append((r, "xdp_pu", f"need X''d <= X'd <= Xd, found {xpp[r]:g}, {xdp[r]:g}, {xd[r]:g}"))
        if not xpp[r] <= xqp[r] <= xq[r]:
            out.append((r, "xqp_pu", f"need X''d <= X'q <= Xq, found {xpp[r]:g}, {xqp[r]:g}, {xq[r]:g}"))
    return out + sat.check_pair(cols)


TABLE = register(Table(
    "genrou", "Round-rotor machine model (PSS/E GENROU, quadratic saturation); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("t_d0p_s", "s", "d-axis transient open-circuit time constant T'do", dyr=1),
        pos("t_d0pp_s", "s", "d-axis subtransient open-circuit time constant T''do", dyr=2),
        pos("t_q0p_s", "s", "q-axis transient open-circuit time constant T'qo", dyr=3),
        pos("t_q0pp_s", "s", "q-axis subtransient open-circuit time constant T''qo", dyr=4),
        pos("h_s", "s", "inertia constant H on the machine base", dyr=5),
        real("d_pu", "pu", "damping D (pu power per pu speed deviation)", 0.0, lo=0.0, dyr=6),
        pos("xd_pu", "pu", "d-axis synchronous reactance Xd", dyr=7),
        pos("xq_pu", "pu", "q-axis synchronous reactance Xq", dyr=8),
        pos("xdp_pu", "pu", "d-axis transient reactance X'd", dyr=9),
        pos("xqp_pu", "pu", "q-axis transient reactance X'q", dyr=10),
        pos("xdpp_pu", "pu", "subtransient reactance X''d = X''q (PSS/E ZSORCE X)", dyr=11),
        real("xl_pu", "pu", "stator leakage reactance Xl", lo=0.0, dyr=12),
        real("s10", "", "saturation factor S(1.0) (0 = no saturation)", 0.0, lo=0.0, dyr=13),
        real("s12", "", "saturation factor S(1.2)", 0.0, lo=0.0, dyr=14),
        real("ra_pu", "pu", "armature resistance (PSS/E ZSORCE real part)", 0.0, lo=0.0),
    ),
    family="generator",
    since_version=2,
    checks=(_reactance_checks,),
))

PARAMS = ("t_d0p_s", "t_d0pp_s", "t_q0p_s", "t_q0pp_s", "h_s", "d_pu", "xd_pu", "xq_pu",
          "xdp_pu", "xqp_pu", "xdpp_pu", "xl_pu", "s10", "s12", "ra_pu")
EXTRA = ("online", "kb", "wb", "sat_a", "sat_b")
(TDOP, TDOPP, TQOP, TQOPP, H, D, XD, XQ, XDP, XQP, XPP, XL, S10, S12, RA,
 ON, KB, WB, SA, SB) = range(20)
# local columns: states, algebs, inputs; rows: states, algebs, ir, ii
(C_DELTA, C_OMEGA, C_EQP, C_EDP, C_PKD, C_PKQ, C_PE, C_QE, C_XAD,
 C_VR, C_VI, C_EFD, C_PM) = range(13)
R_IR, R_II = 9, 10


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        w = z[col[u, C_OMEGA]]
        eqp, edp = z[col[u, C_EQP]], z[col[u, C_EDP]]
        pkd, pkq = z[col[u, C_PKD]], z[col[u, C_PKQ]]
        on = p[u, ON]
        xd, xq, xdp, xqp, xpp, xl = p[u, XD], p[u, XQ], p[u, XDP], p[u, XQP], p[u, XPP], p[u, XL]
        k3d, k4d = (xpp - xl) / (xdp - xl), (xdp - xpp) / (xdp - xl)
        k3q, k4q = (xpp - xl) / (xqp - xl), (xqp - xpp) / (xqp - xl)
        k1d, k1q = (xdp - xpp) / (xdp - xl) ** 2, (xqp - xpp) / (xqp - xl) ** 2
        kq = (xq - xl) / (xd - xl)
        ed2 = k3q * edp + k4q * pkq
        pd2 = k3d * eqp + k4d * pkd
        (s, c, vd, vq, i_d, i_q, pe, qe, ir, ii, d_id, d_iq, d_pe, d_qe, d_ir, d_ii) = interface(
            z[col[u, C_DELTA]], ed2, pd2, z[col[u, C_VR]], z[col[u, C_VI]], p[u, RA], xpp, on)
        psi = math.sqrt(pd2 * pd2 + ed2 * ed2)
        se, dse = sat.se_quadratic(psi, p[u, SA], p[u, SB])
        xad = eqp + (xd - xdp) * (k3d * i_d + k1d * (eqp - pkd)) + se * pd2
        xaq = edp + (xq - xqp) * (-k3q * i_q + k1q * (edp - pkq)) + kq * se * ed2
        two_h = 2.0 * p[u, H]
        pm = z[col[u, C_PM]]
        r[u, 0] = on * p[u, WB] * (w - 1.0)
        r[u, 1] = on * ((pm - p[u, D] * (w - 1.0)) / w - z[col[u, C_PE]]) / two_h
        r[u, 2] = on * (z[col[u, C_EFD]] - z[col[u, C_XAD]]) / p[u, TDOP]
        r[u, 3] = -on * xaq / p[u, TQOP]
        r[u, 4] = on * (eqp - pkd - (xdp - xl) * i_d) / p[u, TDOPP]
        r[u, 5] = on * (edp - pkq + (xqp - xl) * i_q) / p[u, TQOPP]
        r[u, 6] = pe - z[col[u, C_PE]]
        r[u, 7] = qe - z[col[u, C_QE]]
        r[u, 8] = xad - z[col[u, C_XAD]]
        r[u, R_IR] = -p[u, KB] * ir
        r[u, R_II] = -p[u, KB] * ii
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        J[0, C_OMEGA] = on * p[u, WB]
        J[1, C_OMEGA] = -on * (pm + p[u, D]) / (w * w) / two_h
        J[1, C_PE] = -on / two_h
        J[1, C_PM] = on / (w * two_h)
        J[2, C_EFD] = on / p[u, TDOP]
        J[2, C_XAD] = -on / p[u, TDOP]
        cm = (C_DELTA, C_VR, C_VI, C_EDP, k3q, C_PKQ, k4q, C_EQP, k3d, C_PKD, k4d)
        # through the stator currents
        add_grad(J, 3, d_iq, on * (xq - xqp) * k3q / p[u, TQOP], cm)
        add_grad(J, 4, d_id, -on * (xdp - xl) / p[u, TDOPP], cm)
        add_grad(J, 5, d_iq, on * (xqp - xl) / p[u, TQOPP], cm)
        add_grad(J, 6, d_pe, 1.0, cm)
        add_grad(J, 7, d_qe, 1.0, cm)
        add_grad(J, 8, d_id, (xd - xdp) * k3d, cm)
        add_grad(J, R_IR, d_ir, -p[u, KB], cm)
        add_grad(J, R_II, d_ii, -p[u, KB], cm)
        # saturation terms Se pd2 and kq Se ed2, through psi = |psi''|
        dd = dse / psi if psi > 0.0 else 0.0
        sd_p, sd_e = se + pd2 * pd2 * dd, pd2 * ed2 * dd
        sq_p, sq_e = kq * ed2 * pd2 * dd, kq * (se + ed2 * ed2 * dd)
        J[8, C_EQP] += 1.0 + (xd - xdp) * k1d + sd_p * k3d
        J[8, C_PKD] += -(xd - xdp) * k1d + sd_p * k4d
        J[8, C_EDP] += sd_e * k3q
        J[8, C_PKQ] += sd_e * k4q
        J[8, C_XAD] = -1.0
        a = -on / p[u, TQOP]
        J[3, C_EDP] += a * (1.0 + (xq - xqp) * k1q + sq_e * k3q)
        J[3, C_PKQ] += a * (-(xq - xqp) * k1q + sq_e * k4q)
        J[3, C_EQP] += a * sq_p * k3d
        J[3, C_PKD] += a * sq_p * k4d
        J[4, C_EQP] += on / p[u, TDOPP]
        J[4, C_PKD] -= on / p[u, TDOPP]
        J[5, C_EDP] += on / p[u, TQOPP]
        J[5, C_PKQ] -= on / p[u, TQOPP]
        J[6, C_PE] = -1.0
        J[7, C_QE] = -1.0


def _init(p, ctx):
    """Steady state at the power-flow point (module docstring); vectorised over units."""
    n = len(ctx.v)
    xd, xq, xdp, xqp, xpp, xl = (p[:, k] for k in (XD, XQ, XDP, XQP, XPP, XL))
    p[:, ON], p[:, KB], p[:, WB] = 1.0, ctx.kb, ctx.wb
    p[:, SA], p[:, SB] = sat.quadratic_coeffs(p[:, S10], p[:, S12])
    v = ctx.v
    i = np.conj(ctx.s_gen / ctx.kb / v)  # machine base
    e2 = v + (p[:, RA] + 1j * xpp) * i
    se = sat.se_numpy(np.abs(e2), p[:, SA], p[:, SB])
    kq = (xq - xl) / (xd - xl)
    delta = np.angle((1.0 + se * kq) * e2 + 1j * (xq - xpp) * i)
    rot = np.exp(-1j * (delta - np.pi / 2))  # network frame -> rotor frame (d + jq)
    idq, edq = i * rot, e2 * rot
    i_d, i_q, ed2, pd2 = idq.real, idq.imag, edq.real, edq.imag
    eqp = pd2 + (xdp - xpp) * i_d
    pkd = eqp - (xdp - xl) * i_d
    edp = (xq - xqp) * i_q - se * kq * ed2
    pkq = edp + (xqp - xl) * i_q
    efd = pd2 * (1.0 + se) + (xd - xpp) * i_d
    pe = ed2 * i_d + pd2 * i_q
    out = {"delta": delta, "omega": np.ones(n), "eqp": eqp, "edp": edp, "psikd": pkd, "psikq": pkq,
           "pe": pe, "qe": (ctx.s_gen / ctx.kb).imag, "xadifd": efd, "efd": efd, "pm": pe}
    out["_problems"] = start_problems(ctx.v, delta, efd)
    return out


_MASK = np.zeros((11, 13), dtype=bool)
_NET = [C_DELTA, C_EQP, C_EDP, C_PKD, C_PKQ, C_VR, C_VI]
_MASK[0, C_OMEGA] = True
_MASK[1, [C_OMEGA, C_PE, C_PM]] = True
_MASK[2, [C_EFD, C_XAD]] = True
for _row, _extra in ((3, None), (4, None), (5, None), (6, C_PE), (7, C_QE), (8, C_XAD),
                     (R_IR, None), (R_II, None)):
    _MASK[_row, _NET] = True
    if _extra is not None:
        _MASK[_row, _extra] = True

SPEC = ModelSpec(
    name="genrou", family="generator", params=PARAMS, extra=EXTRA,
    states=("delta", "omega", "eqp", "edp", "psikd", "psikq"), algebs=("pe", "qe", "xadifd"),
    outputs=(), inputs=("vr", "vi", "efd", "pm"), injects=True, eval=_eval, init=_init,
    jac_mask=_MASK,
)
