"""The README's first screen gives exactly two commands, and .ci/run runs the test one verbatim.

The behaviour of .ci/run (exit codes, pytest's "no tests collected" code 5 counted as failure)
is checked by running a copy of it with stand-in `pip` and `python` programs on PATH.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
FIRST_SCREEN_LINES = 24  # a terminal's worth

MAIN_JOB = ("pip install . && casa-dyn run cases/casa1000.h5 --scenario cases/scenarios/nowshera_fault.toml "
            "-o results/nowshera_fault.h5")
TEST_JOB = 'pip install ".[test]" && python -m pytest -q'


def first_screen_commands() -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", "\n".join(lines) + "\n", flags=re.S)
    return [c.strip() for b in blocks for c in b.splitlines() if c.strip()]


def test_first_screen_has_exactly_the_two_commands():
    assert first_screen_commands() == [MAIN_JOB, TEST_JOB]


def test_ci_run_contains_the_readme_test_command_verbatim():
    readme_test = [c for c in first_screen_commands() if "pytest" in c]
    assert len(readme_test) == 1
    script = CI_RUN.read_text(encoding="utf-8")
    assert readme_test[0] in script
    assert script.count("pip install") == 1 and script.count("pytest -q") == 1


def test_ci_run_is_strict_bash_and_executable():
    script = CI_RUN.read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert CI_RUN.stat().st_mode & stat.S_IXUSR


@pytest.fixture
def fake_repo(tmp_path):
    """A copy of .ci/run in a scratch tree, with logging stand-ins for pip and python."""
    (tmp_path / ".ci").mkdir()
    shutil.copy2(CI_RUN, tmp_path / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, rc in (("pip", "${FAKE_PIP_RC:-0}"), ("python", "${FAKE_PYTEST_RC:-0}")):
        exe = bin_dir / name
        exe.write_text(f'#!/usr/bin/env bash\necho "{name} $* @ $PWD" >> "$FAKE_LOG"\nexit {rc}\n')
        exe.chmod(0o755)
    return tmp_path


def run_ci(repo: Path, pytest_rc: int = 0, pip_rc: int = 0):
    env = dict(os.environ, PATH=f"{repo / 'bin'}{os.pathsep}{os.environ['PATH']}",
               FAKE_LOG=str(repo / "log"), FAKE_PYTEST_RC=str(pytest_rc), FAKE_PIP_RC=str(pip_rc))
    proc = subprocess.run([str(repo / ".ci" / "run")], cwd="/", env=env, capture_output=True,
                          text=True, timeout=60)
    log = (repo / "log").read_text().splitlines() if (repo / "log").exists() else []
    return proc, log


def test_ci_run_runs_install_then_tests_from_the_repo_root(fake_repo):
    proc, log = run_ci(fake_repo)
    assert proc.returncode == 0, proc.stderr
    assert log == [f"pip install .[test] @ {fake_repo}", f"python -m pytest -q @ {fake_repo}"]


@pytest.mark.parametrize("pytest_rc, expected", [(1, 1), (2, 2), (5, 1)])
def test_ci_run_fails_when_pytest_fails_or_collects_nothing(fake_repo, pytest_rc, expected):
    proc, _ = run_ci(fake_repo, pytest_rc=pytest_rc)
    assert proc.returncode == expected
    if pytest_rc == 5:
        assert "no tests" in proc.stderr


def test_ci_run_stops_when_install_fails(fake_repo):
    proc, log = run_ci(fake_repo, pip_rc=1)
    assert proc.returncode == 1
    assert log == [f"pip install .[test] @ {fake_repo}"]
