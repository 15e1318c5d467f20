"""`casa-dyn pf`: text tables, one JSON object, exit codes; numbers checked against a closed-form
two-bus solution and the WSCC 9-bus textbook power flow (the README's main job)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from casa_dyn.cli import cli
from casa_dyn.io import read_case, write_case

from _h5craft import write_h5

ROOT = Path(__file__).resolve().parents[1]

X_PU, P_LOAD_MW, BASE_MVA = 0.1, 50.0, 100.0


def two_bus(tmp_path, p_load_mw=P_LOAD_MW) -> str:
    """Slack bus 1 at 1∠0 pu feeding a unity-power-factor load over a lossless reactance."""
    return write_h5(tmp_path / "two.h5", {
        "bus": {"id": [1, 2], "name": ["src", "sink"], "base_kv": [230.0, 230.0], "type": [3, 1]},
        "line": {"id": [12], "from_bus": [1], "to_bus": [2], "r_pu": [0.0], "x_pu": [X_PU]},
        "transformer": {},
        "generator": {"id": [7], "bus": [1], "vm_set_pu": [1.0]},
        "load": {"id": [2], "bus": [2], "p_mw": [p_load_mw]},
        "shunt": {},
    })


def closed_form():
    """Power-angle equations of a lossless line (own derivation): with V1 = 1,
    P = V2 sin(d)/x and Q received = (V2 cos(d) - V2^2)/x = 0 give V2 = cos(d) and
    sin(2d) = 2 P x, and the sending end supplies Q1 = sin(d)^2 / x."""
    p_pu = P_LOAD_MW / BASE_MVA
    d = 0.5 * math.asin(2 * p_pu * X_PU)
    return {"vm2": math.cos(d), "va2_deg": -math.degrees(d),
            "q1_mvar": math.sin(d) ** 2 / X_PU * BASE_MVA}


def test_pf_json_is_one_object_matching_the_closed_form(tmp_path):
    res = CliRunner().invoke(cli, ["pf", two_bus(tmp_path), "--json", "--tol", "1e-11"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)  # the whole of stdout is one JSON object
    ref = closed_form()
    assert out["converged"] is True and out["iterations"] >= 1
    bus2 = next(b for b in out["buses"] if b["id"] == 2)
    assert bus2["vm_pu"] == pytest.approx(ref["vm2"], abs=1e-9)
    assert bus2["va_deg"] == pytest.approx(ref["va2_deg"], abs=1e-7)
    (g,) = out["generators"]
    assert (g["id"], g["bus"]) == (7, 1)
    assert g["p_mw"] == pytest.approx(P_LOAD_MW, abs=1e-7)  # lossless line
    assert g["q_mvar"] == pytest.approx(ref["q1_mvar"], abs=1e-7)
    assert out["losses_mw"] == pytest.approx(0.0, abs=1e-7)
    assert out["losses_mvar"] == pytest.approx(ref["q1_mvar"], abs=1e-7)


def test_pf_text_report_shows_buses_generators_branches_and_losses(tmp_path):
    res = CliRunner().invoke(cli, ["pf", two_bus(tmp_path)])
    assert res.exit_code == 0, res.output
    ref = closed_form()
    out = res.stdout
    for title in ("Bus voltages", "Generators", "Branch flows", "losses:"):
        assert title in out
    bus2 = next(line.split() for line in out.splitlines() if line.split()[:2] == ["2", "sink"])
    assert bus2[2:] == ["PQ", "230", f"{ref['vm2']:.4f}", f"{ref['va2_deg']:.3f}"]
    line = next(line.split() for line in out.splitlines() if line.startswith("line"))
    assert line[1:5] == ["12", "1", "2", "on"]
    assert line[5:9] == ["50.00", f"{ref['q1_mvar']:.2f}", "-50.00", "0.00"]
    assert f"losses: 0.000 MW, {ref['q1_mvar']:.3f} Mvar" in out


def test_pf_not_converged_exits_1_with_message(tmp_path):
    # 600 MW exceeds the line's maximum transfer V^2/(2x) = 500 MW at unity power factor
    path = two_bus(tmp_path, p_load_mw=600.0)
    res = CliRunner().invoke(cli, ["pf", path, "--json"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert json.loads(res.stdout)["converged"] is False
    assert "did not converge" in res.stderr and "Traceback" not in res.stderr
    text = CliRunner().invoke(cli, ["pf", path])
    assert text.exit_code == 1 and "NOT converged" in text.stdout


def test_pf_iteration_limit(tmp_path):
    res = CliRunner().invoke(cli, ["pf", two_bus(tmp_path), "--max-iter", "1", "--tol", "1e-12"])
    assert res.exit_code == 1 and "did not converge after 1 iterations" in res.stderr


@pytest.mark.parametrize("args", [["--tol", "0"], ["--tol", "-1"], ["--max-iter", "0"],
                                  ["--max-iter", "x"], ["--frobnicate"]])
def test_pf_bad_options_are_usage_errors(tmp_path, args):
    res = CliRunner().invoke(cli, ["pf", two_bus(tmp_path), *args])
    assert res.exit_code == 2 and "Traceback" not in res.stderr and res.stderr


def test_no_q_limits_flag_reaches_the_solver(tmp_path):
    # generator 2 needs about 6.65 Mvar (textbook, below); capped at 2 Mvar it is held there
    case = read_case(str(ROOT / "cases" / "wscc9.h5"))
    assert case["generator"]["id"][1] == 2
    case.tables["generator"]["q_max_mvar"][1] = 2.0
    capped = str(tmp_path / "capped.h5")
    write_case(case, capped)
    held = json.loads(CliRunner().invoke(cli, ["pf", capped, "--json"]).stdout)
    free = json.loads(CliRunner().invoke(cli, ["pf", capped, "--json", "--no-q-limits"]).stdout)
    assert held["generators"][1]["q_mvar"] == pytest.approx(2.0, abs=1e-6)
    assert free["generators"][1]["q_mvar"] == pytest.approx(6.65, abs=0.05)


def test_readme_main_job_wscc9_matches_the_textbook():
    """`casa-dyn pf cases/wscc9.h5`. Reference: Anderson & Fouad, Example 2.6 (REFERENCE.md 4.3,
    item 20): Pg1 = 71.64 MW; Qg1/Qg2/Qg3 = 27.05 / 6.65 / -10.86 Mvar; tolerance 0.05."""
    res = CliRunner().invoke(cli, ["pf", str(ROOT / "cases" / "wscc9.h5"), "--json"])
    assert res.exit_code == 0, res.output
    gens = {g["bus"]: g for g in json.loads(res.stdout)["generators"]}
    assert gens[1]["p_mw"] == pytest.approx(71.64, abs=0.05)
    assert [gens[b]["q_mvar"] for b in (1, 2, 3)] == pytest.approx([27.05, 6.65, -10.86], abs=0.05)
