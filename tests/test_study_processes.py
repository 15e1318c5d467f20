"""Reliability with real processes (loopback only, every wait bounded):

(a) a Dask scheduler and two workers started as separate processes; one worker is killed with
    SIGKILL mid-batch; the batch completes and every scenario has exactly one valid result;
(b) the batch driver (with its local pool) is killed with SIGKILL mid-batch; running the same
    command again finishes the rest, touches nothing that was finished and leaves no partial
    or corrupt file;
and the same study gives byte-identical summary tables with 1 worker (in process), 2 local
worker processes and Dask.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

from casa_dyn.io.h5results import read_results
from casa_dyn.io.study_files import read_scenario_record, result_path
from casa_dyn.study.batch import BatchOptions, load, run_batch

ROOT = pathlib.Path(__file__).resolve().parents[1]
WAIT_S = 120.0  # upper bound for any single wait (a cold JIT cache can take a while)

# 6 lines x 2 ends x 3 clearing times on WSCC 9: 36 scenarios of ~0.1 s each
STUDY = """
name = "kill-test"
[[case]]
path = "w9.h5"
[options]
t_end_s = 12.0
[[n1_branch]]
tables = ["line"]
[[sweep]]
parameter = "clearing_time_s"
values = [0.05, 0.1, 0.15]
"""


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "NUMBA_NUM_THREADS": "1"}


def _cli(*args):
    return [sys.executable, "-m", "casa_dyn.cli", *args]


def _wait_for(cond, what, timeout=WAIT_S):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def _n_results(out):
    d = pathlib.Path(out) / "results"
    return len(list(d.glob("*.h5"))) if d.is_dir() else 0


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _children(pid):
    out = []
    for d in pathlib.Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid):
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _check_complete(out, items):
    """Exactly one valid result per scenario; nothing partial or temporary anywhere."""
    files = sorted(p.name for p in (pathlib.Path(out) / "results").iterdir())
    assert files == sorted(f"{it.id}.h5" for it in items)
    for it in items:
        res = read_results(result_path(str(out), it.id))
        assert res.status in ("completed", "unstable") and res.t_s.size > 100
        assert read_scenario_record(str(out), it.id)["scenario_id"] == it.id
    leftovers = [p for p in pathlib.Path(out).rglob("*") if p.name.startswith((".tmp", ".partial"))]
    assert leftovers == []


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill")
    shutil.copy(ROOT / "cases" / "wscc9.h5", d / "w9.h5")
    (d / "study.toml").write_text(STUDY)
    path = str(d / "study.toml")
    _, _, items = load(path)
    assert len(items) == 36
    ref = d / "ref"
    run_batch(path, str(ref), BatchOptions(workers=1, progress=False))  # also warms the JIT cache
    return d, path, items, (ref / "summary.csv").read_bytes()


def test_dask_worker_killed_mid_batch(study):
    d, path, items, reference = study
    out, sched_file = d / "dask_out", d / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                                      env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, "the scheduler file")
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                     str(sched_file), "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                     "--host", "127.0.0.1", "--death-timeout", "60"],
                                    env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(2)]
        procs += workers
        from distributed import Client

        with Client(address, timeout="60s") as c:
            c.wait_for_workers(2, timeout=WAIT_S)
        driver = subprocess.Popen(_cli("batch", path, "-o", str(out), "--scheduler", address, "--no-progress"),
                                  env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(driver)
        _wait_for(lambda: _n_results(out) >= 4 or driver.poll() is not None, "the first results")
        done_at_kill = _n_results(out)
        assert driver.poll() is None and done_at_kill < len(items), "the batch ended before the kill"
        os.kill(workers[1].pid, signal.SIGKILL)
        stdout, stderr = driver.communicate(timeout=WAIT_S)
        assert driver.returncode == 0, stderr
        assert workers[1].wait(timeout=10) == -signal.SIGKILL and workers[0].poll() is None
        assert "36 tasks" in stdout and "ran 36, skipped 0" in stdout
        _check_complete(out, items)
        assert (out / "summary.csv").read_bytes() == reference  # Dask = 1 worker, despite the kill
    finally:
        _stop(procs)


def test_driver_killed_mid_batch_then_resumed(study):
    d, path, items, reference = study
    out = d / "pool_out"
    driver = subprocess.Popen(_cli("batch", path, "-o", str(out), "--workers", "2", "--no-progress"),
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _n_results(out) >= 6 or driver.poll() is not None, "the first results")
        kids = _children(driver.pid)
        assert driver.poll() is None and _n_results(out) < len(items), "the batch ended before the kill"
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
        # the pool processes notice their driver is gone and stop (watchdog, 0.25 s)
        _wait_for(lambda: not any(_alive(k) for k in kids), "the orphaned workers to exit", timeout=30)
    finally:
        _stop([driver])
    assert not (out / "summary.csv").exists()
    finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "results").glob("*.h5")}
    assert 0 < len(finished) < len(items)
    rerun = subprocess.run(_cli("batch", path, "-o", str(out), "--workers", "2", "--no-progress"),
                           env=_env(), capture_output=True, text=True, timeout=WAIT_S)
    assert rerun.returncode == 0, rerun.stderr
    assert f"ran {len(items) - len(finished)}, skipped {len(finished)} finished" in rerun.stdout
    now = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "results").glob("*.h5")}
    assert {k: now[k] for k in finished} == finished  # nothing finished was redone
    _check_complete(out, items)
    assert (out / "summary.csv").read_bytes() == reference  # 2 local workers = 1 worker
