"""Small-signal behaviour of the CIGRE HVDC benchmark case: the closed current loop.

Why: docs/hvdc.md reports a 51 % overshoot for a -10 % current-order step.  These tests show
where that comes from.
* The rectifier current loop of the QSS model (DC T circuit, current PI, 2 ms current
  transducer, inverter at constant gamma), linearized by casa_dyn.study.modes from the
  analytic Jacobians, has the same closed-loop poles as a five-state model written here by
  hand from the benchmark data (REFERENCE.md 4.1: 2 x (2.5 ohm + 0.5968 H + 0.5968 H
  smoothing reactor), 26 uF mid-point, Xc from uk = 0.18; PI Kp 1.0989 rad/pu,
  Ti 10.92 ms, REFERENCE.md 2.4).  For that comparison the AC systems are made stiff and the
  inverter's gamma control near-ideal, since the hand model leaves both out.
* The linearization of the shipped case predicts the rise time and overshoot that the
  nonlinear time-domain run gives for the -10 % step.
* With the integral time tripled, the predicted overshoot falls below 20 %.  The overshoot
  therefore comes from the PI tuning on this DC circuit (the PI zero at -1/Ti = -92 1/s sits
  among the closed-loop poles), not from a model error.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from casa_dyn.io.h5case import read_case
from casa_dyn.models.hvdc import _lcc_core as C
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.events import PowerOrderChange
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from casa_dyn.solver.workspace import evaluate
from casa_dyn.study.modes import linearize

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
KP, TI_S = 1.0989, 0.01092          # CIGRE/PSCAD current PI (REFERENCE.md 2.4)


def _with(case, table, **cols):
    """Copy of ``case`` with columns of ``table`` replaced (a scalar applies to every row)."""
    c = case.copy()
    t = {k: np.array(v) for k, v in c.tables[table].items()}
    for k, v in cols.items():
        t[k] = np.full(len(t["id"]), v, dtype=float) if np.isscalar(v) else np.asarray(v, float)
    c.tables[table] = t
    return c


def _stiff(case):
    """AC systems a million times stronger, with the converter buses kept at 1 pu, 0 deg,
    so that the operating point (alpha, gamma, Id) stays the benchmark's."""
    ln = case["line"]
    c = _with(case, "line", r_pu=ln["r_pu"] * 1e-6, x_pu=ln["x_pu"] * 1e-6)
    c = _with(c, "generator", vm_set_pu=1.0)
    return _with(c, "bus", vm_pu=1.0, va_deg=0.0)


def _closed_loop(case, d_order_ka=-0.02):
    """Linearization at the initial point: state matrix A, and the input column B and the
    output row (Cy, Dy) for the rectifier's current order (kA) -> its DC current (kA).  B is
    the finite difference of the right-hand sides in the order (all equations are affine in
    it away from limits)."""
    sysm = build_system(case, solve_power_flow(case))
    lin = linearize(sysm)
    j = sp.csr_matrix(lin.jac)
    xs, ys = lin.states, lin.algebs
    fx, fy = j[xs][:, xs].toarray(), j[xs][:, ys].toarray()
    gx, gy = j[ys][:, xs].toarray(), j[ys][:, ys].toarray()
    f = sysm.family("lcc")
    rect = int(np.flatnonzero(f.p[:, C.KIND] > 0)[0])
    r0, _ = evaluate(sysm, sysm.z0, 0.0, jac=False)
    f.ds[rect, C.D_OTGT] += d_order_ka
    r1, _ = evaluate(sysm, sysm.z0, 0.0, jac=False)
    f.ds[rect, C.D_OTGT] -= d_order_ka
    b = (r1 - r0) / d_order_ka
    gy_gx, gy_b = np.linalg.solve(gy, gx), np.linalg.solve(gy, b[ys])
    a = fx - fy @ gy_gx
    bb = b[xs] - fy @ gy_b
    k = int(np.flatnonzero(ys == f.col[rect, C.C_ID])[0])
    return a, bb, -gy_gx[k], -gy_b[k]


def _step(a, b, c, d, t_end_s=0.4, h_s=1e-4):
    """Unit-step response y(t) of x' = A x + B u, y = C x + D u (exact discretization)."""
    ad = sla.expm(a * h_s)
    bd = np.linalg.solve(a, (ad - np.eye(len(a))) @ b)
    x = np.zeros(len(a))
    y = [d]
    for _ in range(int(round(t_end_s / h_s))):
        x = ad @ x + bd
        y.append(c @ x + d)
    return np.arange(len(y)) * h_s, np.array(y)


def _metrics(t, frac):
    """10-90 % rise time (s) and overshoot (fraction) of a response normalized to 0 -> 1."""
    rise = t[np.argmax(frac >= 0.9)] - t[np.argmax(frac >= 0.1)]
    return rise, frac.max() - 1.0


def _hand_model(t_id_s=0.002):
    """The current loop written from the benchmark data (REFERENCE.md 2.1, 4.1), states
    (I1, Vc, I2, I_meas, x_i) in kA, kV, rad; input: current order (kA).
        L dI1/dt = Vdr - R I1 - Vc,    Vdr = Vd0r cos(alpha) - Rcr I1
        C dVc/dt = I1 - I2
        L dI2/dt = Vc - R I2 - Vdi,    Vdi = Vd0i cos(gamma) - Rci I2   (gamma held)
        T dIm/dt = I1 - Im
        alpha = x_i - Kp (Iord - Im)/Ir,  dx_i/dt = -Ki (Iord - Im)/Ir
    with Rc = n (3/pi) Xc, Xc = uk Ev^2/S, Vd0 = n (3 sqrt2/pi) Ev, alpha = 15 deg."""
    n, ir = 2, 2.0
    xc_r, xc_i = 0.18 * 213.4469 ** 2 / 603.73, 0.18 * 209.2288 ** 2 / 591.79
    vd0r = n * 3 * math.sqrt(2) / math.pi * 213.4469
    rcr, rci = n * 3 / math.pi * xc_r, n * 3 / math.pi * xc_i
    r, l, cap = 2.5, 0.5968 + 0.5968, 26e-6
    dv_da = -vd0r * math.sin(math.radians(15.0))
    ki = KP / TI_S
    a = np.zeros((5, 5))
    b = np.zeros(5)
    a[0, 0], a[0, 1], a[0, 3], a[0, 4] = -(rcr + r) / l, -1 / l, dv_da * KP / ir / l, dv_da / l
    b[0] = -dv_da * KP / ir / l
    a[1, 0], a[1, 2] = 1 / cap, -1 / cap
    a[2, 1], a[2, 2] = 1 / l, (rci - r) / l
    a[3, 0], a[3, 3] = 1 / t_id_s, -1 / t_id_s
    a[4, 3], b[4] = ki / ir, -ki / ir
    return a, b


def _oscillatory(values, min_imag=1.0):
    v = values[values.imag > min_imag]
    return v[np.argsort(v.imag)]


def test_current_loop_poles_match_a_hand_model():
    case = read_case(str(CASES / "cigre_hvdc.h5"))
    # stiff AC systems; near-ideal constant gamma (no gamma lag, a very fast gamma PI)
    c = _with(_stiff(case), "lcc_control", t_gamma_s=0.0, k_p_g=500.0, k_i_g=1e5)
    a, *_ = _closed_loop(c)
    got = _oscillatory(np.linalg.eigvals(a))
    want = _oscillatory(np.linalg.eigvals(_hand_model()[0]))
    # the two complex pairs (current-control mode near 9 Hz, T-circuit resonance near 42 Hz);
    # tolerance 0.5 % of |lambda| (the power flow puts alpha at 14.996 deg, not 15)
    assert len(want) == 2 and len(got) == 2, (got, want)
    for g, w in zip(got, want):
        assert abs(g - w) < 5e-3 * abs(w), (g, w)


@pytest.fixture(scope="module")
def cigre():
    return read_case(str(CASES / "cigre_hvdc.h5"))


def test_linearization_predicts_the_current_step(cigre):
    """-10 % current-order step: the small-signal prediction against the nonlinear run."""
    t, y = _step(*_closed_loop(cigre))
    rise_lin, over_lin = _metrics(t, y / y[-1])
    r = simulate(cigre, [PowerOrderChange(1, 0.1, i_ka=1.8)],
                 SimOptions(t_end_s=0.5, dt_s=0.001))
    assert r.status == "completed", r.message
    m = r.t_s >= 0.1
    frac = (r.channel("conv/1/id_ka")[m] - 2.0) / (1.8 - 2.0)
    rise_sim, over_sim = _metrics(r.t_s[m] - 0.1, frac)
    # a 10 % step is not small (the converter equations are nonlinear in alpha and Id):
    # overshoot within 5 percentage points, rise time within 3 ms of the prediction
    assert abs(over_sim - over_lin) < 0.05, (over_sim, over_lin)
    assert abs(rise_sim - rise_lin) < 0.003, (rise_sim, rise_lin)
    # and the prediction itself: the overshoot is large with these gains (docs/hvdc.md)
    assert over_lin > 0.4


def test_overshoot_comes_from_the_pi_tuning(cigre):
    """Tripling the integral time of the current PI (everything else as shipped) brings the
    predicted overshoot below 20 %; halving both gains below 25 % (docs/hvdc.md table)."""
    slow = _with(cigre, "lcc_control", k_i_i=KP / (3 * TI_S))
    _, y = _step(*_closed_loop(slow), t_end_s=1.0)
    assert y.max() / y[-1] - 1.0 < 0.20
    half = _with(cigre, "lcc_control", k_p_i=KP / 2, k_i_i=KP / TI_S / 2)
    _, y = _step(*_closed_loop(half))
    assert y.max() / y[-1] - 1.0 < 0.25
