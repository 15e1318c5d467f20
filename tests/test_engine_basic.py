"""Engine checks on the classical WSCC 9-bus case: Jacobians against finite differences,
equilibrium at t = 0, flat run, fault stability verdicts, second-order accuracy, events."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from casa_dyn.io import read_case
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.events import BranchTrip, BusFault, GenTrip, LoadChange
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from model_harness import check_family_jacobian, check_system_jacobian, full_residual

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
CYCLE = 1 / 60


@pytest.fixture(scope="module")
def wscc():
    case = read_case(str(CASES / "wscc9.h5"))
    return case, build_system(case, solve_power_flow(case))


def test_gencls_and_zip_jacobians(wscc):
    _, sysm = wscc
    check_family_jacobian(sysm, "gencls", seed=1)
    check_family_jacobian(sysm, "zip", seed=2)


def test_system_jacobian_matches_finite_differences(wscc):
    check_system_jacobian(wscc[1], seed=3)


def test_initial_point_is_equilibrium(wscc):
    rg, _ = full_residual(wscc[1])
    assert np.abs(rg).max() < 1e-9


def test_gencls_initial_emf_matches_textbook(wscc):
    # Anderson & Fouad Example 2.6 / REFERENCE.md §6 row 19: E' = 1.0566∠2.27°, 1.0502∠19.73°,
    # 1.0170∠13.17° (±5e-4 pu, ±0.02°)
    _, sysm = wscc
    f = sysm.family("gencls")
    delta = np.degrees(sysm.z0[f.col[:, 0]])
    np.testing.assert_allclose(f.p[:, f.pcol("e_pu")], [1.0566, 1.0502, 1.0170], atol=5e-4)
    np.testing.assert_allclose(delta, [2.27, 19.73, 13.17], atol=0.02)


def test_flat_run_stays_flat(wscc):
    case, _ = wscc
    r = simulate(case, [], SimOptions(t_end_s=20.0))
    assert r.status == "completed"
    _, w = r.select("gen/*/speed_pu")
    _, v = r.select("bus/*/vm_pu")
    assert np.abs(w - 1.0).max() < 1e-6
    assert np.abs(v - v[0]).max() < 1e-5


def _fault(t_clear_cycles):
    t_off = 1.0 + t_clear_cycles * CYCLE
    return [BusFault(7, 1.0, t_off), BranchTrip(5071, t_off)]


def test_five_cycle_fault_is_stable_and_long_fault_is_not(wscc):
    case, _ = wscc
    ok = simulate(case, _fault(5), SimOptions(t_end_s=5.0))
    assert ok.status == "completed"
    _, d = ok.select("gen/*/delta_deg")
    assert np.abs(d - d[:, :1]).max() < 120.0  # swings stay well inside 180°
    bad = simulate(case, _fault(30), SimOptions(t_end_s=5.0))
    assert bad.status == "unstable"
    assert "loss of synchronism" in bad.message
    assert 1.0 < bad.t_stop_s < 5.0 and len(bad.t_s) > 10  # results kept up to the stop


def test_halving_the_step_changes_angles_by_less_than_0p1_deg(wscc):
    case, _ = wscc
    runs = []
    for dt in (CYCLE / 2, CYCLE / 4):
        r = simulate(case, _fault(5), SimOptions(t_end_s=3.0, dt_s=dt, channels=("gen/*/delta_deg",)))
        runs.append(r)
    t = runs[0].t_s
    d_coarse = runs[0].data
    d_fine = np.array([np.interp(t, runs[1].t_s, runs[1].data[:, j]) for j in range(runs[1].data.shape[1])]).T
    rel = (d_coarse - d_coarse[:, :1]) - (d_fine - d_fine[:, :1])
    assert np.abs(rel).max() < 0.1


def test_events_land_exactly_on_their_times(wscc):
    case, _ = wscc
    t_ev = 1.0 + 1 / 7  # not a multiple of the step
    r = simulate(case, [LoadChange(5, t_ev, 1.1)], SimOptions(t_end_s=2.0))
    assert np.any(np.abs(r.t_s - t_ev) < 1e-12)


def test_generator_trip_slows_the_system(wscc):
    case, _ = wscc
    r = simulate(case, [GenTrip(3, 1.0)], SimOptions(t_end_s=3.0))
    f = r.channel("system/coi_freq_hz")
    assert r.status == "completed"
    assert f[-1] < 60.0 - 0.01  # no governors: frequency keeps falling after losing 85 MW


def test_event_instants_recorded_before_and_after(wscc):
    case, _ = wscc
    r = simulate(case, _fault(5), SimOptions(t_end_s=1.5, decimation=7))
    at = np.flatnonzero(np.abs(r.t_s - 1.0) < 1e-12)
    assert len(at) == 2  # t- and t+ even though 1.0 s is not on the decimated output grid
    v7 = r.channel("bus/7/vm_pu")
    assert v7[at[0]] > 0.95 and v7[at[1]] < 1e-3  # bolted fault: the bus voltage collapses at t+


def test_raw_variables_recorded_on_request(wscc):
    case, sysm = wscc
    r = simulate(case, [], SimOptions(t_end_s=0.1, channels=("var/gencls/2/*",)))
    assert r.names == ["var/gencls/2/delta", "var/gencls/2/omega", "var/gencls/2/pe", "var/gencls/2/qe"]
    np.testing.assert_allclose(r.channel("var/gencls/2/omega"), 1.0, atol=1e-12)
