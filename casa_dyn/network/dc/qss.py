"""Quasi-steady-state (QSS) equations of a line-commutated converter, with derivatives.

Vectorised functions of floats or NumPy arrays (no branches on values, only ``np`` ufuncs),
compiled with ``casa_dyn._jit.njit`` so that the dynamic kernels can call them too; from
Python they take scalars or arrays (one compiled specialisation per argument-type signature,
cached on disk).
Units: kV, kA, ohm, MW, Mvar; angles in radians.  ``n`` is the number of 6-pulse bridges in
series, ``xc``/``rc`` the commutating reactance/resistance per bridge (valve side), ``eac``
the valve-side line-to-line RMS voltage.  For an inverter ``angle`` is the extinction angle
gamma; every formula below is written so that the rectifier (alpha) and the inverter (gamma)
use the same expression.

Equations (Kimbark, "Direct Current Transmission", 1971, ch. 3 and 7; Kundur, "Power System
Stability and Control", 1994, sec. 10.2; restated in REFERENCE.md section 2.1)::

    Eac  = V_pu * ebas_kv * ratio / tap                (PSS/E EBAS, TR, TAP; see tables.py)
    Vd0  = n * (3 sqrt 2 / pi) * Eac                    ideal no-load DC voltage
    dx   = Xc Id / (sqrt 2 Eac)                         relative inductive drop per bridge
    cos(angle + mu) = cos(angle) - 2 dx                 overlap angle mu
    Vd   = Vd0 cos(angle) - n (3/pi) Xc Id - s 2 n Rc Id      s = +1 rectifier, -1 inverter
    P    = (Vd0 cos(angle) - n (3/pi) Xc Id) Id        AC active power (absorbed by a rectifier,
                                                        delivered by an inverter)
    I1   = n (sqrt 6 / pi) Id ratio / tap               fundamental AC current, primary side,
                                                        overlap neglected (kA)

The commutating reactance produces a voltage drop but absorbs no power; the resistance
``rc`` dissipates ``2 n Rc Id^2``, which the rectifier takes from its AC system and the
inverter's AC system does not receive: hence the sign ``s`` (STEPS, ``hvdc.cpp``, subtracts
the resistive drop at both ends; the two agree when ``rc`` = 0, as in the CIGRE benchmark).

Power factor, two formulas (REFERENCE.md 2.1):

* approximation  ``cos phi = (cos(angle) + cos(angle + mu)) / 2 = cos(angle) - dx``
  (fundamental current magnitude taken as I1 above, i.e. P = sqrt 3 V I1 cos phi);
* Kimbark's exact displacement angle of the fundamental current (eq. 7.60 of Kimbark;
  also STEPS ``lcc.cpp`` ``get_ac_power_factor``)
  ``tan phi = (2 mu + sin 2a - sin 2(a+mu)) / (cos 2a - cos 2(a+mu))``, evaluated here in the
  cancellation-free form ``tan phi = (mu / sin mu - cos(2a + mu)) / sin(2a + mu)``
  (sum-to-product identities), which tends to ``tan a`` as ``mu -> 0``.

Reactive power is absorbed at both ends: ``Q = P tan phi``.
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn._jit import njit

#: 3 sqrt(2) / pi: ideal no-load DC voltage per bridge per kV of valve-side line voltage
K_VD0 = 3.0 * math.sqrt(2.0) / math.pi
#: 3 / pi: equivalent commutating resistance per ohm of commutating reactance
K_RX = 3.0 / math.pi
#: sqrt(6) / pi: fundamental AC current (valve side) per kA of DC current, overlap neglected
K_I1 = math.sqrt(6.0) / math.pi
#: below this overlap (rad) the series of mu / sin(mu) is used
_MU_SMALL = 1e-3


@njit
def eac_kv(v_pu, ebas_kv, ratio, tap_pu):
    """Valve-side commutating voltage and its derivatives ``(eac, d/dv_pu, d/dtap_pu)``."""
    eac = v_pu * ebas_kv * ratio / tap_pu
    return eac, ebas_kv * ratio / tap_pu, -eac / tap_pu


@njit
def vd0_kv(eac, n):
    """Ideal no-load DC voltage ``n (3 sqrt 2/pi) Eac``; ``d vd0 / d eac = n K_VD0``."""
    return n * K_VD0 * eac


@njit
def rx_ohm(n, xc):
    """Equivalent commutating resistance ``n (3/pi) Xc`` (a drop that dissipates nothing)."""
    return n * K_RX * xc


@njit
def dx_pu(eac, id_ka, xc):
    """Relative inductive drop per bridge ``Xc Id / (sqrt 2 Eac)`` = (3/pi) Xc Id / Vd0."""
    return xc * id_ka / (math.sqrt(2.0) * eac)


@njit
def vd_kv(vd0, angle, id_ka, n, xc, rc, sign):
    """DC voltage ``Vd0 cos(angle) - n (3/pi Xc + sign 2 Rc) Id`` (sign +1 rectifier, -1
    inverter) and its derivatives ``(vd, d/dvd0, d/dangle, d/did)``."""
    r_eq = n * (K_RX * xc + sign * 2.0 * rc)
    c = np.cos(angle)
    return vd0 * c - r_eq * id_ka, c, -vd0 * np.sin(angle), -r_eq


@njit
def angle_for_vd(vd, vd0, id_ka, n, xc, rc, sign):
    """Cosine of the angle that gives DC voltage ``vd`` at current ``id_ka`` (inverse of
    ``vd_kv``); values outside [-1, 1] mean no angle can do it."""
    return (vd + n * (K_RX * xc + sign * 2.0 * rc) * id_ka) / vd0


@njit
def overlap_rad(angle, id_ka, xc, eac):
    """Overlap angle ``mu = acos(cos a - sqrt2 Xc Id / Eac) - a`` and its derivatives
    ``(mu, d/dangle, d/did, d/deac)``.  Needs ``cos a - sqrt2 Xc Id / Eac`` in (-1, 1)."""
    k = math.sqrt(2.0) * xc / eac
    c = np.cos(angle) - k * id_ka
    s = np.sqrt(1.0 - c * c)  # = sin(a + mu) > 0
    mu = np.arccos(c) - angle
    return mu, np.sin(angle) / s - 1.0, k / s, -k * id_ka / (eac * s)


@njit
def _mu_over_sin(mu):
    """``u = mu / sin(mu)`` and ``du/dmu``, accurate down to mu = 0 (series below 1e-3)."""
    small = mu < _MU_SMALL
    m = mu + small * 1.0  # keeps the exact branch away from 0/0 where the series is used
    sm = np.sin(m)
    u_exact = m / sm
    du_exact = (sm - m * np.cos(m)) / (sm * sm)
    mu2 = mu * mu
    u_series = 1.0 + mu2 / 6.0 + 7.0 * mu2 * mu2 / 360.0
    du_series = mu / 3.0 + 7.0 * mu2 * mu / 90.0
    return small * u_series + (1 - small) * u_exact, small * du_series + (1 - small) * du_exact


@njit
def phi_kimbark(angle, mu):
    """Kimbark's exact power-factor angle of the fundamental AC current and its partial
    derivatives ``(phi, d/dangle, d/dmu)`` (partials: mu held / angle held)."""
    u, du = _mu_over_sin(mu)
    w = 2.0 * angle + mu
    num = u - np.cos(w)
    den = np.sin(w)
    phi = np.arctan2(num, den)
    r2 = num * num + den * den
    # d num/da = 2 sin w, d den/da = 2 cos w ; d num/dmu = du + sin w, d den/dmu = cos w
    dphi_da = (den * 2.0 * np.sin(w) - num * 2.0 * np.cos(w)) / r2
    dphi_dmu = (den * (du + np.sin(w)) - num * np.cos(w)) / r2
    return phi, dphi_da, dphi_dmu


@njit
def cos_phi_approx(angle, mu):
    """Approximate power factor ``(cos a + cos(a + mu)) / 2`` and its partial derivatives
    ``(cos_phi, d/dangle, d/dmu)``."""
    return ((np.cos(angle) + np.cos(angle + mu)) / 2.0,
            -(np.sin(angle) + np.sin(angle + mu)) / 2.0, -np.sin(angle + mu) / 2.0)


@njit
def phi_approx(angle, mu):
    """Power-factor angle of the approximation and its partials ``(phi, d/dangle, d/dmu)``."""
    c, dc_da, dc_dmu = cos_phi_approx(angle, mu)
    s = np.sqrt(1.0 - c * c)
    return np.arccos(c), -dc_da / s, -dc_dmu / s


@njit
def p_ac_mw(eac, angle, id_ka, n, xc):
    """AC active power ``(Vd0 cos a - n 3/pi Xc Id) Id`` and derivatives
    ``(p, d/deac, d/dangle, d/did)``."""
    vd0 = n * K_VD0 * eac
    c = np.cos(angle)
    r_x = n * K_RX * xc
    p = (vd0 * c - r_x * id_ka) * id_ka
    return p, n * K_VD0 * c * id_ka, -vd0 * np.sin(angle) * id_ka, vd0 * c - 2.0 * r_x * id_ka


@njit
def i_ac_ka(id_ka, n, ratio, tap_pu):
    """Fundamental AC line current on the primary side, overlap neglected:
    ``n (sqrt 6/pi) Id ratio / tap`` (kA)."""
    return n * K_I1 * id_ka * ratio / tap_pu


@njit
def pq_ac(eac, angle, id_ka, n, xc, exact):
    """Converter AC power ``(P, Q)`` in MW/Mvar with derivatives with respect to
    ``(eac, angle, id)``: returns ``p, q, dp_deac, dp_da, dp_did, dq_deac, dq_da, dq_did``.

    ``exact`` (1 or 0, or a boolean array) selects Kimbark's power factor or the
    approximation; P is the same for both.  Q > 0 is absorbed from the AC system at either
    end; P is absorbed by a rectifier and delivered by an inverter.
    """
    p, dp_de, dp_da, dp_di = p_ac_mw(eac, angle, id_ka, n, xc)
    mu, dmu_da, dmu_di, dmu_de = overlap_rad(angle, id_ka, xc, eac)
    phk, dk_da, dk_dmu = phi_kimbark(angle, mu)
    pha, da_da, da_dmu = phi_approx(angle, mu)
    phi = exact * phk + (1 - exact) * pha
    dphi_da = exact * dk_da + (1 - exact) * da_da
    dphi_dmu = exact * dk_dmu + (1 - exact) * da_dmu
    t = np.tan(phi)
    sec2 = 1.0 + t * t
    q = p * t
    dq_de = dp_de * t + p * sec2 * dphi_dmu * dmu_de
    dq_da = dp_da * t + p * sec2 * (dphi_da + dphi_dmu * dmu_da)
    dq_di = dp_di * t + p * sec2 * dphi_dmu * dmu_di
    return p, q, dp_de, dp_da, dp_di, dq_de, dq_da, dq_di


__all__ = ["K_VD0", "K_RX", "K_I1", "eac_kv", "vd0_kv", "rx_ohm", "dx_pu", "vd_kv",
           "angle_for_vd", "overlap_rad", "phi_kimbark", "cos_phi_approx", "phi_approx",
           "p_ac_mw", "i_ac_ka", "pq_ac"]
