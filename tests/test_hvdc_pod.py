"""HVDC power-oscillation damping control (``casa_dyn.models.hvdc.pod``) on the CASA-1000 case:
analytic Jacobian against finite differences, equilibrium and flat run, the linearized
transfer function against the block formula, the output limit, and bad input named by table,
row and column.  The closed-loop effect on the modes is in tests/test_casa_modes.py."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
from click.testing import CliRunner

from casa_dyn.case import schema as S
from casa_dyn.case.case import normalize_table
from casa_dyn.case.validate import check_case
from casa_dyn.cli import cli
from casa_dyn.errors import CaseError
from casa_dyn.io import read_case
from casa_dyn.io.h5case import write_case
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from casa_dyn.study.modes import linearize
from model_harness import check_family_jacobian, eval_local, family_local, full_residual

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"

#: two PODs that cover the model's variants: a speed difference through two lead-lags, and
#: one machine's deviation from 1 pu with the first stage bypassed (T2 = 0) and a lag only
ROWS = dict(id=[1, 2], conv=[11, 12], gen_a=[231, 241], gen_b=[310, 0],
            k_mw_per_pu=[20000.0, -5000.0], t_w_s=[10.0, 3.0], t1_s=[0.2, 0.0], t2_s=[0.16, 0.0],
            t3_s=[0.3, 0.0], t4_s=[0.1, 0.05], p_max_mw=[50.0, 30.0])


def _with_pod(**changes):
    case = read_case(str(CASES / "casa1000.h5")).copy()
    cols = {k: np.array(v) for k, v in ROWS.items()}
    for k, v in changes.items():
        cols[k] = np.array(v)
    case.tables["hvdc_pod"] = normalize_table(S.get("hvdc_pod"), cols)
    return case


@pytest.fixture(scope="module")
def casa_pod():
    case = _with_pod()
    return case, build_system(case, solve_power_flow(case))


def test_jacobian_matches_finite_differences(casa_pod):
    # model_harness tolerance: |analytic - FD| <= 2e-6 + 1e-5 |FD| (central differences)
    check_family_jacobian(casa_pod[1], "hvdc_pod", seed=3)


def test_saturated_output_has_zero_gain(casa_pod):
    """Past +-p_max_mw the output is the limit and the inputs have no effect (windup limit);
    the Jacobian row says so (exactly, no tolerance needed: the entries are zero)."""
    _, sysm = casa_pod
    k, f = family_local(sysm, "hvdc_pod")
    z = sysm.z0.copy()
    cols = f.spec.cols
    z[f.col[:, cols.index("x2")]] = 1e4   # lead-lag states far beyond +-p_max
    z[f.col[:, cols.index("x1")]] = 1e4
    r, jl = eval_local(sysm, k, z)
    row = f.spec.rows.index("p_mw")
    for u in range(f.n):
        out = r[u, row] + z[f.col[u, cols.index("p_mw")]]   # the row is out - p_mw
        assert abs(out) == f.p[u, f.pcol("p_max_mw")]
        for c in ("omega_a", "omega_b", "xw", "x1", "x2"):
            assert jl[u, row, cols.index(c)] == 0.0


def test_equilibrium_and_flat_run(casa_pod):
    case, sysm = casa_pod
    rg, _ = full_residual(sysm)
    assert np.abs(rg).max() < 1e-9   # the initial point is an equilibrium (simulate's 1e-6)
    r = simulate(case, [], SimOptions(t_end_s=5.0, loss_of_sync_deg=0.0,
                                      channels=("gen/*/speed_pu", "conv/*/p_ac_mw")))
    assert r.status == "completed"
    _, w = r.select("gen/*/speed_pu")
    _, p = r.select("conv/*/p_ac_mw")
    assert np.abs(w - 1.0).max() < 1e-9    # nothing moves: no modulation out of a flat start
    assert np.abs(p - p[0]).max() < 1e-6   # MW


def test_modulation_channel(casa_pod):
    """``pod/<id>/p_mw`` is the control's output: the raw variable, in the default channel set,
    zero before the disturbance and moving after it (a 100 ms fault at Sangtuda 500 kV)."""
    from casa_dyn.solver.events import BusFault

    case, _ = casa_pod
    r = simulate(case, [BusFault(250, 0.5, 0.6)], SimOptions(t_end_s=1.5, loss_of_sync_deg=0.0))
    assert r.status == "completed", r.message
    r2 = simulate(case, [BusFault(250, 0.5, 0.6)],
                  SimOptions(t_end_s=1.5, loss_of_sync_deg=0.0, channels=("var/hvdc_pod/*/p_mw",)))
    for pid in (1, 2):
        p = r.channel(f"pod/{pid}/p_mw")
        assert np.array_equal(p, r2.channel(f"var/hvdc_pod/{pid}/p_mw"))
        assert np.abs(p[r.t_s < 0.5]).max() < 1e-9 and np.abs(p).max() > 1.0   # MW (rounding drift only)
        assert np.abs(p).max() <= ROWS["p_max_mw"][pid - 1] + 1e-9


def _pod_indices(sysm, pid):
    names = sysm.names
    own = [names.index(f"hvdc_pod/{pid}/{v}") for v in ("xw", "x1", "x2", "p_mw")]
    return own


def test_linearized_transfer_function_is_the_block_formula(casa_pod):
    """From the assembled system Jacobian, p_mw(s) / omega_a(s) = J_p,x (sE - J_x,x)^-1 J_x,wa
    must equal K sTw/(1+sTw) (1+sT1)/(1+sT2) (1+sT3)/(1+sT4) (the module docstring) at
    0.05-5 Hz, to 1e-9 relative (rounding only); the output enters the converter's paux row
    with gain 1 and omega_b with the opposite sign of omega_a."""
    case, sysm = casa_pod
    lin = linearize(sysm)
    jac = lin.jac.toarray()
    sh = sysm.meta["shared"]
    t = case["hvdc_pod"]
    for r, pid in enumerate(t["id"]):
        own = _pod_indices(sysm, pid)
        e = np.diag(lin.e_diag[own])
        jxx = jac[np.ix_(own, own)]
        wa = sh[f"gen/{t['gen_a'][r]}/omega"]
        for f_hz in (0.05, 0.3, 0.87, 2.0, 5.0):
            s = 2j * np.pi * f_hz
            h = np.linalg.solve(s * e - jxx, jac[own, wa])[-1]
            expect = (t["k_mw_per_pu"][r] * s * t["t_w_s"][r] / (1 + s * t["t_w_s"][r])
                      * (1 + s * t["t1_s"][r]) / (1 + s * t["t2_s"][r])
                      * (1 + s * t["t3_s"][r]) / (1 + s * t["t4_s"][r]))
            assert abs(h - expect) <= 1e-9 * abs(expect), (pid, f_hz, h, expect)
        if t["gen_b"][r]:
            wb = sh[f"gen/{t['gen_b'][r]}/omega"]
            np.testing.assert_allclose(jac[own, wb], -jac[own, wa], rtol=1e-12)
        assert jac[sh[f"lcc/{t['conv'][r]}/paux"], own[-1]] == 1.0


def test_table_checks_name_row_and_column():
    case = _with_pod(gen_b=[231, 0], t1_s=[0.2, 0.1])  # row 0: gen_b = gen_a; row 1: lead, no lag
    found = {(p.table, p.row, p.column) for p in check_case(case)}
    assert ("hvdc_pod", 0, "gen_b") in found
    assert ("hvdc_pod", 1, "t2_s") in found
    case = _with_pod(conv=[11, 99])
    assert ("hvdc_pod", 1, "conv") in {(p.table, p.row, p.column) for p in check_case(case)}


def test_build_rejects_a_speed_it_cannot_measure():
    case = _with_pod(gen_b=[310, 999])   # no generator 999 (gen_b has no schema reference)
    with pytest.raises(CaseError) as e:
        build_system(case, solve_power_flow(case))
    assert [(p.table, p.row, p.column) for p in e.value.problems] == [("hvdc_pod", 1, "gen_b")]
    assert "generator 999" in str(e.value)


def test_cli_validate_reports_a_bad_row(tmp_path):
    path = tmp_path / "bad_pod.h5"
    write_case(_with_pod(t_w_s=[10.0, 0.0]), str(path))   # Tw must be > 0
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 1
    assert "hvdc_pod" in out.output and "t_w_s" in out.output
