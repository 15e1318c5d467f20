"""Study files: strict reading, reference checks, scenario generation, content ids, sharding,
case modifications (load scaling, SCR equivalent, column sweeps)."""
from __future__ import annotations

import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from casa_dyn.io import read_case
from casa_dyn.io.study_toml import parse_study, read_study, read_study_cases
from casa_dyn.solver.events import BranchTrip, BusFault
from casa_dyn.study.batch import load
from casa_dyn.study.modify import Mod, apply_mods, prepare_case
from casa_dyn.study.scenarios import expand, scenario_id, shard
from casa_dyn.study.spec import StudyError

ROOT = pathlib.Path(__file__).resolve().parents[1]
WSCC = str(ROOT / "cases" / "wscc9.h5")
IEEE39 = str(ROOT / "cases" / "ieee39.h5")


def _study(tmp_path, text: str, name="s.toml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _items(tmp_path, text):
    study, cases, items = load(_study(tmp_path, text))
    return study, cases, items


# ------------------------------------------------------------------ strict reading
@pytest.mark.parametrize("body, expected", [
    ('[[n1_branch]]\nclearing_time = 0.1\n', "[[n1_branch]] #1: unknown key 'clearing_time'"),
    ('[[n1_branch]]\nbranches = "all"\n', "[[n1_branch]] #1: branches = 'all' has the wrong type (expected a list of integers)"),
    ('[options]\nt_end_s = "ten"\n[[gen_trip]]\n', "[options]: t_end_s = 'ten' has the wrong type (expected a number)"),
    ('[[n1_branch]]\nends = ["middle"]\n', "ends = ['middle']: 'middle' is not one of 'from', 'to'"),
    ('[[gen_trip]]\n[[sweep]]\nparameter = "speed"\nvalues = [1.0]\n', "parameter = 'speed': not one of"),
    ('[[gen_trip]]\n[[sweep]]\nparameter = "inverter_scr"\nvalues = [2.0]\n', "parameter 'inverter_scr' needs key 'id'"),
    ('[[gen_trip]]\n[[sweep]]\nparameter = "load_scale"\nvalues = [0.0]\n', "values = [0.0]: must all be > 0"),
    ('[[gen_trip]]\n[criteria]\nvmin = { min = 0.8 }\n', "[criteria]: unknown metric 'vmin'"),
    ('[[gen_trip]]\n[criteria]\nvmin_pu = 0.8\n', "[criteria]: vmin_pu = 0.8 has the wrong type"),
    ('[[gen_trip]]\n[output]\nkeep = "some"\n', "[output]: keep = 'some': 'some' is not one of"),
    ('[[gen_trip]]\n[options]\nchannels = ["bus/*"]\n', "put channel patterns under [output] channels"),
    ('[[cct]]\ntol_ms = 1.0\n', "give fault_bus or all_branches = true"),
    ('[[scenario]]\nname = "x"\n[[scenario.event]]\ntype = "bus_fault"\nbus = "seven"\nt_on_s = 1.0\n',
     "bus = 'seven' has the wrong type"),
    ('[[gen_trip]]\nbogus = 1\n[metrics]\nrocof_window_s = -1.0\n', "rocof_window_s = -1.0: must be > 0"),
])
def test_bad_study_files_name_key_and_value(tmp_path, body, expected):
    path = _study(tmp_path, f'[[case]]\npath = "{WSCC}"\n' + body)
    with pytest.raises(StudyError) as e:
        read_study(path)
    assert expected in str(e.value)
    assert str(e.value).startswith(path)


def test_every_problem_is_reported_at_once(tmp_path):
    path = _study(tmp_path, f'[[case]]\npath = "{WSCC}"\ndynamics = "fancy"\n[options]\ndt = 0.01\n'
                            '[[n1_branch]]\ntables = ["bogus"]\n[[bogus_generator]]\n')
    with pytest.raises(StudyError) as e:
        read_study(path)
    msg = str(e.value)
    for part in ("4 problem(s)", "dynamics = 'fancy'", "[options]: unknown key 'dt'", "'bogus' is not one of",
                 "unknown key 'bogus_generator'"):
        assert part in msg


@pytest.mark.parametrize("body, expected", [
    ('[[n1_branch]]\nbranches = [5071, 9999]\n', "branches = [5071, 9999]: branch 9999 is not in table(s) line, transformer"),
    ('[[bus_fault]]\nbuses = [7, 77]\n', "buses = [7, 77]: bus 77 does not exist"),
    ('[[gen_trip]]\ngens = [4]\n', "gens = [4]: generator 4 does not exist"),
    ('[[cct]]\nfault_bus = 70\n', "fault_bus = 70: bus 70 does not exist"),
    ('[[cct]]\nfault_bus = 7\ntrip_branch = 5070\n', "trip_branch = 5070: line 5070 does not exist"),
    ('[[gen_trip]]\ncases = ["other"]\n', "no case labelled 'other'"),
    ('[[gen_trip]]\n[[sweep]]\nparameter = "inverter_scr"\nvalues = [2.0]\nid = 1\np_dc_mw = 100.0\n',
     "id = 1: line 1 does not exist"),
    ('[[gen_trip]]\n[[sweep]]\nparameter = "hvdc_power_order_mw"\nvalues = [500.0]\ntable = "lcc_link"\nid = 1\n',
     "table = 'lcc_link': the case has no such table"),
    ('[[gen_trip]]\n[[sweep]]\nparameter = "case_value"\nvalues = [1.0]\ntable = "load"\nid = 5\ncolumn = "p_kw"\n',
     "column = 'p_kw': table 'load' has no such column"),
    ('[[scenario]]\nname = "late"\n[[scenario.event]]\ntype = "gen_trip"\ngen = 2\nt_s = 99.0\n',
     "time 99.0 s outside the run"),
    ('[options]\nt_end_s = 1.0\n[[bus_fault]]\nbuses = [7]\nclearing_time_s = 0.5\n', "is after t_end_s = 1.0 s"),
])
def test_missing_references_are_errors_before_anything_runs(tmp_path, body, expected):
    path = _study(tmp_path, f'[[case]]\npath = "{WSCC}"\n' + body)
    study = read_study(path)
    with pytest.raises(StudyError) as e:
        expand(study, read_study_cases(study))
    assert expected in str(e.value)
    assert "in case 'wscc9'" in str(e.value) or "(cases: wscc9)" in str(e.value)


def test_missing_case_file_names_the_path(tmp_path):
    path = _study(tmp_path, '[[case]]\npath = "nowhere.h5"\n[[gen_trip]]\n')
    with pytest.raises(StudyError) as e:
        read_study_cases(read_study(path))
    assert "[[case]] #1: path = " in str(e.value) and "nowhere.h5" in str(e.value)


# ------------------------------------------------------------------ generation
def test_n1_sweep_of_ieee39_covers_every_branch_at_both_ends(tmp_path):
    case = read_case(IEEE39)
    n_br = int(case["line"]["in_service"].sum() + case["transformer"]["in_service"].sum())
    _, _, items = _items(tmp_path, f'[[case]]\npath = "{IEEE39}"\ndynamics = "classical"\n[[n1_branch]]\n')
    assert n_br == 46 and len(items) == 2 * n_br  # 34 lines + 12 transformers (cases/README.md)
    ev = items[0].events  # first line 1-2 (id 1021), fault at bus 1
    assert ev == (BusFault(1, 1.0, 1.1, 0.0, 0.0), BranchTrip(1021, 1.1, "line"))
    assert {dict(it.params)["fault_end"] for it in items} == {"from", "to"}
    assert len({it.id for it in items}) == len(items)


def test_bus_faults_above_a_voltage_and_sweep_cross_product(tmp_path):
    text = (f'[[case]]\npath = "{WSCC}"\n[[bus_fault]]\nmin_kv = 100.0\n[[gen_trip]]\n'
            '[[sweep]]\nparameter = "clearing_time_s"\nvalues = [0.05, 0.1]\n'
            '[[sweep]]\nparameter = "load_scale"\nvalues = [0.9, 1.0, 1.1]\n')
    _, cases, items = _items(tmp_path, text)
    hv = [int(b) for b, kv in zip(cases["wscc9"]["bus"]["id"], cases["wscc9"]["bus"]["base_kv"]) if kv >= 100]
    assert hv == [4, 5, 6, 7, 8, 9]  # 230 kV buses (cases/README.md: 16.5/18/13.8/230 kV)
    faults = [it for it in items if it.kind == "bus_fault"]
    trips = [it for it in items if it.kind == "gen_trip"]
    assert len(faults) == 6 * 2 * 3
    # the clearing time does not apply to generator trips: 3 units x 3 load levels, no duplicates
    assert len(trips) == 3 * 3 and all("clearing_time_s" not in dict(t.params) for t in trips)
    f = faults[0]
    assert dict(f.params) == {"fault_bus": 4, "clearing_time_s": 0.05, "load_scale": 0.9}
    assert f.events == (BusFault(4, 1.0, 1.05, 0.0, 0.0),)


def test_ids_depend_on_content_only(tmp_path):
    base = f'[[case]]\npath = "{WSCC}"\n'
    a = _items(tmp_path, base + '[[scenario]]\nname = "a"\n[[scenario.event]]\ntype = "gen_trip"\ngen = 2\nt_s = 1\n')[2]
    b = _items(tmp_path, base + '[[scenario]]\nname = "b"\n[[scenario.event]]\ntype = "gen_trip"\ngen = 2\nt_s = 1.0\n')[2]
    c = _items(tmp_path, base + '[[scenario]]\nname = "c"\n[[scenario.event]]\ntype = "gen_trip"\ngen = 2\nt_s = 1.5\n')[2]
    d = _items(tmp_path, base + '[options]\ndt_s = 0.005\n[[scenario]]\nname = "d"\n[[scenario.event]]\n'
                                'type = "gen_trip"\ngen = 2\nt_s = 1.0\n')[2]
    assert a[0].id == b[0].id  # name and int/float spelling do not matter
    assert len({a[0].id, c[0].id, d[0].id}) == 3  # event time and options do
    # two scenarios with equal content run once
    two = _items(tmp_path, base + '[[gen_trip]]\ngens = [2]\n[[scenario]]\nname = "same"\n[[scenario.event]]\n'
                                  'type = "gen_trip"\ngen = 2\nt_s = 1.0\n')[2]
    assert len(two) == 1


def test_id_is_the_same_in_another_process(tmp_path):
    case = read_case(WSCC)
    ev = (BusFault(7, 1.0, 1.1), BranchTrip(5071, 1.1))
    here = scenario_id(case.content_hash(), (Mod("load_scale", 1.1),), ev, (("t_end_s", 5.0),))
    code = ("from casa_dyn.io import read_case; from casa_dyn.study.scenarios import scenario_id;"
            "from casa_dyn.study.modify import Mod; from casa_dyn.solver.events import BusFault, BranchTrip;"
            f"c = read_case({WSCC!r}); print(scenario_id(c.content_hash(), (Mod('load_scale', 1.1),),"
            "(BusFault(7, 1.0, 1.1), BranchTrip(5071, 1.1)), (('t_end_s', 5.0),)))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here == there and len(here) == 16


def test_shards_are_disjoint_and_cover_everything(tmp_path):
    _, _, items = _items(tmp_path, f'[[case]]\npath = "{WSCC}"\n[[n1_branch]]\n[[gen_trip]]\n')
    parts = [shard(items, i, 4) for i in range(1, 5)]
    ids = [it.id for p in parts for it in p]
    assert sorted(ids) == sorted(it.id for it in items) and len(ids) == len(set(ids))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


# ------------------------------------------------------------------ case modifications
def test_load_scale_scales_loads_and_dispatch():
    case = read_case(WSCC)
    out = apply_mods(case, (Mod("load_scale", 1.2),))
    np.testing.assert_allclose(out["load"]["p_mw"], 1.2 * case["load"]["p_mw"], rtol=1e-15)
    np.testing.assert_allclose(out["load"]["q_mvar"], 1.2 * case["load"]["q_mvar"], rtol=1e-15)
    np.testing.assert_allclose(out["generator"]["p_mw"], 1.2 * case["generator"]["p_mw"], rtol=1e-15)
    assert case["load"]["p_mw"][0] == 125.0  # the original is untouched (A&F load A)


def test_inverter_scr_sets_the_equivalent_impedance():
    case = read_case(WSCC)
    out = apply_mods(case, (Mod("inverter_scr", 2.5, "line", 5071, p_dc_mw=400.0),))
    k = int(np.flatnonzero(out["line"]["id"] == 5071)[0])
    z = complex(out["line"]["r_pu"][k], out["line"]["x_pu"][k])
    # S_sc = S_base / |Z| at 1 pu; SCR = S_sc / P_dc  -> 100 / (2.5 * 400) = 0.1 pu
    assert abs(z) == pytest.approx(0.1, rel=1e-12)
    assert out.base_mva / abs(z) / 400.0 == pytest.approx(2.5, rel=1e-12)
    # the branch's R/X angle is kept (line 5-7: 0.032 + j0.161, cases/README.md)
    assert math.atan2(z.imag, z.real) == pytest.approx(math.atan2(0.161, 0.032), abs=1e-12)
    fixed = apply_mods(case, (Mod("inverter_scr", 2.5, "line", 5071, p_dc_mw=400.0, angle_deg=84.0),))
    assert math.degrees(math.atan2(fixed["line"]["x_pu"][k], fixed["line"]["r_pu"][k])) == pytest.approx(84.0)


def test_case_value_sets_one_element():
    case = read_case(WSCC)
    out = apply_mods(case, (Mod("case_value", 120.0, "generator", 3, "p_mw"),))
    assert out["generator"]["p_mw"].tolist() == [0.0, 163.0, 120.0]


def test_typical_dynamics_replace_the_case_models():
    case = prepare_case(read_case(IEEE39), "classical")
    from casa_dyn.case import schema

    models = [t for t in case.tables if schema.get(t).family != "network"]
    assert models == ["gencls"] and case.n("gencls") == 10


def test_study_paths_are_relative_to_the_study_file(tmp_path):
    (tmp_path / "sub").mkdir()
    study = parse_study({"case": [{"path": "../w.h5"}], "gen_trip": [{}]}, str(tmp_path / "sub" / "s.toml"))
    assert study.cases[0].path == str(tmp_path / "w.h5") and study.cases[0].label == "w"
