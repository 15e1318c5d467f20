"""`casa-dyn run`, the results file, scenario files and honest failure reporting."""
from __future__ import annotations

import json
import pathlib

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from casa_dyn.case.case import normalize_table
from casa_dyn.case import schema
from casa_dyn.cli import cli
from casa_dyn.errors import ScenarioError
from casa_dyn.io import read_case
from casa_dyn.io.h5results import read_results, write_results
from casa_dyn.io.scenario import parse_scenario, read_scenario
from casa_dyn.solver.events import LoadChange
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate

CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
WSCC = str(CASES / "wscc9.h5")


def test_results_round_trip(tmp_path):
    case = read_case(WSCC)
    res = simulate(case, [LoadChange(5, 0.5, 1.2)], SimOptions(t_end_s=1.0))
    path = tmp_path / "r.h5"
    write_results(res, str(path))
    back = read_results(str(path))
    np.testing.assert_array_equal(back.t_s, res.t_s)
    np.testing.assert_array_equal(back.data, res.data)
    assert back.names == res.names and back.units == res.units
    assert back.status == "completed" and back.meta["case_hash"] == case.content_hash()
    assert back.meta["events"][0]["type"] == "LoadChange"
    # plain h5py can read it too
    with h5py.File(path) as f:
        assert f["channels/data"].shape == (len(res.t_s), len(res.names))
        assert f.attrs["status"] == "completed"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_run_command_writes_results_and_json_summary(tmp_path):
    out = tmp_path / "out.h5"
    r = CliRunner().invoke(cli, ["run", WSCC, "--fault", "7:1.0:1.0833", "--trip-branch", "5071:1.0833",
                                 "--t-end", "3", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["status"] == "completed" and summary["steps"] > 300
    for key in ("wall_s", "newton_iterations", "factorizations"):
        assert key in summary
    assert read_results(str(out)).status == "completed"


def test_unstable_run_exits_nonzero_and_keeps_results(tmp_path):
    out = tmp_path / "bad.h5"
    r = CliRunner().invoke(cli, ["run", WSCC, "--fault", "7:1.0:1.5", "--trip-branch", "5071:1.5",
                                 "--t-end", "5", "-o", str(out)])
    assert r.exit_code == 1
    assert "loss of synchronism" in r.output
    res = read_results(str(out))
    assert res.status == "unstable" and res.t_s[-1] > 1.0  # kept up to the stop


def test_bad_event_is_a_clean_error(tmp_path):
    r = CliRunner().invoke(cli, ["run", WSCC, "--fault", "99:1:1.1", "-o", str(tmp_path / "x.h5")])
    assert r.exit_code == 1 and "bus 99 does not exist" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["run", WSCC, "--fault", "7:one:1.1", "-o", str(tmp_path / "x.h5")])
    assert r.exit_code == 1 and "'one' is not a number" in r.output


def test_voltage_collapse_fails_cleanly_with_results_so_far():
    case = read_case(WSCC)
    ld = case["load"]
    # constant-power loads all the way down (no conversion to impedance)
    case.tables["load"] = normalize_table(schema.get("load"), {**ld, "p_z": np.zeros(3), "q_z": np.zeros(3),
                                                                "v_zip_pu": np.zeros(3)})
    events = [LoadChange(int(i), 1.0, 6.0) for i in ld["id"]]
    res = simulate(case, events, SimOptions(t_end_s=3.0))
    assert res.status == "failed"
    assert "t = 1.0000 s" in res.message
    assert res.t_s[-1] == pytest.approx(1.0, abs=0.01) and len(res.t_s) > 100


def test_scenario_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('purpose = "test"\n[options]\nt_end_s = 2\n[[event]]\ntype = "bus_fault"\nbus = 7\n'
                    't_on_s = 1.0\nt_off_s = 1.1\n[[event]]\ntype = "branch_trip"\nbranch = 5071\nt_s = 1.1\n')
    sc = read_scenario(str(path))
    assert sc.options == {"t_end_s": 2} and len(sc.events) == 2
    out = tmp_path / "o.h5"
    r = CliRunner().invoke(cli, ["run", WSCC, "--scenario", str(path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert read_results(str(out)).t_s[-1] == pytest.approx(2.0)


@pytest.mark.parametrize("doc, msg", [
    ({"evnt": []}, "unknown key 'evnt'"),
    ({"event": [{"type": "bus_falt"}]}, "unknown type 'bus_falt'"),
    ({"event": [{"type": "bus_fault", "bus": 7}]}, "missing key 't_on_s'"),
    ({"event": [{"type": "bus_fault", "bus": "seven", "t_on_s": 1.0}]}, "bus = 'seven' has the wrong type"),
    ({"options": {"t_end": 3}}, "options.t_end is not an option"),
])
def test_bad_scenarios_name_the_key(doc, msg):
    with pytest.raises(ScenarioError, match=msg):
        parse_scenario(doc)
