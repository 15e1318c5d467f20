"""``casa-dyn plot``: panels of selected channels against time, units on the axes, event
instants marked, PNG and SVG written headless (``casa_dyn.io.plots.plot_channels``).

The results file is written by ``write_results`` from arrays made here (no simulation), so
every value the figure must show is known: two voltage channels, one power channel, a bus
fault at 1.0 s cleared at 1.1 s and a branch trip at 1.1 s.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

from casa_dyn.cli import cli
from casa_dyn.io.h5results import write_results
from casa_dyn.io.plots import event_marks, quantity_label, select_panels
from casa_dyn.solver.results import Results

EVENTS = [{"type": "BusFault", "bus": 7, "t_on_s": 1.0, "t_off_s": 1.1, "r_pu": 0.0, "x_pu": 0.0},
          {"type": "BranchTrip", "branch": 5071, "t_s": 1.1, "table": "line", "t_reclose_s": None}]


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    t = np.linspace(0.0, 3.0, 301)
    data = np.column_stack([1.0 - 0.5 * ((t >= 1.0) & (t < 1.1)), 0.98 + 0 * t, 100.0 * np.sin(t)])
    res = Results(t_s=t, data=data, names=["bus/7/vm_pu", "bus/8/vm_pu", "conv/21/p_ac_mw"],
                  units=["pu", "pu", "MW"], kinds=["bus", "bus", "conv"],
                  elements=np.array([7, 8, 21]), status="completed", message="completed",
                  t_stop_s=3.0, counters={"steps": 300}, wall_s=0.1,
                  meta={"case_name": "synthetic", "events": EVENTS, "dt_s": 0.01})
    path = tmp_path_factory.mktemp("plot") / "res.h5"
    write_results(res, str(path))
    return path


def _run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_png_and_svg_are_written_with_units_events_and_one_panel_per_pattern(results_file, tmp_path):
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    for out in (png, svg):
        r = _run(["plot", str(results_file), "bus/*/vm_pu", "conv/*/p_ac_mw", "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert "2 panel(s), 3 channel(s)" in r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert "<svg" in text
    # units on the y axes, the time axis, and a label for every event instant
    for label in ("vm (pu)", "p_ac (MW)", "time (s)", "BusFault bus 7", "BusFault bus 7 cleared",
                  "BranchTrip branch 5071"):
        assert label in text, label
    # three event instants (1.0, 1.1, 1.1) drawn in each of the two panels: 6 dashed lines
    assert len(re.findall(r"stroke-dasharray", text)) >= 6


def test_patterns_joined_by_commas_share_a_panel(results_file, tmp_path):
    r = _run(["plot", str(results_file), "bus/7/vm_pu,bus/8/vm_pu", "-o", str(tmp_path / "a.png"),
              "--t-range", "0.5:2"])
    assert r.exit_code == 0 and "1 panel(s), 2 channel(s)" in r.output


@pytest.mark.parametrize("args, message", [
    (["bus/*/speed_pu"], "no channel matches 'bus/*/speed_pu'"),
    (["bus/*/vm_pu", "-o", "x.jpg"], "unknown figure format '.jpg'"),
    (["bus/*/vm_pu", "--t-range", "2:1"], "END must be after START"),
])
def test_user_errors_exit_1_with_a_message(results_file, tmp_path, args, message):
    if "-o" not in args:
        args = args + ["-o", str(tmp_path / "x.png")]
    else:
        args = [a if a != "x.jpg" else str(tmp_path / "x.jpg") for a in args]
    r = CliRunner().invoke(cli, ["plot", str(results_file), *args])
    assert r.exit_code == 1
    assert message in r.output


def test_helpers():
    assert select_panels(["a/1/x_pu", "a/2/x_pu", "b/1/y_mw"], [["a/*"], ["b/1/y_mw"]]) == [[0, 1], [2]]
    assert event_marks(EVENTS) == [(1.0, "BusFault bus 7"), (1.1, "BranchTrip branch 5071"),
                                   (1.1, "BusFault bus 7 cleared")]
    assert quantity_label(["conv/1/p_ac_mw", "conv/2/q_ac_mvar"], ["MW", "Mvar"]) == "p_ac, q_ac (MW, Mvar)"
    assert quantity_label(["conv/1/mode"], [""]) == "mode (-)"
