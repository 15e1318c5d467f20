"""Turbine-governor models TGOV1, HYGOV and IEEEG1 on the WSCC 9-bus case with classical machines.

Each test builds ``cases/wscc9.h5`` (GENCLS machines, Anderson & Fouad Example 2.6) and adds the
governor tables it needs.  Governor data are typical values (R = 5 % droop, PSS/E-style time
constants); they are test inputs, not reference results.  Reference numbers are derived by hand
in each test from the case data and the models' documented equations.
"""
from __future__ import annotations

import copy
import pathlib
from unittest import mock

import numpy as np
import pytest
from scipy.optimize import brentq

from casa_dyn.case import schema as S
from casa_dyn.case.case import normalize_table
from casa_dyn.case.validate import check_case
from casa_dyn.errors import ModelInitError
from casa_dyn.io import read_case
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.network.ybus import build_ybus
from casa_dyn.solver import channels
from casa_dyn.solver.events import LoadChange, SetpointChange
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from model_harness import (check_family_jacobian, check_system_jacobian, eval_local, family_local,
                           full_residual, perturbed_points)

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
GOVS = ("tgov1", "hygov", "ieeeg1")

TGOV1 = dict(r_pu=0.05, t1_s=0.5, v_max_pu=1.0, v_min_pu=0.0, t2_s=2.1, t3_s=7.0, dt_pu=0.1)
HYGOV = dict(r_pu=0.05, r_temp_pu=0.3, t_r_s=5.0, t_f_s=0.05, t_g_s=0.5, velm_pu_per_s=0.2,
             g_max_pu=1.0, g_min_pu=0.0, t_w_s=1.25, a_t=1.2, d_turb_pu=0.2, q_nl_pu=0.08)
IEEEG1 = dict(k=20.0, t1_s=0.3, t2_s=0.1, t3_s=0.1, u_o_pu_per_s=0.1, u_c_pu_per_s=-0.2,
              p_max_pu=1.0, p_min_pu=0.0, t4_s=0.3, k1=0.2, k2=0.1, t5_s=7.0, k3=0.3, k4=0.1,
              t6_s=0.5, k5=0.2, k6=0.1, t7_s=0.0, k7=0.0, k8=0.0)
DATA = {"tgov1": TGOV1, "hygov": HYGOV, "ieeeg1": IEEEG1}


def make_case(govs: dict, d_pu: float = 0.0, constant_power: bool = False):
    """wscc9 with ``govs = {model: (gen id, {column overrides})}``."""
    case = read_case(str(CASES / "wscc9.h5"))
    for model, (gen, over) in govs.items():
        row = {"id": [gen], "gen": [gen], **{k: [v] for k, v in {**DATA[model], **over}.items()}}
        case.tables[model] = normalize_table(S.get(model), row)
    case.tables["gencls"]["d_pu"][:] = d_pu
    if constant_power:  # P and Q independent of voltage in the dynamics
        for col in ("p_z", "p_i", "q_z", "q_i"):
            case.tables["load"][col][:] = 0.0
    return case


ALL = {"hygov": (1, {}), "tgov1": (2, {}), "ieeeg1": (3, {})}


@pytest.fixture(scope="module")
def wscc_gov():
    case = make_case(ALL)
    return case, build_system(case, solve_power_flow(case))


def run(case, events, t_end_s, extra=(), **opts):
    """``simulate`` that also records the named DAE variables (e.g. ``hygov/1/c``) as channels."""
    original = channels.plan

    def plan(sysm, patterns=()):
        sel, chans = original(sysm, patterns)
        idx = [sysm.names.index(v) for v in extra]
        chans = chans + [channels.Channel(v, "pu", "var", 0, (sel.size + k,), "scale", 1.0)
                         for k, v in enumerate(extra)]
        return np.concatenate([sel, np.array(idx, dtype=np.int64)]), chans

    with mock.patch.object(channels, "plan", plan):
        res = simulate(case, events, SimOptions(t_end_s=t_end_s, **opts))
    assert res.status == "completed", res.message
    return res


# ------------------------------------------------------------------ schema
def test_dyr_con_order_is_psse():
    # PSS/E CON order (PSS/E Model Library), as listed by PowerWorld's TGOV1 help page and
    # ANDES's psse-dyr.yaml (TGOV1, IEEEG1 after its two ICONs), ORNL GridKit's HYGOV and IEEEG1
    # parameter tables (after PowerWorld): DYR position k+1 holds the k-th name below
    expected = {
        "tgov1": ["r_pu", "t1_s", "v_max_pu", "v_min_pu", "t2_s", "t3_s", "dt_pu"],
        "hygov": ["r_pu", "r_temp_pu", "t_r_s", "t_f_s", "t_g_s", "velm_pu_per_s", "g_max_pu",
                  "g_min_pu", "t_w_s", "a_t", "d_turb_pu", "q_nl_pu"],
        "ieeeg1": ["k", "t1_s", "t2_s", "t3_s", "u_o_pu_per_s", "u_c_pu_per_s", "p_max_pu",
                   "p_min_pu", "t4_s", "k1", "k2", "t5_s", "k3", "k4", "t6_s", "k5", "k6",
                   "t7_s", "k7", "k8"],
    }
    for model, names in expected.items():
        cols = sorted((c.dyr, c.name) for c in S.get(model).columns if c.dyr is not None)
        assert [d for d, _ in cols] == list(range(1, len(names) + 1))
        assert [n for _, n in cols] == names


# ------------------------------------------------------------------ NumPy twins of the residuals
def _vals(f, z, names):
    return [z[f.col[:, f.spec.cols.index(n)]] for n in names]


def _par(f, names):
    return [f.p[:, f.pcol(n)] for n in names]


def twin_tgov1(f, z):
    x1, x2, pm, w = _vals(f, z, ("x1", "x2", "pm", "omega"))
    r, t1, vmax, vmin, t2, t3, dt, pref = _par(f, ("r_pu", "t1_s", "v_max_pu", "v_min_pu", "t2_s",
                                                   "t3_s", "dt_pu", "pref"))
    dw = w - 1.0
    u = (r * pref - dw) / r  # PSS/E form (Pref - dw)/R with Pref = R pref
    free = np.where(t1 > 0, (u - x1) / np.where(t1 > 0, t1, 1.0), np.clip(u, vmin, vmax) - x1)
    valve = np.where((f.ds[:, 0] != 0) & (t1 > 0), 0.0, free)
    ll = np.where(t3 > 0, (x1 - x2) / np.where(t3 > 0, t3, 1.0), x1 - x2)
    y = np.where(t3 > 0, (t2 * x1 + (t3 - t2) * x2) / np.where(t3 > 0, t3, 1.0), x1)
    return np.stack([valve, ll, y - dt * dw - pm], axis=1)


def twin_hygov(f, z):
    xf, c, g, q, pm, w = _vals(f, z, ("xf", "c", "g", "q", "pm", "omega"))
    R, r, tr, tf, tg, velm, gmax, gmin, tw, at, dturb, qnl, pref = _par(f, (
        "r_pu", "r_temp_pu", "t_r_s", "t_f_s", "t_g_s", "velm_pu_per_s", "g_max_pu", "g_min_pu",
        "t_w_s", "a_t", "d_turb_pu", "q_nl_pu", "pref"))
    dw = w - 1.0
    err = R * (pref / at + qnl) - dw - R * c
    dxf = (err - xf) / tf
    demand = (xf + tr * dxf) / (r * tr)  # (1 + s Tr)/(r Tr s) acting on the filter output
    rate = np.where(f.ds[:, 0] != 0, 0.0, np.minimum(np.maximum(demand, -velm), velm))
    servo = np.where(tg > 0, (c - g) / np.where(tg > 0, tg, 1.0), c - g)
    head = q * q / (g * g)
    return np.stack([dxf, rate, servo, (1.0 - head) / tw,
                     at * head * (q - qnl) - dturb * dw * g - pm], axis=1)


def twin_ieeeg1(f, z):
    xll, gv, x4, x5, x6, x7, pm, w = _vals(f, z, ("xll", "gv", "x4", "x5", "x6", "x7", "pm", "omega"))
    k, t1, t2, t3, uo, uc, pmax, pmin, t4, t5, t6, t7, pref = _par(f, (
        "k", "t1_s", "t2_s", "t3_s", "u_o_pu_per_s", "u_c_pu_per_s", "p_max_pu", "p_min_pu",
        "t4_s", "t5_s", "t6_s", "t7_s", "pref"))
    kk = np.stack(_par(f, ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8")), axis=1)
    inp = k * (w - 1.0)
    safe = lambda t: np.where(t > 0, t, 1.0)  # noqa: E731
    dll = np.where(t1 > 0, (inp - xll) / safe(t1), inp - xll)
    y = np.where(t1 > 0, xll + t2 / safe(t1) * (inp - xll), inp)
    p0 = pref / kk.sum(axis=1)
    rate = np.where(f.ds[:, 0] != 0, 0.0, np.clip((p0 - y - gv) / t3, uc, uo))
    lag = lambda u, x, t: np.where(t > 0, (u - x) / safe(t), u - x)  # noqa: E731
    out = (kk[:, 0] + kk[:, 1]) * x4 + (kk[:, 2] + kk[:, 3]) * x5 + (kk[:, 4] + kk[:, 5]) * x6 \
        + (kk[:, 6] + kk[:, 7]) * x7
    return np.stack([dll, rate, lag(gv, x4, t4), lag(x4, x5, t5), lag(x5, x6, t6), lag(x6, x7, t7),
                     out - pm], axis=1)


TWINS = {"tgov1": twin_tgov1, "hygov": twin_hygov, "ieeeg1": twin_ieeeg1}


@pytest.mark.parametrize("model", GOVS)
@pytest.mark.parametrize("flag", [0.0, 1.0, -1.0])
def test_kernel_matches_numpy_twin(wscc_gov, model, flag):
    _, sysm = wscc_gov
    sysm = copy.deepcopy(sysm)
    k, f = family_local(sysm, model)
    f.ds[:] = flag
    for z in perturbed_points(sysm, seed=11, n_points=4, scale=0.05):
        r, _ = eval_local(sysm, k, z, want_jac=False)
        np.testing.assert_allclose(r, TWINS[model](f, z), rtol=1e-12, atol=1e-12)


def test_twin_covers_zero_time_constant_paths(wscc_gov):
    # T1 = 0 (algebraic, clipped valve) in TGOV1, Tg = 0 in HYGOV, T1 = T2 = 0 in IEEEG1
    _, sysm = wscc_gov
    sysm = copy.deepcopy(sysm)
    for model, cols in (("tgov1", ("t1_s",)), ("hygov", ("t_g_s",)), ("ieeeg1", ("t1_s", "t2_s"))):
        k, f = family_local(sysm, model)
        for c in cols:
            f.p[:, f.pcol(c)] = 0.0
        for z in perturbed_points(sysm, seed=5, n_points=3, scale=0.05):
            r, _ = eval_local(sysm, k, z, want_jac=False)
            np.testing.assert_allclose(r, TWINS[model](f, z), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ Jacobians (harness)
def _rate_clipped(sysm, seed, scale):
    """Per point: (HYGOV gate-rate clip active, IEEEG1 valve-rate clip active, TGOV1 u beyond VMAX)."""
    out = []
    for z in perturbed_points(sysm, seed, 3, scale):
        fh = family_local(sysm, "hygov")[1]
        xf, c, w = _vals(fh, z, ("xf", "c", "omega"))
        R, r, tr, tf, velm, at, qnl, pref = _par(fh, ("r_pu", "r_temp_pu", "t_r_s", "t_f_s",
                                                      "velm_pu_per_s", "a_t", "q_nl_pu", "pref"))
        e = R * (pref / at + qnl) - (w - 1) - R * c
        hy = abs(((xf + tr * (e - xf) / tf) / (r * tr))[0]) > velm[0]
        fi = family_local(sysm, "ieeeg1")[1]
        rate = twin_ieeeg1(fi, z)[0, 1]
        ie = rate in (fi.p[0, fi.pcol("u_o_pu_per_s")], fi.p[0, fi.pcol("u_c_pu_per_s")])
        ft = family_local(sysm, "tgov1")[1]
        (w2,) = _vals(ft, z, ("omega",))
        u = ft.p[0, ft.pcol("pref")] - (w2[0] - 1) / ft.p[0, ft.pcol("r_pu")]
        out.append((hy, ie, u > ft.p[0, ft.pcol("v_max_pu")]))
    return out


def test_jacobians_inside_limits(wscc_gov):
    _, sysm = wscc_gov
    # tiny perturbations: every rate and position limit is inactive (asserted, then checked)
    assert not any(any(p) for p in _rate_clipped(sysm, seed=1, scale=1e-4))
    for m in GOVS:
        check_family_jacobian(sysm, m, seed=1, scale=1e-4)
        check_family_jacobian(sysm, m, seed=2)  # larger moves (rate clips may be active)


def test_jacobians_with_limits_active(wscc_gov):
    _, sysm = wscc_gov
    sysm = copy.deepcopy(sysm)
    # rate limits active: gate-rate and valve-rate demands far outside +-VELM / [Uc, Uo]
    z0 = sysm.z0
    z0[sysm.names.index("hygov/1/xf")] = 0.5
    z0[sysm.names.index("ieeeg1/3/gv")] += 0.1
    z0[sysm.names.index("gencls/2/omega")] = 0.9  # TGOV1 input u = pref + 2 > VMAX
    ft = family_local(sysm, "tgov1")[1]
    ft.p[:, ft.pcol("t1_s")] = 0.0  # algebraic valve: the VMAX clip acts in the residual
    assert all(all(p) for p in _rate_clipped(sysm, seed=3, scale=0.01))
    for m in GOVS:
        check_family_jacobian(sysm, m, seed=3, scale=0.01)
    # position limits active: non-windup flags set (frozen states)
    ft.p[:, ft.pcol("t1_s")] = TGOV1["t1_s"]
    for m in GOVS:
        family_local(sysm, m)[1].ds[:] = 1.0
        check_family_jacobian(sysm, m, seed=4)
        family_local(sysm, m)[1].ds[:] = -1.0
        check_family_jacobian(sysm, m, seed=5)


def test_system_jacobian_with_governors(wscc_gov):
    check_system_jacobian(wscc_gov[1], seed=6)


# ------------------------------------------------------------------ equilibrium and flat run
def test_initial_point_is_equilibrium(wscc_gov):
    _, sysm = wscc_gov
    rg, _ = full_residual(sysm)
    assert np.abs(rg).max() < 1e-10
    # pref is the initial mechanical power (pu machine base) for every model
    for m, (gen, _) in ALL.items():
        f = family_local(sysm, m)[1]
        pm0 = sysm.z0[sysm.units[f.unit[0]]["pm"]]
        assert f.p[0, f.pcol("pref")] == pytest.approx(pm0, abs=1e-12)


def test_flat_run_stays_flat(wscc_gov):
    case, _ = wscc_gov
    r = simulate(case, [], SimOptions(t_end_s=20.0))
    assert r.status == "completed"
    _, w = r.select("gen/*/speed_pu")
    _, v = r.select("bus/*/vm_pu")
    _, pm = r.select("gen/*/pm_mw")
    assert np.abs(w - 1.0).max() < 1e-6
    assert np.abs(v - v[0]).max() < 1e-5
    assert np.abs(pm - pm[0]).max() < 1e-5  # MW
    assert r.counters["limiter_changes"] == 0


@pytest.mark.parametrize("model, gen, column, over, words", [
    ("tgov1", 2, "v_max_pu", {"v_max_pu": 0.5}, "outside"),   # G2 starts at 163/192 = 0.85 pu
    ("hygov", 1, "g_max_pu", {"g_max_pu": 0.2}, "outside"),   # G1 needs gate 0.289/1.2 + 0.08 = 0.321
    ("ieeeg1", 3, "p_max_pu", {"p_max_pu": 0.6}, "outside"),  # G3 starts at 85/128 = 0.664 pu
    ("tgov1", 2, "t3_s", {"t3_s": 0.0}, "pure derivative"),   # lead without lag
    ("ieeeg1", 3, "t1_s", {"t1_s": 0.0}, "pure derivative"),
])
def test_unit_that_cannot_start_is_reported(model, gen, column, over, words):
    case = make_case({model: (gen, over)})
    with pytest.raises(ModelInitError) as err:
        build_system(case, solve_power_flow(case))
    msg = str(err.value)
    assert model in msg and column in msg and words in msg and f"id {gen}" in msg


@pytest.mark.parametrize("model, over, column", [
    ("tgov1", {"v_min_pu": 1.1}, "v_min_pu"),
    ("hygov", {"g_min_pu": 1.1}, "g_min_pu"),
    ("ieeeg1", {"p_min_pu": 1.1}, "p_min_pu"),
    ("ieeeg1", {f"k{i}": 0.0 for i in range(1, 9)}, "k1"),
])
def test_inconsistent_limits_are_case_errors(model, over, column):
    problems = check_case(make_case({model: (1, over)}))
    assert any(p.table == model and p.column == column for p in problems)


# ------------------------------------------------------------------ droop: steady-state frequency
def test_steady_state_frequency_after_load_step_equals_droop_calculation():
    """+12.5 MW at load 5 (constant-power loads, GENCLS D = 2 pu on each machine base).

    At a steady state every machine turns at w = 1 + dw and its swing equation (torque form,
    ``(pm - D dw)/w = pe``) gives, summed over the machines in MW,
        sum_i S_i pm_i - dw sum_i D_i S_i = w (P_load + P_loss).
    With the pre-step balance sum_i S_i pm_i0 = P_load0 + P_loss0 and the governors' steady-state
    laws (from their equations at zero derivatives)
        TGOV1:  d pm = -(1/R + Dt) dw
        IEEEG1: d pm = -sum(K) K dw
        HYGOV:  d pm = -(At/R) dw - Dturb dw (g0 - dw/R)
    dw is the root of
        sum_i S_i d pm_i(dw) - dw sum_i D_i S_i = (1 + dw)(dP_load + dP_loss) + dw (P_load0 + P_loss0).
    dP_loss (network losses, Re(V^H Y V)) is computed from the recorded bus voltages and the
    case's Y-bus.  To first order this is the textbook droop  df/f0 = -dP / sum_i S_i (1/R_i + D_i)
    with each governor's effective 1/R_i (1/R + Dt, sum(K) K, At/R + Dturb g0).
    """
    d_pu = 2.0
    case = make_case(ALL, d_pu=d_pu, constant_power=True)
    pf = solve_power_flow(case)
    sysm = build_system(case, pf)
    load = case["load"]
    k5 = int(np.flatnonzero(load["id"] == 5)[0])
    dp_load = 0.1 * load["p_mw"][k5]
    res = run(case, [LoadChange(5, 1.0, 1.1)], 240.0)
    w_end = res.select("gen/*/speed_pu")[1][-1]
    assert np.ptp(w_end) < 1e-9  # one common frequency at the end
    dw_sim = w_end.mean() - 1.0

    # network losses before and after, from the recorded voltages
    y = build_ybus(case).toarray()
    vm = res.select("bus/*/vm_pu")[1]
    va = np.radians(res.select("bus/*/va_deg")[1])
    v0, v1 = vm[0] * np.exp(1j * va[0]), vm[-1] * np.exp(1j * va[-1])
    loss = lambda v: case.base_mva * np.real(np.conj(v) @ (y @ v))  # noqa: E731
    dp_loss = loss(v1) - loss(v0)
    p_tot0 = load["p_mw"].sum() + loss(v0)

    mbase = dict(zip(case["generator"]["id"], case["generator"]["mbase_mva"]))
    t, h, ie = TGOV1, HYGOV, IEEEG1
    f_h = family_local(sysm, "hygov")[1]
    g0 = sysm.z0[f_h.col[0, f_h.spec.cols.index("g")]]
    ksum = sum(ie[f"k{i}"] for i in range(1, 9))

    def dpm_mw(dw):
        return (-mbase[2] * (1 / t["r_pu"] + t["dt_pu"]) * dw
                - mbase[3] * ksum * ie["k"] * dw
                - mbase[1] * (h["a_t"] / h["r_pu"] * dw + h["d_turb_pu"] * dw * (g0 - dw / h["r_pu"])))

    s_tot = sum(mbase.values())

    def balance(dw):
        return dpm_mw(dw) - dw * d_pu * s_tot - ((1 + dw) * (dp_load + dp_loss) + dw * p_tot0)

    dw_expected = brentq(balance, -0.05, 0.05, xtol=1e-15)
    first_order = -dp_load / (mbase[2] * (1 / t["r_pu"] + t["dt_pu"]) + mbase[3] * ksum * ie["k"]
                              + mbase[1] * (h["a_t"] / h["r_pu"] + h["d_turb_pu"] * g0) + d_pu * s_tot)
    print(f"dw: simulated {dw_sim:.7e}, derived {dw_expected:.7e}, first-order droop {first_order:.7e};"
          f" dP_loss {dp_loss:.4f} MW")
    # tolerance: 2e-4 relative (the run ends 239 s after the step; the slowest mode, HYGOV's
    # temporary-droop reset, has decayed below that by then)
    assert dw_sim == pytest.approx(dw_expected, rel=2e-4)
    # the first-order droop formula ignores losses and the 1/w of the torque form: within 3 %
    assert dw_sim == pytest.approx(first_order, rel=0.03)
    # every governor sits on its own droop line at the end (per unit: 1e-7 pu for the steam
    # units, which follow dw within seconds; 2e-4 relative for HYGOV, still resetting slowly)
    pm = {g: res.channel(f"gen/{g}/pm_mw") / mbase[g] for g in (1, 2, 3)}
    dwe = dw_sim
    assert pm[2][-1] - pm[2][0] == pytest.approx(-(1 / t["r_pu"] + t["dt_pu"]) * dwe, abs=1e-7)
    assert pm[3][-1] - pm[3][0] == pytest.approx(-ksum * ie["k"] * dwe, abs=1e-7)
    assert pm[1][-1] - pm[1][0] == pytest.approx(
        -(h["a_t"] / h["r_pu"]) * dwe - h["d_turb_pu"] * dwe * (g0 - dwe / h["r_pu"]), rel=2e-4)


# ------------------------------------------------------------------ HYGOV water column
def test_hygov_step_shows_non_minimum_phase_dip():
    """Pref +0.05 pu on the HYGOV unit (G1), TGOV1 on G2/G3 hold the frequency.

    When the gate opens the water column cannot accelerate at once: with the flow q frozen,
    h = (q/g)^2 falls, and pm = At h (q - qNL) moves by  d pm = -2 At (q0 - qNL)/g0 d g =
    -2 pm0/g0 d g  (h0 = 1, q0 = g0, Dturb = 0), i.e. opposite to the gate; only after ~Tw does
    the flow follow and pm rise to At dg (the classical -2 : 1 initial/final ratio at full load,
    Kundur 1994, sec. 9.1).
    """
    case = make_case({"hygov": (1, {"d_turb_pu": 0.0}), "tgov1": (2, {})}, d_pu=2.0)
    t_step = 1.0
    # a 1 ms step resolves the first instants after the step (the water column acts within ~Tw)
    res = run(case, [SetpointChange(1, t_step, "pref", 0.05)], 8.0, extra=("hygov/1/g",), dt_s=1e-3)
    t = res.t_s
    g = res.channel("hygov/1/g")
    pm = res.channel("gen/1/pm_mw") / case["generator"]["mbase_mva"][0]
    pm0, g0 = pm[0], g[0]
    after = t > t_step + 1e-9
    k_dip = np.argmin(np.where(after, pm, np.inf))
    t_dip, dip = t[k_dip], pm0 - pm[k_dip]
    early = after & (t <= t_dip)
    assert t_dip > t_step + 0.05 and dip > 1e-3
    assert np.all(np.diff(g[early]) > 0)       # the gate opens all along ...
    assert np.all(np.diff(pm[early]) < 0)      # ... while the power goes down
    # first instants: d pm / d g -> -2 pm0 / g0 while the flow has not moved; the flow's own
    # share grows like dq/dg ~ 2 t / (3 g0 Tw) (gate ~ t^2): ~0.3 % of the ratio at t = 1 ms,
    # plus the error of the backward-Euler half step after the event; tolerance 1 %
    first = np.flatnonzero(after)[:2]
    ratio = (pm[first] - pm0) / (g[first] - g0)
    assert ratio == pytest.approx(np.full(2, -2 * pm0 / g0), rel=0.01)
    # later the power rises above its initial value (the flow has caught up with the gate)
    assert pm[-1] > pm0 + 0.01
    print(f"HYGOV: pm0 {pm0:.4f} pu, g0 {g0:.4f}; dip {dip:.5f} pu at t = {t_dip - t_step:.3f} s after "
          f"the step; initial dpm/dg {ratio[0]:.4f} (hand: {-2 * pm0 / g0:.4f}); pm(8 s) {pm[-1]:.4f}")


# ------------------------------------------------------------------ limits hit and released
LIMITS = {
    # model: (gen, limited state, upper-limit column, (opening, closing) rate limits or None)
    "hygov": (1, "c", "g_max_pu", (HYGOV["velm_pu_per_s"], -HYGOV["velm_pu_per_s"])),
    "tgov1": (2, "x1", "v_max_pu", None),
    "ieeeg1": (3, "gv", "p_max_pu", (IEEEG1["u_o_pu_per_s"], IEEEG1["u_c_pu_per_s"])),
}


@pytest.mark.parametrize("model", GOVS)
def test_limit_holds_and_releases_as_soon_as_the_error_reverses(model):
    """Upper position limit 0.02 pu above the initial value; pref +0.5 pu at 1 s drives the
    state to the limit, where it must stay (non-windup: frozen, no overshoot); pref -1.0 pu at
    4 s reverses the error and the state must leave the limit at the next step (one step of
    latency: limiter flags change between steps)."""
    gen, state, col, rates = LIMITS[model]
    case0 = make_case({model: (gen, {})}, d_pu=2.0)
    sys0 = build_system(case0, solve_power_flow(case0))
    x0 = sys0.z0[sys0.names.index(f"{model}/{gen}/{state}")]
    lim = x0 + 0.02
    case = make_case({model: (gen, {col: lim})}, d_pu=2.0)
    t_up, t_down = 1.0, 4.0
    res = run(case, [SetpointChange(gen, t_up, "pref", 0.5), SetpointChange(gen, t_down, "pref", -1.0)],
              6.0, extra=(f"{model}/{gen}/{state}",))
    t, x = res.t_s, res.channel(f"{model}/{gen}/{state}")
    h = res.meta["dt_s"]
    assert x.max() <= lim + 1e-12                         # never beyond the limit
    at_lim = np.abs(x - lim) < 1e-12
    t_hit = t[np.argmax(at_lim)]
    assert t_up < t_hit < t_up + 1.0
    hold = (t >= t_hit) & (t <= t_down)
    assert np.all(at_lim[hold])                           # holds until the error reverses
    leave = t[(t > t_down) & ~at_lim][0]
    assert leave <= t_down + h + 1e-9                     # and leaves at the next step
    assert np.all(np.diff(x[(t > t_down) & (t < t_down + 0.1)]) < 0)
    assert res.counters["limiter_changes"] >= 2
    if rates is not None:
        # on the way up and down the rate limits set the slope exactly
        for window, rate in (((t > t_up + h) & (t < t_hit - h), rates[0]),
                             ((t > t_down + 2 * h) & (t < t_down + 0.1), rates[1])):
            slope = np.diff(x[window]) / np.diff(t[window])
            assert slope.size >= 3
            assert slope == pytest.approx(np.full(slope.size, rate), rel=1e-6)
    print(f"{model}: limit {lim:.4f} reached at {t_hit:.4f} s, left at {leave:.4f} s (reversal {t_down} s)")
