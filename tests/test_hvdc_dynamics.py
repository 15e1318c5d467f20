"""HVDC dynamics (casa_dyn/models/hvdc/): DC nodes, DC branches, LCC converters and their
controls and discrete logic, HVDC events and channels.

Reference values and their sources are named next to each assertion: "REF 6.x" is row x of
the table in REFERENCE.md section 6 (the CIGRE benchmark operating point, Szechtman et al.,
Electra 135, 1991, own calculation there); "QSS" the converter equations of REFERENCE.md 2.1
as coded by HVDC-A in casa_dyn.network.dc.qss (tested against hand values in
test_hvdc_steady.py).  Jacobians: analytic local Jacobian against central finite differences
(model_harness: |err| <= 2e-6 + 1e-5 |FD|) in every discrete mode.  Time-domain numbers (rise
time, overshoot, recovery time) have no published reference (REFERENCE.md 4.1: "no numeric
recovery times or overshoots could be extracted"); they are asserted as bands around the
values this model gives (reported in docs/hvdc.md) plus physical invariants.
"""
from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import pytest

from casa_dyn.case import schema as S
from casa_dyn.case.case import normalize_table
from casa_dyn.errors import ScenarioError
from casa_dyn.io.h5case import read_case
from casa_dyn.io.scenario import parse_scenario
from casa_dyn.models.hvdc import _lcc_core as C
from casa_dyn.models.hvdc._blocks import acos_sat, vdcol
from casa_dyn.network.dc import qss as Q
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.events import (
    BusFault, DcLineFault, ForcedCommutationFailure, PoleBlock, PowerOrderChange, check_events,
)
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from model_harness import check_family_jacobian, eval_local, family_local, full_residual, perturbed_points

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from hvdc_cases import bipole, three_terminal  # noqa: E402

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
DT = 0.005  # s, the HVDC step used throughout


def with_machines(case):
    """Stiff classical machines on every generator (HVDC-A's bipole / three-terminal builders
    have none; without a machine an AC island has no angle reference in the dynamics)."""
    g = case["generator"]["id"]
    c = case.copy()
    c.tables["gencls"] = normalize_table(S.get("gencls"), {
        "id": list(g), "gen": list(g), "h_s": [50.0] * len(g), "xdp_pu": [1e-3] * len(g)})
    return c


def with_control(case, conv_ids, **cols):
    c = case.copy()
    n = len(conv_ids)
    c.tables["lcc_control"] = normalize_table(S.get("lcc_control"), {
        "id": list(range(1, n + 1)), "conv": list(conv_ids), **{k: [v] * n for k, v in cols.items()}})
    return c


@pytest.fixture(scope="module")
def cigre():
    case = read_case(str(CASES / "cigre_hvdc.h5"))
    pf = solve_power_flow(case)
    return case, pf


@pytest.fixture(scope="module")
def bip():
    case = with_machines(bipole())
    return case, solve_power_flow(case)


@pytest.fixture(scope="module")
def tri():
    case = with_machines(three_terminal())
    return case, solve_power_flow(case)


def run(case_pf, events=(), t_end=1.0, dt=DT, **kw):
    case, pf = case_pf
    r = simulate(case, list(events), SimOptions(t_end_s=t_end, dt_s=dt, **kw), pf=pf)
    assert r.status == "completed", r.message
    return r


def at(r, name, t):
    """Channel value at the last record at or before t."""
    k = np.searchsorted(r.t_s, t + 1e-9) - 1
    return r.channel(name)[k]


# ====================================================================== blocks
def test_acos_sat_is_acos_inside_and_saturates_smoothly():
    # identity acos(x) = pi - 2 asin(sqrt((1+x)/2)); exact (1e-12) more than 40 ACOS_ROUND
    # from the ends, within 1e-6 rad down to 10 ACOS_ROUND
    for x in np.linspace(-0.99, 0.99, 41):
        tol = 1e-12 if abs(x) <= 0.96 else 1e-6
        assert acos_sat(x)[0] == pytest.approx(math.acos(x), abs=tol)
        h = 1e-7
        fd = (acos_sat(x + h)[0] - acos_sat(x - h)[0]) / (2 * h)
        assert acos_sat(x)[1] == pytest.approx(fd, rel=1e-5)
    assert acos_sat(-3.0)[0] == pytest.approx(math.pi) and acos_sat(3.0)[0] == pytest.approx(0.0)
    for x in (-1.002, -1.0, -0.999, 0.999, 1.0, 1.002):  # finite, matching slope at the ends
        h = 1e-8
        fd = (acos_sat(x + h)[0] - acos_sat(x - h)[0]) / (2 * h)
        assert np.isfinite(acos_sat(x)[1]) and acos_sat(x)[1] == pytest.approx(fd, rel=1e-4)


def test_vdcol_two_points():
    # REFERENCE.md 2.3 item 5 shape: (0.4 pu, 0.55), (0.9 pu, 1.0), flat outside
    assert vdcol(0.2, 0.4, 0.55, 0.9, 1.0) == (0.55, 0.0)
    assert vdcol(1.2, 0.4, 0.55, 0.9, 1.0) == (1.0, 0.0)
    v, s = vdcol(0.65, 0.4, 0.55, 0.9, 1.0)
    assert v == pytest.approx(0.775) and s == pytest.approx(0.9)


# ====================================================================== initial point
def test_cigre_initial_state_matches_the_benchmark(cigre):
    r = run(cigre, t_end=0.01)
    # REF 6.2 / 6.3: Vdr 504.98 kV, Vdi 495.00 kV (+-0.5 kV) at Id = 2 kA
    assert r.channel("conv/1/vd_kv")[0] == pytest.approx(504.98, abs=0.5)
    assert r.channel("conv/2/vd_kv")[0] == pytest.approx(495.00, abs=0.5)
    assert r.channel("conv/1/id_ka")[0] == pytest.approx(2.0, abs=1e-6)
    # REFERENCE.md 4.1: alpha = gamma = 15 deg (+-0.1); REF 6.5: overlap 23.19 deg (+-0.1)
    assert r.channel("conv/1/alpha_deg")[0] == pytest.approx(15.0, abs=0.1)
    assert r.channel("conv/2/gamma_deg")[0] == pytest.approx(15.0, abs=0.1)
    for c in (1, 2):
        assert r.channel(f"conv/{c}/mu_deg")[0] == pytest.approx(23.19, abs=0.1)
    # REF 6.4: P 1009.96 MW drawn by the rectifier, 990.0 MW delivered by the inverter (+-1)
    assert r.channel("conv/1/p_ac_mw")[0] == pytest.approx(1009.96, abs=1.0)
    assert r.channel("conv/2/p_ac_mw")[0] == pytest.approx(-990.0, abs=1.0)
    # mode codes: rectifier current control (1), inverter constant extinction angle (2)
    assert r.channel("conv/1/mode")[0] == 1 and r.channel("conv/2/mode")[0] == 2


@pytest.mark.parametrize("which", ["cigre", "bip", "tri"])
def test_initial_point_is_an_equilibrium(which, request):
    case, pf = request.getfixturevalue(which)
    rg, _ = full_residual(build_system(case, pf))
    assert np.abs(rg).max() < 1e-7


def test_flat_run_stays_flat(cigre):
    # issue 4: Id and Vd drift below 1e-5 pu over 10 s (bases 2 kA, 500 kV)
    r = run(cigre, t_end=10.0)
    for c in (1, 2):
        i, v = r.channel(f"conv/{c}/id_ka"), r.channel(f"conv/{c}/vd_kv")
        assert np.abs(i - i[0]).max() / 2.0 < 1e-5
        assert np.abs(v - v[0]).max() / 500.0 < 1e-5


# ====================================================================== Jacobians
def _lcc_variants(sysm):
    """(label, setter) pairs that put the converters into each discrete mode."""
    f = sysm.family("lcc")
    rect = np.flatnonzero(f.p[:, C.KIND] > 0)
    inv = np.flatnonzero(f.p[:, C.KIND] < 0)

    def ds(col, value, units):
        def set_():
            f.ds[units, col] = value
        return set_

    def p(col, value, units):
        def set_():
            f.p[units, col] = value
        return set_

    return [
        ("as built", []),
        ("rectifier at alpha_min", [ds(C.D_LIM, -1.0, rect)]),
        ("rectifier at alpha_max", [ds(C.D_LIM, 1.0, rect)]),
        ("inverter current control", [ds(C.D_SEL, C.SEL_CC, inv)]),
        ("inverter CEA", [ds(C.D_SEL, C.SEL_CEA, inv)]),
        ("inverter CV", [p(C.CVCTL, 1.0, inv), ds(C.D_SEL, C.SEL_CV, inv)]),
        ("inverter restart ramp", [p(C.VRAMP, 1.0, inv), ds(C.D_TVR, -0.1, inv),
                                   ds(C.D_SEL, C.SEL_VR, inv)]),
        ("commutation failure", [ds(C.D_CF, 1.0, inv)]),
        ("bypass", [ds(C.D_BYP, 1.0, inv)]),
        ("blocked", [ds(C.D_BLK, 1.0, rect)]),
        ("non-conducting", [ds(C.D_NC, 1.0, rect)]),
        ("non-conducting, pinned", [ds(C.D_NC, 1.0, inv), ds(C.D_PIN, 1.0, inv)]),
        ("power mode, VDCOL active", [p(C.MODE, C.MODE_POWER, rect), ds(C.D_OV0, 1000.0, rect),
                                      ds(C.D_OTGT, 1000.0, rect), p(C.VDH, 1.2, inv),
                                      p(C.VDH, 1.2, rect)]),
        ("VCMOD current mode", [p(C.MODE, C.MODE_POWER, rect), ds(C.D_CMODE, 1.0, rect)]),
    ]


@pytest.mark.parametrize("which", ["cigre", "bip", "tri"])
def test_jacobians_against_finite_differences_in_every_mode(which, request):
    case, pf = request.getfixturevalue(which)
    for label, setters in _lcc_variants(build_system(case, pf)):
        sysm = build_system(case, pf)
        for s in setters:
            s()
        try:
            check_family_jacobian(sysm, "lcc", seed=11)
        except AssertionError as e:
            raise AssertionError(f"{which}, {label}: {e}") from None
    sysm = build_system(case, pf)
    check_family_jacobian(sysm, "dc_node", seed=12)
    check_family_jacobian(sysm, "dc_branch", seed=13)
    sysm.family("dc_node").p[:, 3] = 2.0  # a DC fault conductance at every node
    check_family_jacobian(sysm, "dc_node", seed=14)


# ====================================================================== NumPy twin
def _twin_rows(sysm, z, u):
    """Independent NumPy evaluation of the converter rows of unit u (normal conduction,
    rectifier current control or inverter CEA): lags, integrators, alpha, overlap, DC
    voltage, P, Q (Kimbark), AC current drawn, DC-node injections."""
    f = sysm.family("lcc")
    P = dict(zip(f.spec.params + f.spec.extra, f.p[u]))
    Z = {n: z[f.col[u, j]] for j, n in enumerate(f.spec.cols)}
    k = P["kind"]
    n, xc, rc = P["n_bridges"], P["xc_ohm"], P["rc_ohm"]
    vac = np.hypot(Z["vr"], Z["vi"])
    eac = vac * P["ebas_kv"] * P["ratio"] / P["tap_pu"]
    vd0 = n * 3 * np.sqrt(2) / np.pi * eac
    a, mu, i = Z["alpha"], Z["mu"], Z["id"]
    vt = Z["v_p"] - Z["v_n"]
    e = vd0 * (np.cos(a) + np.cos(a + mu)) / 2
    gamma = np.pi - a - mu
    out = {
        "i_meas": (i - Z["i_meas"]) / P["t_id_s"],
        "v_meas": (vt - Z["v_meas"]) / P["t_vd_s"],
        "g_meas": (gamma - Z["g_meas"]) / P["t_gamma_s"],
        "mu": np.arccos(np.cos(a) - np.sqrt(2) * xc * i / eac) - a - mu,
        "id": k * (e - 2 * n * rc * i) - vt,
        "p": e * i - Z["p"],
        "q": n * 3 * eac ** 2 / (4 * np.pi * xc) * (2 * mu + np.sin(2 * a) - np.sin(2 * (a + mu))) - Z["q"],
    }
    s = Z["p"] - 1j * Z["q"]
    cur = s / np.conj(Z["vr"] + 1j * Z["vi"]) / P["s_base_mva"]
    out["ir"], out["ii"] = cur.real, cur.imag
    out["kcl_p"], out["kcl_n"] = k * i * P["scale_p"], -k * i * P["scale_n"]
    # current order at nominal voltage: the ramped order (current mode) or the VST's share
    # (capped by the VDCOL's upper level, 1 pu of rated current)
    iord = min(f.ds[u, C.D_OTGT] + P["k_aux"] * Z["paux"] / Z["v_meas"],
               P["vdcol_i_hi"] * P["i_rated_ka"]) if k > 0 else None
    if k > 0:
        e_i = (iord - Z["i_meas"]) / P["i_rated_ka"]
        out["alpha"] = Z["x_i"] - P["k_p_i"] * e_i - a
        out["x_i"] = P["k_i_i"] / P["k_p_i"] * (a - Z["x_i"])
    else:
        e_g = Z["g_meas"] - P["gamma_ord"]
        out["alpha"] = Z["x_g"] + P["k_p_g"] * e_g - a
        out["x_g"] = P["k_i_g"] / P["k_p_g"] * (a - Z["x_g"])
    return out


def test_kernel_matches_numpy_twin(cigre):
    case, pf = cigre
    sysm = build_system(case, pf)
    k, f = family_local(sysm, "lcc")
    # small perturbations: the CIGRE inverter runs 0.034 from the end of acos's range
    # (cos(alpha + mu) = -0.966), where the model rounds acos off (test above)
    for z in perturbed_points(sysm, seed=5, n_points=3, scale=0.002):
        r, _ = eval_local(sysm, k, z, want_jac=False)
        for u in range(f.n):
            tw = _twin_rows(sysm, z, u)
            for name, val in tw.items():
                got = r[u, f.spec.rows.index(name)]
                # 1e-9 relative (plus 1e-9 absolute for rows that are near zero)
                assert got == pytest.approx(val, rel=1e-9, abs=1e-9), (u, name)


def test_exact_q_equals_kimbark_p_tan_phi():
    """The kernel's Q = n 3 Eac^2/(4 pi Xc) (2 mu + sin 2a - sin 2(a+mu)) equals HVDC-A's
    P tan(phi) with Kimbark's power factor when mu satisfies the overlap equation (QSS)."""
    xc, n = 13.58, 2
    for a_deg, i_ka, eac in ((15.0, 2.0, 213.4), (40.0, 1.0, 200.0), (7.0, 3.0, 220.0)):
        a = math.radians(a_deg)
        mu = Q.overlap_rad(a, i_ka, xc, eac)[0]
        q_ref = Q.pq_ac(eac, a, i_ka, n, xc, 1)[1]
        q = n * 3 * eac ** 2 / (4 * math.pi * xc) * (2 * mu + math.sin(2 * a) - math.sin(2 * (a + mu)))
        assert q == pytest.approx(q_ref, rel=1e-10)


# ====================================================================== controls
def test_current_order_step(cigre):
    r = run(cigre, [PowerOrderChange(1, 0.5, i_ka=1.8)], t_end=1.5)
    t, i = r.t_s, r.channel("conv/1/id_ka")
    m = t >= 0.5
    frac = (i[m] - 2.0) / (1.8 - 2.0)
    rise = t[m][np.argmax(frac >= 0.9)] - t[m][np.argmax(frac >= 0.1)]
    overshoot = frac.max() - 1.0
    assert i[-1] == pytest.approx(1.8, abs=2e-4)   # the order, 0.01 % of rated
    # model numbers (docs/hvdc.md): 10-90 % rise 15 ms, overshoot 51 % at 5 ms steps; the
    # linearized closed loop predicts 19 ms and 55 % (test_hvdc_smallsignal.py checks the
    # 1 ms run against it and the loop's poles against a hand model of the benchmark)
    assert 0.005 <= rise <= 0.03 and 0.3 <= overshoot <= 0.7
    # new steady state obeys the QSS equations (REFERENCE.md 2.1) at the final AC voltages:
    # inverter at gamma 15 deg, rectifier alpha from Vdr = Vdi + R Id
    f = build_system(*cigre).family("lcc")
    vi = at(r, "bus/3/vm_pu", 1.5)
    vr = at(r, "bus/2/vm_pu", 1.5)
    u_r, u_i = 0, 1
    eac_i = vi * f.p[u_i, C.EBAS] * f.p[u_i, C.RATIO] / f.p[u_i, C.TAP]
    eac_r = vr * f.p[u_r, C.EBAS] * f.p[u_r, C.RATIO] / f.p[u_r, C.TAP]
    gamma = math.radians(at(r, "conv/2/gamma_deg", 1.5))
    vdi = Q.vd_kv(Q.vd0_kv(eac_i, 2), gamma, 1.8, 2, f.p[u_i, C.XC], 0.0, -1)[0]
    assert gamma == pytest.approx(math.radians(15.0), abs=1e-4)
    assert at(r, "conv/2/vd_kv", 1.5) == pytest.approx(vdi, abs=1e-3)
    assert at(r, "conv/1/vd_kv", 1.5) == pytest.approx(vdi + 5.0 * 1.8, abs=1e-3)
    cos_a = Q.angle_for_vd(vdi + 9.0, Q.vd0_kv(eac_r, 2), 1.8, 2, f.p[u_r, C.XC], 0.0, 1)
    assert math.radians(at(r, "conv/1/alpha_deg", 1.5)) == pytest.approx(math.acos(cos_a), abs=1e-5)


def test_step_size_convergence_of_the_current_step(cigre):
    """5 ms against 1 ms: the DC current trajectory agrees within 1 % of rated (20 A)."""
    ev = [PowerOrderChange(1, 0.5, i_ka=1.8)]
    a = run(cigre, ev, t_end=0.8, dt=0.005)
    b = run(cigre, ev, t_end=0.8, dt=0.001)
    ib = np.interp(a.t_s, b.t_s, b.channel("conv/1/id_ka"))
    assert np.abs(a.channel("conv/1/id_ka") - ib).max() < 0.02


def test_power_order_ramp_in_power_mode(cigre):
    case, _ = cigre
    c = case.copy()
    cv = dict(c.tables["lcc_converter"])
    cv["mode"] = np.array([1, 3])
    cv["p_set_mw"] = np.array([1009.96, 0.0])   # the rated point (REF 6.4): no tap moves
    c.tables["lcc_converter"] = cv
    pf = solve_power_flow(c)
    r = run((c, pf), [PowerOrderChange(1, 0.2, p_mw=900.0, ramp_per_s=500.0)], t_end=1.0)
    pdc = r.channel("conv/1/vd_kv") * r.channel("conv/1/id_ka")
    assert pdc[0] == pytest.approx(1009.96, abs=1e-3)   # the power order, at Vd Id
    assert r.channel("conv/1/id_ka")[0] == pytest.approx(2.0, abs=1e-3)
    assert at(r, "conv/1/vd_kv", 0.3) * at(r, "conv/1/id_ka", 0.3) == pytest.approx(960.0, abs=10.0)
    assert pdc[-1] == pytest.approx(900.0, abs=0.5)     # ramp 500 MW/s: done after 0.2 s


def test_auxiliary_power_modulation(cigre):
    # current mode: I = I_set + k_aux P_aux / Vd (REFERENCE.md 2.3 item 8), k_aux = 1; a
    # reduction (an increase above rated current is capped by the VDCOL's 1 pu level)
    r = run(cigre, [PowerOrderChange(1, 0.2, aux_mw=-50.0)], t_end=1.5)
    vd = r.channel("conv/1/vd_kv")  # = the measured voltage in steady state
    assert r.channel("conv/1/id_ka")[-1] == pytest.approx(2.0 - 50.0 / vd[-1], abs=1e-4)
    r = run(cigre, [PowerOrderChange(1, 0.2, aux_mw=50.0)], t_end=1.0)
    assert r.channel("conv/1/id_ka")[-1] == pytest.approx(2.0, abs=1e-4)


# ====================================================================== faults and logic
def _recovery(r, t_clear, p0, name="conv/2/p_ac_mw", frac=0.9):
    p = np.abs(r.channel(name))
    after = np.flatnonzero((r.t_s > t_clear) & (p >= frac * abs(p0)))
    return r.t_s[after[0]] - t_clear if len(after) else np.inf


def test_inverter_ac_fault_commutation_failure_vdcol_and_recovery(cigre):
    # bolted three-phase fault at the inverter AC bus for 100 ms (issue 4)
    r = run(cigre, [BusFault(3, 0.5, 0.6)], t_end=2.0)
    t = r.t_s
    during = (t > 0.5) & (t < 0.6)
    assert r.channel("conv/2/cf")[during].max() == 1.0           # commutation failure
    assert r.channel("conv/1/vdcol")[during].max() == 1.0        # VDCOL limits the order
    assert np.abs(r.channel("conv/2/p_ac_mw")[during]).max() < 50.0
    # the commutation failure's current surge (3.1 kA) pulls the weak rectifier AC bus (SCR
    # 2.5) below v_block_pu 0.6: the rectifier blocks during the fault and restarts after
    # t_block_s 0.1 s with the current ramp (i_restart_pu 0.1 at 5 pu/s) -- which is what
    # sets the recovery time (docs/hvdc.md)
    blk = t[r.channel("conv/1/blocked") > 0.5]
    assert len(blk) and 0.5 < blk[0] < 0.6 and blk[-1] - blk[0] >= 0.1 - DT - 1e-9
    rec = _recovery(r, 0.6, -990.0)
    assert rec < 0.5   # model number (docs/hvdc.md): 0.365 s to 90 % power after clearing
    for name in ("conv/1/id_ka", "conv/2/vd_kv", "conv/2/p_ac_mw"):
        x = r.channel(name)
        assert x[-1] == pytest.approx(x[0], rel=2e-3)


def test_forced_commutation_failure(cigre):
    r = run(cigre, [ForcedCommutationFailure(2, 0.5, duration_s=0.02)], t_end=2.5)
    k = np.flatnonzero(np.abs(r.t_s - 0.5) < 1e-12)[-1]   # t+
    assert r.channel("conv/2/cf")[k] == 1.0 and abs(r.channel("conv/2/vd_kv")[k]) < 1e-6
    assert r.channel("conv/2/p_ac_mw")[k] == pytest.approx(0.0, abs=1e-6)
    # one failure, then back to the pre-disturbance point (no limit cycle)
    assert _recovery(r, 0.52, -990.0) < 1.0
    assert r.channel("conv/2/p_ac_mw")[-1] == pytest.approx(-990.0, abs=0.5)


def test_fault_recovery_does_not_depend_on_the_step(cigre):
    """Recovery time after the inverter AC fault at 5 ms and 1 ms steps: within 20 ms."""
    rec = [_recovery(run(cigre, [BusFault(3, 0.5, 0.6)], t_end=1.5, dt=dt), 0.6, -990.0)
           for dt in (0.005, 0.001)]
    assert abs(rec[0] - rec[1]) < 0.02


def test_pole_block_on_a_bipole(bip):
    r = run(bip, [PoleBlock(11, 0.5)], t_end=1.0)
    p11, p12 = r.channel("conv/11/p_ac_mw"), r.channel("conv/12/p_ac_mw")
    t = r.t_s
    before = p11[0] + p12[0]
    one_step = np.searchsorted(t, 0.5 + DT + 1e-9)
    # the blocked pole draws nothing one step after the block; the AC side lost half
    assert np.abs(p11[one_step:]).max() < 1e-6
    assert r.channel("conv/21/id_ka")[one_step:].max() < 1e-9
    assert 0.4 < (p12[-1]) / before < 0.65
    # the other pole keeps running: current within 5 % of its order, current control
    i12 = r.channel("conv/12/id_ka")
    assert np.abs(i12 - 1.3).max() < 0.065 and r.channel("conv/12/mode")[-1] == 1
    assert r.channel("conv/11/blocked")[-1] == 1.0
    # why the remaining pole carries 57 % rather than 50 % (docs/hvdc.md): the filters of both
    # poles stay in, so the inverter AC bus rises and the constant-gamma inverter's DC
    # voltage with it -- the QSS equation Vdi = Vd0 cos(gamma) - n 3/pi Xc Id (REFERENCE.md
    # 2.1) at the final AC voltage and gamma gives its voltage to 1e-3 kV
    case, pf = bip
    f = build_system(case, pf).family("lcc")
    u = int(np.flatnonzero(case["lcc_converter"]["id"] == 22)[0])
    bus = int(case["lcc_converter"]["bus"][u])
    eac = at(r, f"bus/{bus}/vm_pu", 1.0) * f.p[u, C.EBAS] * f.p[u, C.RATIO] / f.p[u, C.TAP]
    gamma = math.radians(at(r, "conv/22/gamma_deg", 1.0))
    vdi = Q.vd_kv(Q.vd0_kv(eac, 2), gamma, at(r, "conv/22/id_ka", 1.0), 2, f.p[u, C.XC], 0.0, -1)[0]
    assert at(r, f"bus/{bus}/vm_pu", 1.0) > 1.1
    assert at(r, "conv/22/vd_kv", 1.0) == pytest.approx(vdi, abs=1e-3)


def test_pole_deblock_restarts(bip):
    r = run(bip, [PoleBlock(11, 0.5, t_deblock_s=1.0)], t_end=2.5)
    assert r.channel("conv/11/blocked")[-1] == 0.0
    assert r.channel("conv/11/id_ka")[-1] == pytest.approx(1.3, abs=1e-3)
    assert r.channel("conv/21/p_ac_mw")[-1] == pytest.approx(r.channel("conv/21/p_ac_mw")[0], rel=1e-3)


def test_dc_line_fault_restarts_after_deionization(cigre):
    case, _ = cigre
    t_deion = 0.15  # lcc_control default (REFERENCE.md has no value; HVDC-A's table)
    r = run(cigre, [DcLineFault(2, 0.5)], t_end=2.5)
    t, i = r.t_s, r.channel("conv/1/id_ka")
    zero = np.flatnonzero((t > 0.5) & (i < 1e-9))
    assert len(zero) and t[zero[0]] < 0.53                  # retard takes the current away
    back = np.flatnonzero((t > t[zero[0]]) & (i > 1e-3))[0]
    assert t[back] - t[zero[0]] >= t_deion                   # dead for the de-ionization time
    assert _recovery(r, 0.5, -990.0) < 1.0
    assert i[-1] == pytest.approx(2.0, abs=2e-3)
    assert r.channel("conv/1/blocked")[-1] == 0.0


def test_permanent_dc_line_fault_locks_out(cigre):
    r = run(cigre, [DcLineFault(2, 0.5, permanent=True)], t_end=2.5)
    i = r.channel("conv/1/id_ka")
    conducting = i > 1e-3
    restarts = np.count_nonzero(conducting[1:] & ~conducting[:-1])
    assert restarts == 2                                     # n_restarts default 2
    assert r.channel("conv/1/blocked")[-1] == 1.0 and i[-1] < 1e-9


def test_rectifier_ac_undervoltage_blocks_and_restarts(cigre):
    # fault at the rectifier AC bus: V < v_block 0.6 pu -> block (CDC4T VBLOCK semantics);
    # unblock after t_block 0.1 s once V > v_unblock 0.8 pu, then the current ramp
    r = run(cigre, [BusFault(2, 0.5, 0.6)], t_end=2.5)
    t, blk = r.t_s, r.channel("conv/1/blocked")
    on = t[blk > 0.5]
    assert on[0] == pytest.approx(0.5, abs=DT + 1e-9)
    assert on[-1] - on[0] >= 0.1 - DT - 1e-9   # (records every DT; the block began between)
    assert r.channel("conv/1/id_ka")[-1] == pytest.approx(2.0, abs=2e-3)


def test_three_terminal_balance_and_tap_fault(tri):
    r = run(tri, t_end=0.05)
    case, pf = tri
    # power balance at the DC terminals: sum(Vd Id) of rectifiers - inverters = line losses
    pdc = {int(c): r.channel(f"conv/{c}/vd_kv")[0] * r.channel(f"conv/{c}/id_ka")[0]
           for c in case["lcc_converter"]["id"]}
    br = case["dc_branch"]
    loss = sum(br["r_ohm"][k] * pf.dc.i_branch_ka[k] ** 2 for k in range(len(br["id"])))
    assert pdc[11] + pdc[12] - pdc[21] - pdc[22] - pdc[31] - pdc[32] == pytest.approx(loss, abs=1e-3)
    # bolted fault at the Kabul tap's AC bus for 100 ms: survived, Nowshera holds 500 kV
    bus = int(case["lcc_converter"]["bus"][2])
    r = run(tri, [BusFault(bus, 0.5, 0.6)], t_end=2.5)
    assert r.channel("conv/31/vd_kv")[-1] == pytest.approx(500.0, abs=0.5)
    assert r.channel("conv/21/id_ka")[-1] == pytest.approx(0.3, abs=1e-3)
    assert r.channel("conv/21/cf")[(r.t_s > 0.5) & (r.t_s < 0.6)].max() == 1.0


def test_runs_are_deterministic(cigre):
    a = run(cigre, [BusFault(3, 0.5, 0.6)], t_end=1.0)
    b = run(cigre, [BusFault(3, 0.5, 0.6)], t_end=1.0)
    assert np.array_equal(a.data, b.data) and np.array_equal(a.t_s, b.t_s)


# ====================================================================== events, scenarios
def test_event_validation_names_the_problem(cigre):
    case, _ = cigre
    bad = [(PowerOrderChange(9, 0.1, i_ka=1.0), "does not exist"),
           (PowerOrderChange(1, 0.1, p_mw=900.0), "its order is i_ka"),
           (ForcedCommutationFailure(1, 0.1), "rectifier"),
           (DcLineFault(1, 0.1), "no capacitance"),
           (DcLineFault(4, 0.1), "solidly grounded"),
           (PoleBlock(1, 0.5, t_deblock_s=0.4), "not after")]
    for ev, msg in bad:
        with pytest.raises(ScenarioError, match=msg):
            check_events(case, [ev], 1.0)


def test_scenario_toml_event_types():
    doc = {"event": [
        {"type": "power_order_change", "conv": 1, "t_s": 0.5, "i_ka": 1.8},
        {"type": "pole_block", "conv": 11, "t_s": 0.5, "t_deblock_s": 1.0, "bipole": False},
        {"type": "dc_line_fault", "node": 2, "t_s": 0.5, "r_ohm": 0.5, "permanent": True},
        {"type": "forced_commutation_failure", "conv": 2, "t_s": 0.5}]}
    sc = parse_scenario(doc)
    assert [type(e).__name__ for e in sc.events] == [
        "PowerOrderChange", "PoleBlock", "DcLineFault", "ForcedCommutationFailure"]
    assert sc.events[2].permanent is True and sc.events[0].i_ka == 1.8


def test_channels_and_dc_node_voltages(cigre):
    r = run(cigre, t_end=0.01)
    names = set(r.names)
    for q in ("alpha_deg", "gamma_deg", "mu_deg", "vd_kv", "id_ka", "p_ac_mw", "q_ac_mvar",
              "mode", "vdcol", "blocked", "bypassed", "cf"):
        assert f"conv/1/{q}" in names and f"conv/2/{q}" in names
    # mid-point = rectifier pole - R/2 Id (2.5 ohm x 2 kA): 500 kV (REFERENCE.md 4.1)
    assert r.channel("dcnode/2/v_kv")[0] == pytest.approx(r.channel("dcnode/1/v_kv")[0] - 5.0, abs=1e-6)
    # Q consistent with the power flow (Kimbark's power factor, REFERENCE.md 2.1)
    case, pf = cigre
    assert r.channel("conv/1/q_ac_mvar")[0] == pytest.approx(pf.dc.q_ac_mvar[0], abs=1e-6)
