"""Kundur's two-area system with manual excitation (GENROU machines, constant efd and pm).

Reference (REFERENCE.md section 4.2 and section 6 rows 16-17; Kundur 1994, Example 12.6,
Table E12.3, manual excitation): inter-area mode -0.111 +- j3.43 (0.546 Hz, zeta 0.032); local
modes -0.492 +- j6.82 (1.085 Hz) and -0.506 +- j7.02 (1.117 Hz).  REFERENCE.md accepts f +-3 %;
independent reproductions match the frequencies within about 1-2 %.  Loads: active power
constant current, reactive power constant impedance, as the book's study (cases/src/kundur2area.py).

The case's exciter and PSS tables are removed here ("manual excitation": the field voltage stays
at its initial value); the case has no governors (constant mechanical power).
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import least_squares

from casa_dyn.case import schema
from casa_dyn.io import read_case
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.events import BusFault
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from model_harness import full_residual

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
F_INTER_HZ = 0.546            # Kundur Table E12.3 (REFERENCE.md 6 row 16)
F_LOCAL_HZ = (1.085, 1.117)   # Kundur Table E12.3 (REFERENCE.md 6 row 17)
ZETA_INTER = 0.032            # Kundur Table E12.3, accepted +-0.01 (REFERENCE.md 6 row 16)
F_TOL = 0.03                  # REFERENCE.md 6 rows 16-17: frequencies +-3 %


@pytest.fixture(scope="module")
def case():
    c = read_case(str(CASES / "kundur2area.h5"))
    for name in list(c.tables):
        if name in schema.tables() and schema.get(name).family in ("exciter", "governor", "pss"):
            del c.tables[name]
    assert c.has("genrou") and c.n("genrou") == 4
    return c


@pytest.fixture(scope="module")
def fault_run(case):
    # 3-phase fault at bus 8 (the middle of the tie) through j0.02 pu (100 MVA) for 50 ms
    r = simulate(case, [BusFault(8, 1.0, 1.05, 0.0, 0.02)],
                 SimOptions(t_end_s=16.0, channels=("gen/*/speed_pu", "bus/8/vm_pu")))
    assert r.status == "completed"
    return r


def test_flat_run_20s_with_manual_excitation(case):
    r = simulate(case, [], SimOptions(t_end_s=20.0))
    assert r.status == "completed"
    _, w = r.select("gen/*/speed_pu")
    _, v = r.select("bus/*/vm_pu")
    _, efd = r.select("gen/*/efd_pu")
    _, pm = r.select("gen/*/pm_mw")
    assert np.abs(w - 1.0).max() < 1e-6
    assert np.abs(v - v[0]).max() < 1e-5
    assert np.ptp(efd, axis=0).max() == 0.0 and np.ptp(pm, axis=0).max() == 0.0  # manual, no governor


def _zero_crossing_hz(t, y):
    """Mean frequency from the linearly interpolated sign changes of y - mean(y)."""
    y = y - y.mean()
    k = np.flatnonzero(np.sign(y[:-1]) != np.sign(y[1:]))
    tz = t[k] - y[k] * (t[k + 1] - t[k]) / (y[k + 1] - y[k])
    return (len(tz) - 1) / (2.0 * (tz[-1] - tz[0]))


def _damped_sinusoid(t, y, f0):
    """Least-squares fit of a e^{-s t} cos(2 pi f t + phi) + c; returns (f, zeta, rms/a)."""
    t = t - t[0]

    def res(x):
        a, s, f, ph, c = x
        return a * np.exp(-s * t) * np.cos(2 * np.pi * f * t + ph) + c - y

    best = min((least_squares(res, [np.ptp(y) / 2, 0.1, f0, ph, y.mean()])
                for ph in np.linspace(0.0, 2 * np.pi, 8, endpoint=False)), key=lambda s: s.cost)
    a, s, f, _, _ = best.x
    return f, s / np.hypot(s, 2 * np.pi * f), np.sqrt(2 * best.cost / len(t)) / abs(a)


def test_fault_excites_the_inter_area_swing(fault_run):
    r = fault_run
    assert r.channel("bus/8/vm_pu").min() < 0.5  # a real fault
    dw = r.channel("gen/1/speed_pu") - r.channel("gen/3/speed_pu")
    assert np.abs(dw).max() > 1e-4


def test_inter_area_frequency_matches_kundur(fault_run):
    # Speed difference between the areas (G1 - G3) from 5 s to 15 s (the local modes, zeta ~
    # 0.09, have decayed by then): one damped sinusoid by least squares, and the zero crossings.
    r = fault_run
    m = (r.t_s >= 5.0) & (r.t_s <= 15.0)
    t, dw = r.t_s[m], (r.channel("gen/1/speed_pu") - r.channel("gen/3/speed_pu"))[m]
    f_zc = _zero_crossing_hz(t, dw)
    f, zeta, rel_rms = _damped_sinusoid(t, dw, f_zc)
    assert rel_rms < 0.05                       # one mode explains the swing
    assert abs(f - f_zc) < 0.01 * f             # the two estimates agree within 1 %
    assert abs(f - F_INTER_HZ) < F_TOL * F_INTER_HZ
    # Damping: the book's 0.032 +- 0.01 is for constant mechanical TORQUE; PSS/E's swing
    # equation (Pm - D dw)/w - Te holds the mechanical POWER, which adds damping Pm per pu
    # speed: d(zeta) ~ Pm / (4 H w_mode) = 0.78 / (4 * 6.34 * 3.43) ~ 0.009, so the band is
    # widened by that much on the upper side.
    assert ZETA_INTER - 0.01 < zeta < ZETA_INTER + 0.01 + 0.009


def test_linearized_modes_match_the_fit_and_kundur(case, fault_run):
    # Eigenvalues of the assembled DAE Jacobian at t = 0 reduced to the states
    # (A = Fx - Fy Gy^-1 Gx): the inter-area pair must agree with the time-domain fit within
    # 0.5 %, and all three electromechanical modes with the book within 3 %.
    sysm = build_system(case, solve_power_flow(case))
    _, jd = full_residual(sysm)
    J = sp.csc_matrix((jd, sysm.ai, sysm.ap), shape=(sysm.n, sysm.n)).toarray()
    d = sysm.is_diff.astype(bool)
    a = J[np.ix_(d, d)] - J[np.ix_(d, ~d)] @ np.linalg.solve(J[np.ix_(~d, ~d)], J[np.ix_(~d, d)])
    lam = np.linalg.eigvals(a)
    f_hz = np.sort(lam.imag[(lam.imag > 2.0) & (lam.imag < 10.0)] / (2 * np.pi))
    assert len(f_hz) == 3
    m = (fault_run.t_s >= 5.0) & (fault_run.t_s <= 15.0)
    dw = (fault_run.channel("gen/1/speed_pu") - fault_run.channel("gen/3/speed_pu"))[m]
    f_fit, _, _ = _damped_sinusoid(fault_run.t_s[m], dw, _zero_crossing_hz(fault_run.t_s[m], dw))
    assert abs(f_hz[0] - f_fit) < 0.005 * f_fit
    np.testing.assert_allclose(f_hz, [F_INTER_HZ, *F_LOCAL_HZ], rtol=F_TOL)
