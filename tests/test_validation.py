"""Case validation: one test per kind of user error, each checking that the problem is located
(table, row with element id, column), plus all-at-once reporting and the ``validate`` command.

Bad files are crafted with plain h5py (tests/_h5craft.py), not with casa_dyn's writer.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from casa_dyn.case.case import FORMAT_VERSION
from click.testing import CliRunner

from casa_dyn.case.case import Case
from casa_dyn.case.validate import check_case
from casa_dyn.cli import cli
from casa_dyn.errors import CaseError, FileFormatError
from casa_dyn.io import read_case

from _h5craft import good_attrs, good_tables, write_h5


def problems_of(path) -> list:
    with pytest.raises(CaseError) as info:
        read_case(str(path))
    return info.value.problems


def located(problems, table, column, element_id=None):
    """The problems at (table, column[, id]); also checks the printed form names all three."""
    hits = [p for p in problems if p.table == table and p.column == column
            and (element_id is None or p.element_id == element_id)]
    for p in hits:
        text = str(p)
        assert f"table '{table}'" in text and f"column '{column}'" in text
        if element_id is not None:
            assert f"row {p.row} (id {element_id})" in text
    return hits


def test_good_fixture_is_valid(tmp_path):
    case = read_case(write_h5(tmp_path / "good.h5"))
    assert case.n("bus") == 4 and check_case(case) == []


# ------------------------------------------------------------------ structure (raw stage)
def test_missing_table(tmp_path):
    t = good_tables()
    del t["shunt"]
    (p,) = problems_of(write_h5(tmp_path / "c.h5", t))
    assert p.table == "shunt" and "missing" in p.message and "table 'shunt'" in str(p)


def test_missing_required_column(tmp_path):
    t = good_tables()
    del t["line"]["x_pu"]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "line", "x_pu")
    assert "required column is missing" in p.message


def test_unknown_column_is_an_error(tmp_path):
    t = good_tables()
    t["load"]["p_mv"] = [1.0, 2.0]  # misspelt: must not silently fall back to a default
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "load", "p_mv")
    assert "unknown column" in p.message


def test_wrong_dtype_text_in_numeric_column(tmp_path):
    t = good_tables()
    t["bus"]["base_kv"] = ["230", "230", "230", "115"]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "bus", "base_kv")
    assert "must be numeric" in p.message


def test_wrong_dtype_fraction_in_integer_column(tmp_path):
    t = good_tables()
    t["bus"]["type"] = [3.0, 2.5, 1.0, 1.0]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "bus", "type", element_id=2)
    assert p.row == 1 and "must be an integer" in p.message


def test_wrong_dtype_number_in_text_column(tmp_path):
    t = good_tables()
    t["bus"]["name"] = [1, 2, 3, 4]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "bus", "name")
    assert "must be text" in p.message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_value_in_file(tmp_path, bad):
    t = good_tables()
    t["line"]["r_pu"] = [0.01, bad]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "line", "r_pu", element_id=20)
    assert p.row == 1 and "not finite" in p.message


def test_non_finite_value_in_memory_case():
    # a Case built in memory never passes through the raw (file) stage
    t = good_tables()
    t["generator"]["p_mw"] = [0.0, math.nan]
    (p,) = located(check_case(Case.from_tables("m", t)), "generator", "p_mw", element_id=102)
    assert "not finite" in p.message


def test_unequal_column_lengths(tmp_path):
    t = good_tables()
    t["load"]["q_mvar"] = [15.0]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "load", "q_mvar")
    assert "has 1 rows, other columns have 2" in p.message


# ------------------------------------------------------------------ values
def test_negative_transformer_reactance(tmp_path):
    t = good_tables()
    t["transformer"]["x_pu"] = [-0.08]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "transformer", "x_pu", element_id=7)
    assert "out of range" in p.message


def test_negative_line_reactance_is_allowed(tmp_path):
    # series-compensated line: x < 0 is legitimate on a line (documented in tables.py)
    t = good_tables()
    t["line"]["x_pu"] = [0.1, -0.05]
    assert read_case(write_h5(tmp_path / "c.h5", t)).tables["line"]["x_pu"][1] == -0.05


def test_zero_base_kv(tmp_path):
    t = good_tables()
    t["bus"]["base_kv"] = [230.0, 230.0, 0.0, 115.0]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "bus", "base_kv", element_id=3)
    assert "out of range (0, inf]" in p.message


def test_q_min_above_q_max(tmp_path):
    t = good_tables()
    t["generator"]["q_min_mvar"] = [-50.0, 45.0]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "generator", "q_min_mvar",
                   element_id=102)
    assert "q_min_mvar 45 > q_max_mvar 40" in p.message


def test_duplicate_ids(tmp_path):
    t = good_tables()
    t["load"]["id"] = [31, 31]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "load", "id", element_id=31)
    assert p.row == 1 and "duplicate id 31 (also in row 0)" in p.message


def test_reference_to_missing_bus(tmp_path):
    t = good_tables()
    t["line"]["to_bus"] = [2, 9]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "line", "to_bus", element_id=20)
    assert "refers to bus 9, which does not exist" in p.message


def test_generators_on_one_bus_with_different_setpoints(tmp_path):
    t = good_tables()
    g = t["generator"]
    for col, extra in (("id", 103), ("bus", 2), ("p_mw", 10.0), ("vm_set_pu", 1.03),
                       ("q_min_mvar", -10.0), ("q_max_mvar", 10.0)):
        g[col] = list(g[col]) + [extra]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "generator", "vm_set_pu",
                   element_id=103)
    assert "differs from 1.01 of generator 102 on the same bus 2" in p.message


def test_equal_setpoints_on_one_bus_are_fine(tmp_path):
    t = good_tables()
    g = t["generator"]
    for col, extra in (("id", 103), ("bus", 2), ("vm_set_pu", 1.01)):
        g[col] = list(g[col]) + [extra]
    g["p_mw"], g["q_min_mvar"], g["q_max_mvar"] = [0.0, 50.0, 5.0], [-50, -30, -5.0], [80, 40, 5.0]
    assert read_case(write_h5(tmp_path / "c.h5", t)).n("generator") == 3


# ------------------------------------------------------------------ topology
def _split_south(t):
    """Take line 20 (bus 2-3) out: buses 3 and 4 become an island of their own."""
    t["line"]["in_service"] = [1, 0]
    return t


def test_island_without_slack(tmp_path):
    t = _split_south(good_tables())
    g = t["generator"]  # give the island a generator, so only the slack is missing
    for col, extra in (("id", 103), ("bus", 3), ("p_mw", 10.0), ("vm_set_pu", 1.0),
                       ("q_min_mvar", -10.0), ("q_max_mvar", 10.0)):
        g[col] = list(g[col]) + [extra]
    (p,) = located(problems_of(write_h5(tmp_path / "c.h5", t)), "bus", "type", element_id=3)
    assert "island of 2 bus(es) [3, 4] has no slack bus" in p.message


def test_island_without_generation(tmp_path):
    t = _split_south(good_tables())
    t["bus"]["type"] = [3, 2, 3, 1]  # the island has a slack bus but nothing generates
    probs = problems_of(write_h5(tmp_path / "c.h5", t))
    no_gen = [p for p in probs if "has no in-service generator" in p.message and "island" in p.message]
    assert len(no_gen) == 1 and no_gen[0].table == "bus" and no_gen[0].element_id == 3
    assert "[3, 4]" in no_gen[0].message and "row 2 (id 3)" in str(no_gen[0])
    (slack,) = located(probs, "bus", "type", element_id=3)
    assert "slack bus 3 has no in-service generator" in slack.message


def test_topology_reported_together_with_value_problems(tmp_path):
    t = _split_south(good_tables())
    t["bus"]["base_kv"] = [0.0, 230.0, 230.0, 115.0]
    probs = problems_of(write_h5(tmp_path / "c.h5", t))
    assert located(probs, "bus", "base_kv", element_id=1)
    assert any("has no slack bus" in p.message for p in probs)


# ------------------------------------------------------------------ file level
def test_text_file_is_not_hdf5(tmp_path):
    path = tmp_path / "case.h5"
    path.write_text("bus,base_kv\n1,230\n")
    with pytest.raises(FileFormatError, match="not an HDF5 file"):
        read_case(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        read_case(str(tmp_path / "absent.h5"))


def test_hdf5_of_another_format(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "matpower-hdf5"
        f.create_dataset("data", data=np.arange(3.0))
    with pytest.raises(FileFormatError, match="not a casa_dyn case .*'matpower-hdf5'"):
        read_case(str(path))


def test_hdf5_without_format_attribute(tmp_path):
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3.0))
    with pytest.raises(FileFormatError, match="root attribute 'format' is None"):
        read_case(str(path))


def test_newer_format_version(tmp_path):
    attrs = good_attrs() | {"format_version": np.int64(99)}
    with pytest.raises(FileFormatError, match=rf"version 99 is newer .*\(up to {FORMAT_VERSION}\)"):
        read_case(write_h5(tmp_path / "c.h5", attrs=attrs))


def test_truncated_hdf5(tmp_path):
    path = write_h5(tmp_path / "c.h5")
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 3])
    with pytest.raises(FileFormatError, match="cannot read HDF5 file"):
        read_case(path)


def test_table_stored_as_dataset(tmp_path):
    path = write_h5(tmp_path / "c.h5")
    with h5py.File(path, "a") as f:
        del f["shunt"]
        f.create_dataset("shunt", data=np.zeros(3))
    with pytest.raises(FileFormatError, match="'/shunt' is not a group"):
        read_case(path)


def test_non_numeric_root_attribute(tmp_path):
    attrs = good_attrs() | {"base_mva": "100 MVA"}
    (p,) = problems_of(write_h5(tmp_path / "c.h5", attrs=attrs))
    assert p.table == "(root)" and p.column == "base_mva" and "must be a number" in p.message


# ------------------------------------------------------------------ many at once
def test_all_structure_problems_reported_together(tmp_path):
    t = good_tables()
    del t["line"]["x_pu"]
    t["bus"]["vm_pu"] = [1.0, math.nan, 1.0, 1.0]
    t["load"]["p_mw"] = ["60", "20"]
    del t["shunt"]
    probs = problems_of(write_h5(tmp_path / "c.h5", t))
    assert located(probs, "line", "x_pu")
    assert located(probs, "bus", "vm_pu", element_id=2)
    assert located(probs, "load", "p_mw")
    assert any(p.table == "shunt" and p.column is None for p in probs)
    assert len(probs) == 4


def test_all_value_problems_reported_together(tmp_path):
    t = good_tables()
    t["bus"]["base_kv"] = [230.0, 0.0, 230.0, 115.0]
    t["transformer"]["x_pu"] = [-0.08]
    t["generator"]["q_min_mvar"] = [90.0, -30.0]
    t["load"]["id"] = [41, 41]
    t["shunt"]["bus"] = [8]
    probs = problems_of(write_h5(tmp_path / "c.h5", t))
    assert located(probs, "bus", "base_kv", element_id=2)
    assert located(probs, "transformer", "x_pu", element_id=7)
    assert located(probs, "generator", "q_min_mvar", element_id=101)
    assert located(probs, "load", "id", element_id=41)
    assert located(probs, "shunt", "bus", element_id=5)
    assert len(probs) == 5


# ------------------------------------------------------------------ the validate command
def test_cli_validate_valid_case_exits_0(tmp_path):
    path = write_h5(tmp_path / "good.h5")
    res = CliRunner().invoke(cli, ["validate", path])
    assert res.exit_code == 0, res.output
    assert "valid" in res.stdout and res.stderr == ""


def test_cli_validate_lists_every_problem_and_exits_1(tmp_path):
    t = good_tables()
    t["transformer"]["x_pu"] = [-0.08]
    t["line"]["to_bus"] = [2, 9]
    res = CliRunner().invoke(cli, ["validate", write_h5(tmp_path / "bad.h5", t)])
    assert res.exit_code == 1
    assert "2 problems in case" in res.stderr
    assert "table 'transformer', row 0 (id 7), column 'x_pu'" in res.stderr
    assert "table 'line', row 1 (id 20), column 'to_bus'" in res.stderr
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output


@pytest.mark.parametrize("make, expected", [
    (lambda p: p.write_text("not hdf5"), "not an HDF5 file"),
    (lambda p: write_h5(p, attrs=good_attrs() | {"format_version": np.int64(99)}), "newer"),
    (lambda p: None, "no such file"),
])
def test_cli_validate_file_errors_exit_1_without_traceback(tmp_path, make, expected):
    path = tmp_path / "case.h5"
    make(path)
    res = CliRunner().invoke(cli, ["validate", str(path)])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert expected in res.stderr and "Traceback" not in res.stderr


def test_cli_usage_error_exits_2():
    res = CliRunner().invoke(cli, ["validate"])
    assert res.exit_code == 2 and "Missing argument 'CASE'" in res.stderr


def _console_script() -> str:
    found = shutil.which("casa-dyn") or os.path.join(os.path.dirname(sys.executable), "casa-dyn")
    assert os.path.exists(found), "casa-dyn console script not installed: run `pip install .`"
    return found


def test_installed_console_script(tmp_path):
    exe = _console_script()
    good = subprocess.run([exe, "validate", write_h5(tmp_path / "good.h5")],
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    t = good_tables()
    t["bus"]["base_kv"] = [230.0, 230.0, 0.0, 115.0]
    bad = subprocess.run([exe, "validate", write_h5(tmp_path / "bad.h5", t)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "table 'bus', row 2 (id 3), column 'base_kv'" in bad.stderr
    assert "Traceback" not in bad.stderr
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    junk = subprocess.run([exe, "validate", str(text)], capture_output=True, text=True, timeout=120)
    assert junk.returncode == 1 and "not an HDF5 file" in junk.stderr
    assert "Traceback" not in junk.stderr
