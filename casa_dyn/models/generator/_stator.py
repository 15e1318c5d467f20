"""Network interface shared by the subtransient machines (GENROU, GENSAL): a current source
behind the subtransient impedance Ra + jX'' (X''q = X''d), in the synchronous frame.

Rotor frame (Kundur 1994, sec. 3.3 dq transformation, 5.1 stator simplifications; PSS/E
Model Library, GENROU/GENSAL): the q axis
leads the real axis by ``delta`` and the d axis lags the q axis by 90 deg, so a rotor-frame
phasor ``x_d + j x_q`` is ``(x_d + j x_q) e^{j(delta - pi/2)}`` in the network frame::

    v_d = vr sin(delta) - vi cos(delta),      v_q = vr cos(delta) + vi sin(delta)
    E'' = E''_d + j psi''_d                    (subtransient voltage; E''_d = -psi''_q)
    I   = (E'' - V) / (Ra + j X'')             (machine base, out of the machine)
    pe  = E''_d i_d + psi''_d i_q              (air-gap power = electrical torque at w = 1)
    qe  = v_q i_d - v_d i_q                    (terminal reactive power)

The stator transients and the speed factor on the subtransient voltage are neglected (PSS/E's
GENROU/GENSAL; OpenIPSL's PSS/E-verified ``Machines.PSSE.GENROU`` uses the same stator, facts
only), so the electrical torque equals the air-gap power.

Gradients are returned with respect to ``(delta, E''_d, psi''_d, vr, vi)``; each model maps the
E''_d and psi''_d entries onto its own states with ``add_grad``.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit

#: positions in a 5-gradient
G_DELTA, G_ED2, G_PD2, G_VR, G_VI = range(5)


@njit
def interface(delta, ed2, pd2, vr, vi, ra, xpp, on):
    """Currents and powers of the subtransient source and their gradients.

    Returns ``(s, c, vd, vq, i_d, i_q, pe, qe, ir, ii, d_id, d_iq, d_pe, d_qe, d_ir, d_ii)``;
    ``on`` (0 or 1) scales the current (a tripped machine injects nothing)."""
    s = math.sin(delta)
    c = math.cos(delta)
    vd = vr * s - vi * c
    vq = vr * c + vi * s
    den = ra * ra + xpp * xpp
    g = on * ra / den
    b = -on * xpp / den
    ed = ed2 - vd
    eq = pd2 - vq
    i_d = g * ed - b * eq
    i_q = b * ed + g * eq
    pe = ed2 * i_d + pd2 * i_q
    qe = vq * i_d - vd * i_q
    ir = i_d * s + i_q * c
    ii = -i_d * c + i_q * s
    # d(ed)/d(delta) = -vq, d(eq)/d(delta) = vd; d(vd)/dvr = s, d(vq)/dvr = c, ...
    d_id = (-g * vq - b * vd, g, -b, -g * s + b * c, g * c + b * s)
    d_iq = (-b * vq + g * vd, b, g, -b * s - g * c, b * c - g * s)
    d_pe = (ed2 * d_id[0] + pd2 * d_iq[0], ed2 * d_id[1] + pd2 * d_iq[1] + i_d,
            ed2 * d_id[2] + pd2 * d_iq[2] + i_q, ed2 * d_id[3] + pd2 * d_iq[3],
            ed2 * d_id[4] + pd2 * d_iq[4])
    d_qe = (vq * d_id[0] - vd * d_iq[0] - vd * i_d - vq * i_q, vq * d_id[1] - vd * d_iq[1],
            vq * d_id[2] - vd * d_iq[2], vq * d_id[3] - vd * d_iq[3] + c * i_d - s * i_q,
            vq * d_id[4] - vd * d_iq[4] + s * i_d + c * i_q)
    d_ir = (d_id[0] * s + d_iq[0] * c + i_d * c - i_q * s, d_id[1] * s + d_iq[1] * c,
            d_id[2] * s + d_iq[2] * c, d_id[3] * s + d_iq[3] * c, d_id[4] * s + d_iq[4] * c)
    d_ii = (-d_id[0] * c + d_iq[0] * s + i_d * s + i_q * c, -d_id[1] * c + d_iq[1] * s,
            -d_id[2] * c + d_iq[2] * s, -d_id[3] * c + d_iq[3] * s, -d_id[4] * c + d_iq[4] * s)
    return s, c, vd, vq, i_d, i_q, pe, qe, ir, ii, d_id, d_iq, d_pe, d_qe, d_ir, d_ii


@njit
def add_grad(J, row, gr, scale, cmap):
    """``J[row, :] += scale * gr`` with the 5-gradient ``gr`` mapped onto local columns.

    ``cmap = (c_delta, c_vr, c_vi, c_e1, w_e1, c_e2, w_e2, c_p1, w_p1, c_p2, w_p2)``: E''_d
    is ``w_e1 x[c_e1] + w_e2 x[c_e2]`` and psi''_d is ``w_p1 x[c_p1] + w_p2 x[c_p2]``."""
    J[row, cmap[0]] += scale * gr[G_DELTA]
    J[row, cmap[1]] += scale * gr[G_VR]
    J[row, cmap[2]] += scale * gr[G_VI]
    J[row, cmap[3]] += scale * gr[G_ED2] * cmap[4]
    J[row, cmap[5]] += scale * gr[G_ED2] * cmap[6]
    J[row, cmap[7]] += scale * gr[G_PD2] * cmap[8]
    J[row, cmap[9]] += scale * gr[G_PD2] * cmap[10]


def start_problems(v, delta, efd) -> list:
    """Units that cannot start: efd < 0, or a q axis more than 90 deg from the terminal voltage
    (v_q <= 0).  The second is how a negative field shows in the phasor diagram of a round-rotor
    machine: E_Q = V + (Ra + jXq) I reverses, and its angle puts the rotor a pole pitch away."""
    vq = (v * np.exp(-1j * (delta - np.pi / 2))).imag
    bad = np.flatnonzero((efd < 0.0) | (vq <= 0.0))
    angle_deg = np.degrees(delta - np.angle(v))
    return [(int(k), None, "field voltage efd would be negative at the power-flow point (the unit "
             f"absorbs more reactive power than its field allows; rotor {angle_deg[k]:.1f} deg from the "
             "terminal voltage)") for k in bad]
