"""GENCLS: classical machine, constant voltage E' behind the transient reactance.

Equations (Kundur, Power System Stability and Control, 1994, sec. 13.3 classical model;
PSS/E Model Library, GENCLS; swing equation in the PSS/E torque form
``2H dw/dt = (Pm - D (w-1)) / w - Te``)::

    d(delta)/dt = wb (w - 1)
    d(w)/dt     = ((pm - D (w - 1)) / w - pe) / (2 H)
    I  = (E' e^{j delta} - V) / (Ra + j X'd)             (machine base)
    pe = Re(E I*)   air-gap power = electrical torque at w = 1 pu (algebraic)
    qe = Im(V I*)   terminal reactive power (algebraic)

H and D on the machine base (``generator.mbase_mva``); X'd is PSS/E's source impedance ZSORCE.
Extras computed at initialization: ``online`` (0 after a trip), ``kb = mbase/sbase``,
``wb = 2 pi f``, ``e_pu = |E'|``.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.case.schema import Column, INT, Table, id_col, pos, real, register
from casa_dyn.models.base import ModelSpec

TABLE = register(Table(
    "gencls", "Classical machine model (PSS/E GENCLS); one row per generator.",
    (
        id_col(),
        Column("gen", INT, "generator id", ref="generator", lo=1),
        pos("h_s", "s", "inertia constant H on the machine base", dyr=1),
        real("d_pu", "pu", "damping D (pu power per pu speed deviation)", 0.0, lo=0.0, dyr=2),
        real("ra_pu", "pu", "armature resistance (PSS/E ZSORCE real part)", 0.0, lo=0.0),
        pos("xdp_pu", "pu", "transient reactance X'd (PSS/E ZSORCE imaginary part)"),
    ),
    family="generator",
    since_version=2,
))

PARAMS = ("h_s", "d_pu", "ra_pu", "xdp_pu")
EXTRA = ("online", "kb", "wb", "e_pu")
H, D, RA, XD, ON, KB, WB, E = range(8)
# local columns: delta omega pe qe | vr vi pm ; rows: delta omega pe qe ir ii
C_DELTA, C_OMEGA, C_PE, C_QE, C_VR, C_VI, C_PM = range(7)


@njit
def _eval(t, z, p, col, r, jl, ds, want_jac):
    for u in range(p.shape[0]):
        delta = z[col[u, C_DELTA]]
        w = z[col[u, C_OMEGA]]
        pe = z[col[u, C_PE]]
        qe = z[col[u, C_QE]]
        vr = z[col[u, C_VR]]
        vi = z[col[u, C_VI]]
        pm = z[col[u, C_PM]]
        on = p[u, ON]
        den = p[u, RA] ** 2 + p[u, XD] ** 2
        g = p[u, RA] / den
        b = -p[u, XD] / den
        er = p[u, E] * math.cos(delta)
        ei = p[u, E] * math.sin(delta)
        ir = on * (g * (er - vr) - b * (ei - vi))
        ii = on * (b * (er - vr) + g * (ei - vi))
        two_h = 2.0 * p[u, H]
        r[u, 0] = on * p[u, WB] * (w - 1.0)
        r[u, 1] = on * ((pm - p[u, D] * (w - 1.0)) / w - pe) / two_h
        r[u, 2] = er * ir + ei * ii - pe
        r[u, 3] = vi * ir - vr * ii - qe
        r[u, 4] = -p[u, KB] * ir
        r[u, 5] = -p[u, KB] * ii
        if not want_jac:
            continue
        J = jl[u]
        J[:, :] = 0.0
        dir_dd = on * (-g * ei - b * er)
        dii_dd = on * (-b * ei + g * er)
        dir_dvr, dir_dvi = -g * on, b * on
        dii_dvr, dii_dvi = -b * on, -g * on
        J[0, C_OMEGA] = on * p[u, WB]
        J[1, C_OMEGA] = -on * (pm + p[u, D]) / (w * w) / two_h
        J[1, C_PE] = -on / two_h
        J[1, C_PM] = on / (w * two_h)
        J[2, C_DELTA] = -ei * ir + er * ii + er * dir_dd + ei * dii_dd
        J[2, C_PE] = -1.0
        J[2, C_VR] = er * dir_dvr + ei * dii_dvr
        J[2, C_VI] = er * dir_dvi + ei * dii_dvi
        J[3, C_DELTA] = vi * dir_dd - vr * dii_dd
        J[3, C_QE] = -1.0
        J[3, C_VR] = vi * dir_dvr - ii - vr * dii_dvr
        J[3, C_VI] = ir + vi * dir_dvi - vr * dii_dvi
        J[4, C_DELTA] = -p[u, KB] * dir_dd
        J[4, C_VR] = -p[u, KB] * dir_dvr
        J[4, C_VI] = -p[u, KB] * dir_dvi
        J[5, C_DELTA] = -p[u, KB] * dii_dd
        J[5, C_VR] = -p[u, KB] * dii_dvr
        J[5, C_VI] = -p[u, KB] * dii_dvi


def _init(p, ctx):
    """From the power-flow terminal voltage and output: E' = V + (Ra + jX'd) I."""
    v = ctx.v
    s_m = ctx.s_gen / ctx.kb  # machine base
    i = np.conj(s_m / v)
    e = v + (p[:, RA] + 1j * p[:, XD]) * i
    p[:, ON] = 1.0
    p[:, KB] = ctx.kb
    p[:, WB] = ctx.wb
    p[:, E] = np.abs(e)
    pe = (e * np.conj(i)).real
    return {"delta": np.angle(e), "omega": np.ones(len(v)), "pe": pe, "qe": s_m.imag, "pm": pe}


_MASK = np.zeros((6, 7), dtype=bool)
_MASK[0, [C_OMEGA]] = True
_MASK[1, [C_OMEGA, C_PE, C_PM]] = True
_MASK[2, [C_DELTA, C_PE, C_VR, C_VI]] = True
_MASK[3, [C_DELTA, C_QE, C_VR, C_VI]] = True
_MASK[4, [C_DELTA, C_VR, C_VI]] = True
_MASK[5, [C_DELTA, C_VR, C_VI]] = True

SPEC = ModelSpec(
    name="gencls", family="generator", params=PARAMS, extra=EXTRA,
    states=("delta", "omega"), algebs=("pe", "qe"), outputs=(), inputs=("vr", "vi", "pm"),
    injects=True, eval=_eval, init=_init, jac_mask=_MASK,
)
