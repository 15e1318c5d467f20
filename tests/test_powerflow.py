"""AC power flow: textbook solution, reactive limits, islands, out-of-service elements, phase
shifters, failures, both LU backends, synthetic grids.

Every converged power flow is passed through ``pf_physics.check_physics`` (bus balances with
branch flows recomputed independently of casa_dyn.network, losses = total injection, set-points).
Tolerances: the solver runs at its default 1e-8 pu (1e-6 MW on 100 MVA); comparisons between two
power flows of the same physics use 1e-9 pu / 1e-7 MW.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from casa_dyn.case.case import Case
from casa_dyn.network.synthetic import synthetic_grid
from casa_dyn.case.validate import check_case, islands
from casa_dyn.errors import CasaDynError, CaseError, PowerFlowError
from casa_dyn.network import _newton
from casa_dyn.network.powerflow import PowerFlowOptions, _prepare, solve_power_flow
from casa_dyn.network.ybus import build_ybus

from pf_physics import check_physics

BACKENDS = ("klu", "superlu")


# ----------------------------------------------------------------------------- cases
def wscc9_tables() -> dict:
    """WSCC 3-machine 9-bus system, Anderson & Fouad, "Power System Control and Stability",
    Example 2.6 / Fig. 2.18 (data also in REFERENCE.md section 4.3); 100 MVA, 60 Hz."""
    return {
        "bus": {"id": list(range(1, 10)), "base_kv": [16.5, 18.0, 13.8] + [230.0] * 6,
                "type": [3, 2, 2, 1, 1, 1, 1, 1, 1]},
        "line": {"id": [1, 2, 3, 4, 5, 6], "from_bus": [4, 4, 5, 6, 7, 8],
                 "to_bus": [5, 6, 7, 9, 8, 9],
                 "r_pu": [0.010, 0.017, 0.032, 0.039, 0.0085, 0.0119],
                 "x_pu": [0.085, 0.092, 0.161, 0.170, 0.072, 0.1008],
                 "b_pu": [0.176, 0.158, 0.306, 0.358, 0.149, 0.209]},
        "transformer": {"id": [1, 2, 3], "from_bus": [1, 2, 3], "to_bus": [4, 7, 9],
                        "x_pu": [0.0576, 0.0625, 0.0586]},
        "generator": {"id": [1, 2, 3], "bus": [1, 2, 3], "p_mw": [0.0, 163.0, 85.0],
                      "vm_set_pu": [1.04, 1.025, 1.025], "mbase_mva": [247.5, 192.0, 128.0]},
        "load": {"id": [1, 2, 3], "bus": [5, 6, 8], "p_mw": [125.0, 90.0, 100.0],
                 "q_mvar": [50.0, 30.0, 35.0]},
    }


def make(tables, name="t", freq_hz=60.0) -> Case:
    return Case.from_tables(name, tables, base_mva=100.0, freq_hz=freq_hz)


def wscc9(edit=None) -> Case:
    t = wscc9_tables()
    if edit:
        edit(t)
    return make(t, "wscc9")


def four_bus_tables(qa=(-999.0, 999.0), qb=(-999.0, 999.0), offset=0, va_slack=0.0) -> dict:
    """Slack 1, generator A at bus 2 (set-point 1.05), generator B at bus 3 (0.97), load at 4."""
    ids = [offset + i for i in (1, 2, 3, 4)]
    return {
        "bus": {"id": ids, "base_kv": [230.0] * 4, "type": [3, 2, 2, 1],
                "va_deg": [va_slack, 0, 0, 0]},
        "line": {"id": [offset + k for k in (1, 2, 3, 4, 5)],
                 "from_bus": [ids[0], ids[1], ids[1], ids[2], ids[0]],
                 "to_bus": [ids[1], ids[2], ids[3], ids[3], ids[3]],
                 "r_pu": [0.01, 0.005, 0.01, 0.01, 0.02], "x_pu": [0.1, 0.05, 0.1, 0.1, 0.2]},
        "generator": {"id": [offset + 1, offset + 2, offset + 3], "bus": ids[:3],
                      "p_mw": [0.0, 50.0, 20.0], "vm_set_pu": [1.0, 1.05, 0.97],
                      "q_min_mvar": [-999.0, qa[0], qb[0]], "q_max_mvar": [999.0, qa[1], qb[1]]},
        "load": {"id": [offset + 1], "bus": [ids[3]], "p_mw": [100.0], "q_mvar": [50.0]},
    }


def solve(case, enforce_q_limits=True, **kw):
    res = solve_power_flow(case, PowerFlowOptions(enforce_q_limits=enforce_q_limits, **kw))
    check_physics(case, res, enforce_q_limits=enforce_q_limits)
    return res


# ----------------------------------------------------------------------------- textbook
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("flat_start", [False, True])
def test_wscc9_textbook_solution(backend, flat_start):
    res = solve(wscc9(), backend=backend, flat_start=flat_start)
    # REFERENCE.md section 6 row 20 (Anderson & Fouad; reproduced there): +-0.05 MW / Mvar
    assert res.gen_p_mw[0] == pytest.approx(71.64, abs=0.05)
    assert res.gen_q_mvar == pytest.approx([27.05, 6.65, -10.86], abs=0.05)
    assert res.gen_p_mw[1:] == pytest.approx([163.0, 85.0], abs=1e-9)  # scheduled
    # Anderson & Fouad Fig. 2.18, printed to 3 decimals in pu and 1 decimal in degrees
    vm = [1.040, 1.025, 1.025, 1.026, 0.996, 1.013, 1.026, 1.016, 1.032]
    va = [0.0, 9.3, 4.7, -2.2, -4.0, -3.7, 3.7, 0.7, 2.0]
    assert res.vm_pu == pytest.approx(vm, abs=5e-4)
    assert res.va_deg == pytest.approx(va, abs=0.05)
    assert res.iterations <= 5  # Newton from 1 pu: quadratic convergence in a few steps
    assert list(res.bus_type) == [3, 2, 2, 1, 1, 1, 1, 1, 1]
    assert res.max_mismatch_pu <= 1e-8


def test_backends_give_the_same_solution():
    for case in (wscc9(), synthetic_grid(500, seed=4)):
        a, b = (solve(case, backend=k) for k in BACKENDS)
        assert a.iterations == b.iterations
        assert np.max(np.abs(a.v_complex() - b.v_complex())) <= 1e-9
        assert np.max(np.abs(a.gen_q_mvar - b.gen_q_mvar)) <= 1e-6


def test_jacobian_matches_finite_differences():
    # a phase shifter and an off-nominal tap make Y-bus unsymmetric
    def edit(t):
        t["transformer"]["shift_deg"] = [0.0, 7.0, 0.0]
        t["transformer"]["ratio_pu"] = [1.0, 1.0, 1.03]
    case = wscc9(edit)
    pat = _newton.jacobian_pattern(build_ybus(case, _prepare(case).br))
    rng = np.random.default_rng(0)
    vm, va = rng.uniform(0.9, 1.1, 9), rng.uniform(-0.3, 0.3, 9)

    def s_of(vm, va):
        v = vm * np.exp(1j * va)
        return v * np.conj(pat.ybus @ v)

    v = vm * np.exp(1j * va)
    data = _newton.jacobian_values(pat, v, vm, pat.ybus @ v)
    jac = sp.csc_matrix((data, pat.indices, pat.indptr), shape=(18, 18)).toarray()
    h = 1e-6
    fd = np.zeros((18, 18))
    for j in range(9):  # central differences, error O(h^2) ~ 1e-12
        for k, (dva, dvm) in enumerate(((h, 0.0), (0.0, h))):
            e = np.zeros(9)
            e[j] = 1.0
            ds = (s_of(vm + dvm * e, va + dva * e) - s_of(vm - dvm * e, va - dva * e)) / (2 * h)
            fd[0::2, 2 * j + k] = ds.real
            fd[1::2, 2 * j + k] = ds.imag
    assert np.max(np.abs(jac - fd)) <= 1e-7
    # every structural nonzero of the derivative is inside the fixed pattern
    assert np.all(jac[np.abs(fd) > 1e-9] != 0)


# ----------------------------------------------------------------------------- reactive limits
def test_pv_to_pq_at_upper_limit_equals_fixed_injection():
    def cap(t):
        t["generator"]["q_max_mvar"] = [999.0, 5.0, 999.0]
    res = solve(wscc9(cap))
    assert res.gen_q_mvar[1] == pytest.approx(5.0, abs=1e-6)   # unlimited: 6.65 Mvar
    assert res.bus_type[1] == 1 and res.vm_pu[1] < 1.025       # can no longer hold 1.025
    assert "1 generator bus(es) held at reactive limits" in res.message

    def fixed(t):  # the same physics written as a PQ bus with a fixed 5 Mvar generator
        t["bus"]["type"][1] = 1
        t["generator"]["q_mvar"] = [0.0, 5.0, 0.0]
    ref = solve(wscc9(fixed))
    assert np.max(np.abs(res.v_complex() - ref.v_complex())) <= 1e-9
    # without enforcement the limit is ignored
    free = solve(wscc9(cap), enforce_q_limits=False)
    assert free.gen_q_mvar[1] == pytest.approx(6.65, abs=0.05) and free.bus_type[1] == 2


def test_pv_to_pq_at_lower_limit():
    def cap(t):
        t["generator"]["q_min_mvar"] = [-999.0, -999.0, -5.0]
    res = solve(wscc9(cap))
    assert res.gen_q_mvar[2] == pytest.approx(-5.0, abs=1e-6)  # unlimited: -10.86 Mvar
    assert res.bus_type[2] == 1 and res.vm_pu[2] > 1.025       # absorbs less: voltage rises


@pytest.mark.parametrize("backend", BACKENDS)
def test_pq_back_to_pv(backend):
    # Unlimited: A gives +287 Mvar, B absorbs 169.  First pass: both violate (A above 250,
    # B below -10) and both are held.  With B absorbing only 10 Mvar, A at 250 Mvar would
    # push its bus above the 1.05 set-point, so A must return to PV.
    case = make(four_bus_tables(qa=(-999.0, 250.0), qb=(-10.0, 999.0)), freq_hz=50.0)
    res = solve(case, backend=backend)
    assert list(res.bus_type) == [3, 2, 1, 1]
    assert res.vm_pu[1] == pytest.approx(1.05, abs=1e-12)
    assert res.gen_q_mvar[2] == pytest.approx(-10.0, abs=1e-5)
    assert res.gen_q_mvar[1] < 250.0

    # the state the switch-back left: both held at their limits puts A above its set-point
    t = four_bus_tables()
    t["bus"]["type"] = [3, 1, 1, 1]
    t["generator"]["q_mvar"] = [0.0, 250.0, -10.0]
    both_held = solve(make(t, freq_hz=50.0))
    assert both_held.vm_pu[1] > 1.05
    # and the final state is B alone held
    t["bus"]["type"] = [3, 2, 1, 1]
    only_b = solve(make(t, freq_hz=50.0))
    assert np.max(np.abs(only_b.v_complex() - res.v_complex())) <= 1e-7


def test_several_generators_on_one_bus_share_by_q_range():
    def split(t):  # bus 2 gets two units of 100 + 63 MW; the slack two units of mbase 2:1
        g = t["generator"]
        g["id"], g["bus"] = [1, 4, 2, 5, 3], [1, 1, 2, 2, 3]
        g["p_mw"] = [0.0, 0.0, 100.0, 63.0, 85.0]
        g["vm_set_pu"] = [1.04, 1.04, 1.025, 1.025, 1.025]
        g["mbase_mva"] = [200.0, 100.0, 120.0, 80.0, 128.0]
        g["q_min_mvar"] = [-999.0, -999.0, -20.0, -10.0, -999.0]
        g["q_max_mvar"] = [999.0, 999.0, 80.0, 290.0, 999.0]
    res = solve(wscc9(split))
    base = solve(wscc9())
    assert np.max(np.abs(res.v_complex() - base.v_complex())) <= 1e-9  # same bus totals
    # slack P shared 2:1 by mbase
    assert res.gen_p_mw[[0, 1]] == pytest.approx(base.gen_p_mw[0] * np.array([2, 1]) / 3, abs=1e-9)
    # bus-2 Q: every unit at the same fraction of its own range (ranges 100 and 300 Mvar)
    q_bus = base.gen_q_mvar[1]
    frac = (q_bus - (-30.0)) / 400.0
    expected = [-20.0 + 100 * frac, -10.0 + 300 * frac]
    assert res.gen_q_mvar[[2, 3]] == pytest.approx(expected, abs=1e-7)

    def tight(t):  # summed limit 2 + 3 = 5 Mvar < 6.65: both units at their own maximum
        split(t)
        t["generator"]["q_max_mvar"] = [999.0, 999.0, 2.0, 3.0, 999.0]
    held = solve(wscc9(tight))
    assert held.gen_q_mvar[[2, 3]] == pytest.approx([2.0, 3.0], abs=1e-6)
    assert held.bus_type[1] == 1


# ----------------------------------------------------------------------------- topology
def test_two_islands_each_with_its_own_slack():
    a, b = wscc9(), make(four_bus_tables(offset=100, va_slack=10.0))
    case = make({name: {col: np.concatenate([a[name][col], b[name][col]]) for col in a[name]}
                 for name in a.tables})
    assert islands(case)[1] == 2
    both = solve(case)
    alone_a, alone_b = solve(wscc9()), solve(make(four_bus_tables(offset=100, va_slack=10.0)))
    assert np.max(np.abs(both.v_complex()[:9] - alone_a.v_complex())) <= 1e-9
    assert np.max(np.abs(both.v_complex()[9:] - alone_b.v_complex())) <= 1e-9
    assert both.va_deg[9] == 10.0
    assert both.losses_mw == pytest.approx(alone_a.losses_mw + alone_b.losses_mw, abs=1e-7)


def test_isolated_bus_gets_zero_voltage_and_its_branch_no_flow():
    def add(t):
        t["bus"]["id"].append(10)
        t["bus"]["base_kv"].append(230.0)
        t["bus"]["type"].append(4)
        for col, val in (("id", 7), ("from_bus", 9), ("to_bus", 10), ("r_pu", 0.01),
                         ("x_pu", 0.1), ("b_pu", 0.2)):
            t["line"][col].append(val)
    res = solve(wscc9(add))
    assert res.vm_pu[9] == 0 and res.va_deg[9] == 0 and res.bus_type[9] == 4
    assert res.branch_p_from_mw[6] == 0 and res.branch_q_to_mvar[6] == 0
    assert np.max(np.abs(res.v_complex()[:9] - solve(wscc9()).v_complex())) <= 1e-10


def test_out_of_service_branch_and_generator_equal_removal():
    def switch_off(t):
        t["line"]["in_service"] = [1, 1, 1, 0, 1, 1]          # line 6-9
        t["generator"]["in_service"] = [1, 1, 0]              # bus 3 loses its unit
        t["load"]["in_service"] = [1, 1, 0]                   # and bus 8 its load

    def remove(t):
        for col in t["line"]:
            del t["line"][col][3]
        for col in t["generator"]:
            del t["generator"][col][2]
        for col in t["load"]:
            del t["load"][col][2]
        t["bus"]["type"][2] = 1
    off, gone = solve(wscc9(switch_off)), solve(wscc9(remove))
    assert np.max(np.abs(off.v_complex() - gone.v_complex())) <= 1e-10
    assert off.bus_type[2] == 1                                # type-2 bus without a unit is PQ
    assert off.gen_p_mw[2] == 0 and off.gen_q_mvar[2] == 0
    assert off.branch_p_from_mw[3] == 0 and off.branch_p_to_mw[3] == 0
    assert off.losses_mw == pytest.approx(gone.losses_mw, abs=1e-9)


def test_phase_shifting_transformer():
    shift, ratio = 10.0, 1.02

    def pst(t):
        t["transformer"]["shift_deg"] = [0.0, shift, 0.0]
        t["transformer"]["ratio_pu"] = [1.0, ratio, 1.0]
    res = solve(wscc9(pst))
    # bus 2 is fed only through transformer 2-7 (r = 0): its flow is the scheduled 163 MW, and
    # for an ideal ratio a*e^{j phi} behind x the power-angle law gives
    # P = V2 V7 sin(th2 - phi - th7) / (a x)   (from side leads by phi)
    k = 6 + 1
    x = 0.0625
    assert res.branch_p_from_mw[k] == pytest.approx(163.0, abs=1e-6)
    v2, v7 = res.vm_pu[1], res.vm_pu[6]
    d = math.radians(res.va_deg[1] - shift - res.va_deg[6])
    assert 100.0 * v2 * v7 * math.sin(d) / (ratio * x) == pytest.approx(163.0, abs=1e-6)
    assert res.branch_p_to_mw[k] == pytest.approx(-163.0, abs=1e-6)   # lossless


# ----------------------------------------------------------------------------- failures
def test_load_beyond_transfer_capacity_fails_with_location():
    def heavy(t):
        t["load"]["p_mw"] = [2500.0, 90.0, 100.0]
    with pytest.raises(PowerFlowError) as info:
        solve_power_flow(wscc9(heavy))
    msg = str(info.value)
    res = info.value.result
    assert not res.converged
    assert "did not converge" in msg and f"after {res.iterations} iterations" in msg
    assert f"at bus {res.worst_bus_id}" in msg
    assert ("MW" in msg) or ("Mvar" in msg)
    assert res.worst_bus_id in range(1, 10)
    quiet = solve_power_flow(wscc9(heavy), raise_on_failure=False)
    assert not quiet.converged and quiet.message == msg


def test_iteration_limit_reports_largest_mismatch():
    res = solve_power_flow(wscc9(), PowerFlowOptions(max_iter=1, flat_start=True),
                           raise_on_failure=False)
    assert not res.converged and res.iterations == 1
    assert "no convergence within max_iter" in res.message
    unit = "MW" if "MW at bus" in res.message else "Mvar"
    assert f"{res.max_mismatch_pu * 100:.4g} {unit} at bus {res.worst_bus_id}" in res.message
    assert res.max_mismatch_pu > 1e-8


def test_divergence_is_detected_cleanly():
    def absurd(t):
        t["load"]["p_mw"] = [1e6, 90.0, 100.0]
    res = solve_power_flow(wscc9(absurd), raise_on_failure=False)
    assert not res.converged and "diverged at iteration" in res.message
    assert np.all(np.isfinite(res.vm_pu)) and np.isfinite(res.max_mismatch_pu)


def test_island_without_slack_is_a_case_error():
    def no_slack(t):
        t["bus"]["type"][0] = 2
    with pytest.raises(CaseError, match="no slack bus"):
        solve_power_flow(wscc9(no_slack))


def test_unusable_case_data_is_a_located_case_error():
    def zero_impedance(t):
        t["line"]["r_pu"][0], t["line"]["x_pu"][0] = 0.0, 0.0
    with pytest.raises(CaseError, match=r"table 'line', row 0 \(id 1\), column 'x_pu'"):
        solve_power_flow(wscc9(zero_impedance))

    def dangling(t):
        t["load"]["bus"][0] = 77
    with pytest.raises(CaseError, match="refers to bus 77"):
        solve_power_flow(wscc9(dangling))


def test_bad_options_are_user_errors():
    with pytest.raises(PowerFlowError, match="tol_pu"):
        PowerFlowOptions(tol_pu=0.0)
    with pytest.raises(PowerFlowError, match="max_iter"):
        PowerFlowOptions(max_iter=0)
    with pytest.raises(CasaDynError, match="backend"):
        solve_power_flow(wscc9(), PowerFlowOptions(backend="pardiso"))


def test_to_dict_is_json():
    case = wscc9()
    res = solve(case)
    out = json.loads(json.dumps(res.to_dict(case)))
    assert out["converged"] is True and len(out["buses"]) == 9
    assert out["buses"][4] == {"id": 5, "vm_pu": res.vm_pu[4], "va_deg": res.va_deg[4]}
    assert out["generators"][0]["p_mw"] == res.gen_p_mw[0]
    assert [b["table"] for b in out["branches"]] == ["line"] * 6 + ["transformer"] * 3
    assert out["branches"][6]["from_bus"] == 1 and out["branches"][6]["to_bus"] == 4
    assert out["losses_mw"] == res.losses_mw


# ----------------------------------------------------------------------------- synthetic grids
def test_synthetic_grid_is_deterministic_and_plausible():
    a, b = synthetic_grid(1000, seed=7), synthetic_grid(1000, seed=7)
    assert a.content_hash() == b.content_hash()
    assert synthetic_grid(1000, seed=8).content_hash() != a.content_hash()
    assert a.n("bus") == 1000 and check_case(a) == []
    assert islands(a)[1] == 1
    g, ld = a["generator"], a["load"]
    assert 5 <= a.n("bus") / a.n("generator") <= 10
    assert np.all(g["mbase_mva"] >= g["p_max_mw"])
    assert np.all((g["p_mw"] >= g["p_min_mw"]) & (g["p_mw"] <= g["p_max_mw"]))
    assert 1.0 < g["p_mw"].sum() / ld["p_mw"].sum() < 1.03   # generation a bit above load
    assert set(a["bus"]["base_kv"]) == {18.0, 22.0, 230.0, 500.0}
    assert a.n("transformer") > 0 and np.sum(a["bus"]["type"] == 3) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_synthetic_1k_solves_from_flat_start_in_few_iterations(backend):
    case = synthetic_grid(1000, seed=0)
    res = solve(case, flat_start=True, backend=backend)
    assert res.iterations <= 5
    # the dispatch covers the losses: the slack unit stays near its planned output
    g = case["generator"]
    at_slack = np.isin(g["bus"], case["bus"]["id"][case["bus"]["type"] == 3])
    planned = g["p_mw"][at_slack].sum()
    assert abs(res.gen_p_mw[at_slack].sum() - planned) < 0.05 * planned
    assert 0.95 < res.vm_pu.min() and res.vm_pu.max() < 1.06


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_bus=st.integers(min_value=12, max_value=250), seed=st.integers(0, 10_000))
def test_random_synthetic_grids_balance_power(n_bus, seed):
    case = synthetic_grid(n_bus, seed=seed)
    res = solve_power_flow(case, PowerFlowOptions(flat_start=True))
    check_physics(case, res)
