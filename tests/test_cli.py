"""`casa-dyn info` and the library pieces behind the CLI (case summary, text tables)."""
from __future__ import annotations

from click.testing import CliRunner

from casa_dyn.case.summary import summarize
from casa_dyn.cli import cli
from casa_dyn.io import read_case
from casa_dyn.network.report import format_table

from _h5craft import good_tables, write_h5


def _case_with_an_outage(tmp_path):
    t = good_tables()
    t["load"]["in_service"] = [1, 0]       # load 41 (20 MW, 5 Mvar) out
    t["generator"]["in_service"] = [1, 1]
    return write_h5(tmp_path / "c.h5", t)


def test_summary_counts_and_in_service_totals(tmp_path):
    s = summarize(read_case(_case_with_an_outage(tmp_path)))
    counts = {c.table: (c.rows, c.in_service) for c in s.counts}
    # hand count of tests/_h5craft.good_tables()
    assert counts == {"bus": (4, 4), "line": (2, 2), "transformer": (1, 1), "generator": (2, 2),
                      "load": (2, 1), "shunt": (1, 1)}
    assert [c.table for c in s.counts][:3] == ["bus", "line", "transformer"]
    # exact sums of the fixture's in-service rows (binary-exact values, so ==)
    assert (s.load_p_mw, s.load_q_mvar) == (60.0, 15.0)
    assert (s.gen_p_mw, s.gen_q_min_mvar, s.gen_q_max_mvar) == (50.0, -80.0, 120.0)
    assert (s.shunt_g_mw, s.shunt_b_mvar) == (0.0, 10.0)
    assert s.n_islands == 1 and s.base_kv_levels == (115.0, 230.0)
    assert (s.name, s.source, s.format_version, s.base_mva, s.freq_hz) == (
        "four-bus", "test fixture", 1, 100.0, 50.0)


def test_cli_info(tmp_path):
    res = CliRunner().invoke(cli, ["info", _case_with_an_outage(tmp_path)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "four-bus" in out and "test fixture" in out and "100 MVA, 50 Hz" in out
    assert "load                 60.00 MW         15.00 Mvar" in out
    assert any(line.split() == ["load", "2", "1"] for line in out.splitlines())


def test_cli_info_on_invalid_case_exits_1(tmp_path):
    t = good_tables()
    t["bus"]["base_kv"] = [230.0, 0.0, 230.0, 115.0]
    res = CliRunner().invoke(cli, ["info", write_h5(tmp_path / "c.h5", t)])
    assert res.exit_code == 1
    assert "table 'bus', row 1 (id 2), column 'base_kv'" in res.stderr


def test_format_table_aligns_numbers_right_and_text_left():
    text = format_table(("bus", "name", "vm_pu"), [(1, "north", 1.04), (12, "s", 0.98765)],
                        ("d", "", ".3f"), title="Voltages")
    assert text.splitlines() == [
        "Voltages",
        "bus  name   vm_pu",
        "---  -----  -----",
        "  1  north  1.040",
        " 12  s      0.988",
    ]
