"""GENSAL: salient-pole machine, two rotor circuits on d, one on q, PSS/E quadratic saturation
on the d axis.

Equations: PSS/E Model Library, GENSAL block diagram; restated in J. Weber, "Description of
Machine Models GENROU, GENSAL, GENTPF and GENTPJ", PowerWorld, 2015, sec. 2.1, and in the
PSS/E-verified OpenIPSL ``Electrical.Machines.PSSE.GENSAL`` (facts only); background Kundur,
*Power System Stability and Control*, 1994, sec. 3.2-3.6 and 5.1.  Per unit on the machine
base; ``x''`` = X''d = X''q.  The q axis has no transient circuit (X'q = Xq).

    psi''_d = k3d E'q + k4d psi_kd,   k3d = (X''-Xl)/(X'd-Xl),  k4d = (X'd-X'')/(X'd-Xl)
    E''_d   = -psi''_q                (state psiqpp = psi''_q)
    T'do  dE'q/dt    = efd - XadIfd
    T''do dpsikd/dt  = E'q - psi_kd - (X'd - Xl) i_d
    T''qo dpsi''q/dt = -psi''_q - (Xq - X'') i_q
    XadIfd = E'q + (Xd-X'd) [i_d + (X'd-X'')/(X'd-Xl)^2 (E'q - psi_kd - (X'd-Xl) i_d)]
             + Se(E'q) E'q
    d(delta)/dt = wb (w - 1),   2H dw/dt = (pm - D (w - 1)) / w - pe            (as GENCLS)

Saturation acts on the d axis only, and PSS/E evaluates it at E'q (not at the air-gap flux as
in GENROU): the added field current is Se(E'q) E'q = B (E'q - A)^2 (``saturation.py``; the same
argument appears in OpenIPSL's GENSAL and in ORNL GridKit's GENSAL notes).  Stator, powers and
network interface as GENROU (``_stator.py``); pe is the air-gap power used as the torque.

Initialization: the q-axis is unsaturated, so delta = angle(V + (Ra + jXq) I) exactly; then
E'' = V + (Ra + jX'') I in the rotor frame gives psi''_d and E''_d = (Xq - X'') i_q, and
E'q = psi''_d + (X'd - X'') i_d, psi_kd = E'q - (X'd - Xl) i_d, efd = XadIfd.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec
from casa_dyn.models.generator import saturation as sat
from casa_dyn.models.generator._stator import add_grad, interface, start_problems


def _reactance_checks(cols):
    out = []
    xd, xq, xdp, xpp, xl = (cols[k] for k in ("xd_pu", "xq_pu", "xdp_pu", "xdpp_pu", "xl_pu"))
    for r in range(len(xd)):
        if not xl[r] < xpp[r]:
            out.append((r, "xl_pu", f"Xl = {xl[r]:g} must be below X''d = {xpp[r]:g}"))
        if not xpp[r] <= xdp[r] <= xd[r]:
            out.append((r, "xdp_pu", f"need X''d <= X'd <= Xd, found {xpp[r]:g}, {xdp[r]:g}, {xd[r]:g}"))
        if not xpp[r] <= xq[r]:
            out.append((r, "xq_pu", f"need X''d <= Xq, found {xpp[r]:g}, {xq[r]:g}"))
    return out + sat.check_pair(cols)


TABLE = register(Table(
    "gensal", "Salient-pole machine model (PSS/E GENSAL, quadratic saturation on the d axis); "
    "one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("t_d0p_s", "s", "d-axis transient open-circuit time constant T'do", dyr=1),
        pos("t_d0pp_s", "s", "d-axis subtransient open-circuit time constant T''do", dyr=2),
        pos("t_q0pp_s", "s", "q-axis subtransient open-circuit time constant T''qo", dyr=3),
        pos("h_s", "s", "inertia constant H on the machine base", dyr=4),
        real("d_pu", "pu", "damping D (pu power per pu speed deviation)", 0.0, lo=0.0, dyr=5),
        pos("xd_pu", "pu", "d-axis synchronous reactance Xd", dyr=6),
        pos("xq_pu", "pu", "q-axis synchronous reactance Xq", dyr=7),
        pos("xdp_pu", "pu", "d-axis transient reactance X'd", dyr=8),
        pos("xdpp_pu", "pu", "subtransient reactance X''d = X''q (PSS/E ZSORCE X)", dyr=9),
        real("xl_pu", "pu", "stator leakage reactance Xl", lo=0.0, dyr=10),
        real("s10", "", "saturation factor S(1.0) (0 = no saturation)", 0.0, lo=0.0, dyr=11),
        real("s12", "", "saturation factor S(1.2)", 0.0, lo=0.0, dyr=12),
        real("ra_pu", "pu", "armature resistance (PSS/E ZSORCE real part)", 0.0, lo=0.0),
    ),
    family="generator",
    since_version=2,
    checks=(_reactance_checks,),
))

PARAMS = ("t_d0p_s", "t_d0pp_s", "t_q0pp_s", "h_s", "d_pu", "xd_pu", "xq_pu", "xdp_pu",
          "xdpp_pu", "xl_pu", "s10", "s12", "ra_pu")
EXTRA = ("online", "kb", "wb", "sat_a", "sat_b")
(TDOP, TDOPP, TQOPP, H, D, XD, XQ, XDP, XPP, XL, S10, S12, RA, ON, KB, WB, SA, SB) = range(18)
(C_DELTA, C_OMEGA, C_EQP, C_PKD, C_PQ2, C_PE, C_QE, C_XAD, C_VR, C_VI, C_EFD, C_PM) = range(12)
R_IR, R_II = 8, 9


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        w = z[col[u, C_OMEGA]]
        eqp, pkd, pq2 = z[col[u, C_EQP]], z[col[u, C_PKD]], z[col[u, C_PQ2]]
        on = p[u, ON]
        xd, xq, xdp, xpp, xl = p[u, XD], p[u, XQ], p[u, XDP], p[u, XPP], p[u, XL]
        k3d, k4d = (xpp - xl) / (xdp - xl), (xdp - xpp) / (xdp - xl)
        k1d = (xdp - xpp) / (xdp - xl) ** 2
        pd2 = k3d * eqp + k4d * pkd
        (s, c, vd, vq, i_d, i_q, pe, qe, ir, ii, d_id, d_iq, d_pe, d_qe, d_ir, d_ii) = interface(
            z[col[u, C_DELTA]], -pq2, pd2, z[col[u, C_VR]], z[col[u, C_VI]], p[u, RA], xpp, on)
        se, dse = sat.se_quadratic(eqp, p[u, SA], p[u, SB])
        xad = eqp + (xd - xdp) * (k3d * i_d + k1d * (eqp - pkd)) + se * eqp
        two_h = 2.0 * p[u, H]
        pm = z[col[u, C_PM]]
        r[u, 0] = on * p[u, WB] * (w - 1.0)
        r[u, 1] = on * ((pm - p[u, D] * (w - 1.0)) / w - z[col[u, C_PE]]) / two_h
        r[u, 2] = on * (z[col[u, C_EFD]] - z[col[u, C_XAD]]) / p[u, TDOP]
        r[u, 3] = on * (eqp - pkd - (xdp - xl) * i_d) / p[u, TDOPP]
        r[u, 4] = on * (-pq2 - (xq - xpp) * i_q) / p[u, TQOPP]
        r[u, 5] = pe - z[col[u, C_PE]]
        r[u, 6] = qe - z[col[u, C_QE]]
        r[u, 7] = xad - z[col[u, C_XAD]]
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
        # E''_d = -psi''_q: the second E''_d slot is unused (weight 0)
        cm = (C_DELTA, C_VR, C_VI, C_PQ2, -1.0, C_PQ2, 0.0, C_EQP, k3d, C_PKD, k4d)
        add_grad(J, 3, d_id, -on * (xdp - xl) / p[u, TDOPP], cm)
        add_grad(J, 4, d_iq, -on * (xq - xpp) / p[u, TQOPP], cm)
        add_grad(J, 5, d_pe, 1.0, cm)
        add_grad(J, 6, d_qe, 1.0, cm)
        add_grad(J, 7, d_id, (xd - xdp) * k3d, cm)
        add_grad(J, R_IR, d_ir, -p[u, KB], cm)
        add_grad(J, R_II, d_ii, -p[u, KB], cm)
        J[3, C_EQP] += on / p[u, TDOPP]
        J[3, C_PKD] -= on / p[u, TDOPP]
        J[4, C_PQ2] -= on / p[u, TQOPP]
        J[5, C_PE] = -1.0
        J[6, C_QE] = -1.0
        J[7, C_EQP] += 1.0 + (xd - xdp) * k1d + se + eqp * dse
        J[7, C_PKD] -= (xd - xdp) * k1d
        J[7, C_XAD] = -1.0


def _init(p, ctx):
    """Steady state at the power-flow point (module docstring); vectorised over units."""
    n = len(ctx.v)
    xd, xq, xdp, xpp, xl = (p[:, k] for k in (XD, XQ, XDP, XPP, XL))
    p[:, ON], p[:, KB], p[:, WB] = 1.0, ctx.kb, ctx.wb
    p[:, SA], p[:, SB] = sat.quadratic_coeffs(p[:, S10], p[:, S12])
    v = ctx.v
    i = np.conj(ctx.s_gen / ctx.kb / v)  # machine base
    delta = np.angle(v + (p[:, RA] + 1j * xq) * i)
    rot = np.exp(-1j * (delta - np.pi / 2))  # network frame -> rotor frame (d + jq)
    idq = i * rot
    edq = (v + (p[:, RA] + 1j * xpp) * i) * rot
    i_d, i_q, ed2, pd2 = idq.real, idq.imag, edq.real, edq.imag
    eqp = pd2 + (xdp - xpp) * i_d
    pkd = eqp - (xdp - xl) * i_d
    efd = eqp * (1.0 + sat.se_numpy(eqp, p[:, SA], p[:, SB])) + (xd - xdp) * i_d
    pe = ed2 * i_d + pd2 * i_q
    out = {"delta": delta, "omega": np.ones(n), "eqp": eqp, "psikd": pkd, "psiqpp": -ed2,
           "pe": pe, "qe": (ctx.s_gen / ctx.kb).imag, "xadifd": efd, "efd": efd, "pm": pe}
    out["_problems"] = start_problems(ctx.v, delta, efd)
    return out


_MASK = np.zeros((10, 12), dtype=bool)
_NET = [C_DELTA, C_EQP, C_PKD, C_PQ2, C_VR, C_VI]
_MASK[0, C_OMEGA] = True
_MASK[1, [C_OMEGA, C_PE, C_PM]] = True
_MASK[2, [C_EFD, C_XAD]] = True
for _row, _extra in ((3, None), (4, None), (5, C_PE), (6, C_QE), (7, C_XAD), (R_IR, None),
                     (R_II, None)):
    _MASK[_row, _NET] = True
    if _extra is not None:
        _MASK[_row, _extra] = True

SPEC = ModelSpec(
    name="gensal", family="generator", params=PARAMS, extra=EXTRA,
    states=("delta", "omega", "eqp", "psikd", "psiqpp"), algebs=("pe", "qe", "xadifd"),
    outputs=(), inputs=("vr", "vi", "efd", "pm"), injects=True, eval=_eval, init=_init,
    jac_mask=_MASK,
)
