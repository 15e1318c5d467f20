"""The batch runner in one process: statuses recorded (diverging and failing scenarios do not
stop the batch), the summary table (HDF5 = CSV), output options, resume, shards, criteria
re-evaluated without re-running, bad studies stopping before anything runs, progress bar."""
from __future__ import annotations

import csv
import io
import os
import pathlib
import shutil

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from casa_dyn.case import schema
from casa_dyn.case.case import normalize_table
from casa_dyn.cli import cli
from casa_dyn.io import read_case, write_case
from casa_dyn.io.h5results import read_results
from casa_dyn.io.study_files import read_scenario_record, result_path
from casa_dyn.study.batch import BatchOptions, load, run_batch
from casa_dyn.study.progress import Progress

WSCC = pathlib.Path(__file__).resolve().parents[1] / "cases" / "wscc9.h5"

STUDY = """
name = "batch-test"
[[case]]
path = "w9.h5"
[[case]]
label = "cp"
path = "w9cp.h5"
[[case]]
label = "overload"
path = "w9big.h5"
[options]
t_end_s = 3.0
[[n1_branch]]
cases = ["w9"]
tables = ["line"]
branches = [5071, 6091]
clearing_time_s = 0.1
[[bus_fault]]
cases = ["w9"]
buses = [7]
clearing_time_s = 0.3
[[gen_trip]]
cases = ["overload"]
gens = [2]
[[scenario]]
name = "collapse"
cases = ["cp"]
[[scenario.event]]
type = "load_change"
load = 5
t_s = 1.0
scale = 6.0
[[scenario.event]]
type = "load_change"
load = 6
t_s = 1.0
scale = 6.0
[[scenario.event]]
type = "load_change"
load = 8
t_s = 1.0
scale = 6.0
[[cct]]
cases = ["w9"]
fault_bus = 7
trip_branch = 5071
tol_ms = 5.0
max_clearing_s = 0.4
[criteria]
vmin_post_pu = { min = 0.5 }
[output]
keep = "violations"
channels = ["bus/*/vm_pu"]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("study")
    shutil.copy(WSCC, d / "w9.h5")
    case = read_case(str(WSCC))
    cp = case.copy()  # constant-power loads all the way down: collapses when scaled x6
    ld = cp["load"]
    cp.tables["load"] = normalize_table(schema.get("load"), {**ld, "p_z": np.zeros(3), "q_z": np.zeros(3),
                                                              "v_zip_pu": np.zeros(3)})
    write_case(cp, str(d / "w9cp.h5"))
    big = case.copy()  # 20 GW of load: the power flow has no solution
    big["load"]["p_mw"] = big["load"]["p_mw"] * 60
    write_case(big, str(d / "w9big.h5"))
    (d / "study.toml").write_text(STUDY)
    return d


@pytest.fixture(scope="module")
def first(folder):
    out = folder / "out"
    report = run_batch(str(folder / "study.toml"), str(out), BatchOptions(workers=1, progress=False))
    return out, report


def _csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _by_label(rows):
    return {r["label"]: r for r in rows}


def test_every_outcome_is_recorded_and_the_batch_goes_on(first):
    out, report = first
    rows = _by_label(_csv(out / "summary.csv"))
    assert report.n_total == 8 and report.n_run == 8 and report.n_cct == 1  # 4 N-1 + 1 + 1 + 1 scenarios + 1 CCT
    n1 = [r for r in rows.values() if r["kind"] == "n1_branch"]
    assert len(n1) == 4 and all(r["status"] == "completed" for r in n1)
    slow = rows["fault at bus 7, cleared in 300 ms"]
    assert slow["status"] == "unstable" and slow["loss_of_sync"] == "1" and "loss of synchronism" in slow["message"]
    collapse = rows["collapse"]
    assert collapse["status"] == "failed" and "Newton did not converge" in collapse["message"]
    over = rows["trip generator 2"]
    assert over["status"] == "failed" and over["message"] and over["angle_coi_max_deg"] == ""
    assert report.statuses == {"completed": 4, "unstable": 1, "failed": 2, "found": 1}
    cct = _csv(out / "summary-cct.csv")
    assert len(cct) == 1 and cct[0]["status"] == "found" and float(cct[0]["unstable_s"]) - float(cct[0]["stable_s"]) \
        == pytest.approx(0.005)
    assert "8 tasks (7 scenarios, 1 CCT)" in report.line()


def test_criteria_and_kept_trajectories(first):
    out, _ = first
    for r in _csv(out / "summary.csv"):
        res = read_results(result_path(str(out), r["scenario_id"]))
        assert res.status == r["status"]
        passed = r["passed"] == "1"
        assert passed == (r["status"] == "completed" and float(r["vmin_post_pu"]) >= 0.5)
        if passed:
            assert res.names == [] and r["violations"] == ""
        elif res.t_s.size:
            assert res.names and all(n.startswith("bus/") and n.endswith("/vm_pu") for n in res.names)


def test_summary_hdf5_equals_csv(first):
    out, _ = first
    rows = _csv(out / "summary.csv")
    with h5py.File(out / "summary.h5") as f:
        g = f["scenarios"]
        assert f.attrs["n_scenarios"] == len(rows) == 7
        for col in rows[0]:
            data = g[col][()]
            for r, v in zip(rows, data):
                v = v.decode() if isinstance(v, bytes) else v
                if r[col] == "":
                    assert v == "" or (isinstance(v, float) and np.isnan(v))
                elif isinstance(v, (float, np.floating)):
                    assert float(r[col]) == v or (np.isinf(v) and r[col] == "inf")
                else:
                    assert str(v) == r[col]


def test_rerun_skips_everything_and_changes_nothing(folder, first):
    out, _ = first
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "results").iterdir()}
    before = (out / "summary.csv").read_bytes()
    report = run_batch(str(folder / "study.toml"), str(out), BatchOptions(workers=1, progress=False))
    assert report.n_run == 0 and report.n_skipped == 8
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "results").iterdir()} == stamps
    assert (out / "summary.csv").read_bytes() == before


def test_resume_redoes_only_what_is_missing(folder, first, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(first[0], out)
    study, _, items = load(str(folder / "study.toml"))
    gone = items[1].id
    os.remove(result_path(str(out), gone))
    stale = out / ".partial" / f"{gone}.dead1234"  # what a killed worker leaves
    stale.mkdir(parents=True)
    (stale / f"{gone}.h5").write_bytes(b"half a file")
    report = run_batch(str(folder / "study.toml"), str(out), BatchOptions(workers=1, progress=False))
    assert report.n_run == 1 and report.n_skipped == 7
    assert not (out / ".partial").exists()
    assert read_scenario_record(str(out), gone)["scenario_id"] == gone
    assert (out / "summary.csv").read_bytes() == (first[0] / "summary.csv").read_bytes()


def test_new_criteria_need_no_rerun(folder, first, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(first[0], out)
    text = STUDY.replace("vmin_post_pu = { min = 0.5 }", "vmin_post_pu = { min = 0.99 }")
    (folder / "strict.toml").write_text(text)
    report = run_batch(str(folder / "strict.toml"), str(out), BatchOptions(workers=1, progress=False))
    assert report.n_run == 0
    rows = _csv(out / "summary.csv")
    assert all(r["passed"] == "0" for r in rows)
    assert any("vmin_post_pu=" in r["violations"] and "<0.99" in r["violations"] for r in rows)


def test_shards_partition_the_study(folder, first, tmp_path):
    out = tmp_path / "sharded"
    n = [run_batch(str(folder / "study.toml"), str(out), BatchOptions(workers=1, shard=(i, 3), progress=False)).n_run
         for i in (1, 2, 3)]
    assert sum(n) == 8 and all(k >= 2 for k in n)
    parts = [r for i in (1, 2, 3) for r in _csv(out / f"summary-shard-{i}-of-3.csv")]
    assert sorted(r["scenario_id"] for r in parts) == sorted(r["scenario_id"] for r in _csv(first[0] / "summary.csv"))
    final = run_batch(str(folder / "study.toml"), str(out), BatchOptions(workers=1, progress=False))
    assert final.n_run == 0
    assert (out / "summary.csv").read_bytes() == (first[0] / "summary.csv").read_bytes()


def test_bad_study_stops_before_anything_runs(folder, tmp_path):
    bad = folder / "bad.toml"
    bad.write_text(STUDY.replace('branches = [5071, 6091]', 'branches = [5071, 9999]')
                   .replace('clearing_time_s = 0.3', 'clearing_time = 0.3'))
    out = tmp_path / "never"
    r = CliRunner().invoke(cli, ["batch", str(bad), "-o", str(out), "--workers", "1"])
    assert r.exit_code == 1 and "[[bus_fault]] #1: unknown key 'clearing_time'" in r.output
    bad.write_text(STUDY.replace('branches = [5071, 6091]', 'branches = [5071, 9999]'))
    r = CliRunner().invoke(cli, ["batch", str(bad), "-o", str(out), "--workers", "1"])
    assert r.exit_code == 1 and "branches = [5071, 9999]: branch 9999 is not in table(s) line" in r.output
    assert not out.exists()
    r = CliRunner().invoke(cli, ["batch", str(folder / "study.toml"), "-o", str(out), "--shard", "4/3"])
    assert r.exit_code == 1 and "need 1 <= I <= N" in r.output


def test_batch_command_prints_one_line(folder, first, tmp_path):
    r = CliRunner().invoke(cli, ["batch", str(folder / "study.toml"), "-o", str(first[0]), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("\n") == 1 and "skipped 8 finished" in r.stdout


def test_warm_up_sees_every_case_once(folder, tmp_path):
    """The executor is warmed with each case that has work to do, once, before any job runs
    (a process compiles only the model families its case uses).  A recording executor
    stands in for the pool: it runs nothing, so every row stays ``not_run``."""
    from casa_dyn.study.executors import InProcess

    calls = []

    class Recorder(InProcess):
        def warm(self, cases):
            calls.append(("warm", [c.content_hash() for c in cases]))

        def run(self, jobs, on_done):
            calls.append(("run", len(list(jobs))))

    path = str(folder / "study.toml")
    _, cases, items = load(path)
    run_batch(path, str(tmp_path / "o"), BatchOptions(progress=False), stream=None, executor=Recorder())
    labels = list(dict.fromkeys(it.case for it in items))
    assert sorted(labels) == ["cp", "overload", "w9"]  # three cases, three different contents
    assert calls == [("warm", [cases[label].content_hash() for label in labels]), ("run", len(items))]
    assert len(set(calls[0][1])) == 3


def test_progress_bar_count_rate_eta():
    now = [0.0]
    buf = io.StringIO()
    p = Progress(10, buf, clock=lambda: now[0], log_interval_s=0.0)
    for _ in range(4):
        now[0] += 0.5
        p.update()
    # 4 done in 2 s: 2/s, 6 left: 3 s
    assert buf.getvalue().splitlines()[-1] == "batch [###########.................] 4/10 2.00/s ETA 00:03"
