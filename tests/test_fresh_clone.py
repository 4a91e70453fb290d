"""A fresh clone has no ../shared beside it: the tests that read the real reports skip there with
their reason (none fails or errors), and under CI=true they fail instead of skipping silently."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
USES_SHARED = re.compile(r"^from shared_data import ", re.M)
SHARED_PATH = re.compile(r"""/\s*["']shared["']|["']\.\./shared""")


def shared_modules() -> list[str]:
    return sorted(p.name for p in TESTS.glob("test_*.py") if USES_SHARED.search(p.read_text(encoding="utf-8")))


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [name for name in out.decode("utf-8").split("\0") if name]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The tracked files as they are in this working tree (uncommitted changes included),
    copied to a folder with nothing beside them."""
    root = tmp_path_factory.mktemp("fresh") / "clone"
    copy = root / "repo"
    for name in tracked_files():
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert [p.name for p in root.iterdir()] == ["repo"] and not (root / "shared").exists()
    return copy


def run_pytest(clone: Path, basetemp: Path, *, ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    env["PYTHONPATH"] = str(clone)
    if ci:
        env["CI"] = "true"
    modules = [f"tests/{name}" for name in shared_modules()]
    assert modules, "no test module reads ../shared through tests/shared_data.py"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", f"--basetemp={basetemp}", *modules],
        cwd=clone, env=env, capture_output=True, text=True, timeout=1200)


def counts(output: str) -> dict[str, int]:
    summary = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|skipped|failed|errors?|xfailed|xpassed)", summary)}


def test_the_modules_that_read_shared_are_known():
    names = shared_modules()
    assert {"test_import_seeds.py", "test_import_reports.py", "test_import_html_docx.py"} <= set(names)
    strays = [p.name for p in TESTS.glob("*.py") if p.name not in ("shared_data.py", Path(__file__).name)
              and SHARED_PATH.search(p.read_text(encoding="utf-8"))]
    assert not strays, f"these reach ../shared without tests/shared_data.py: {strays}"


def test_fresh_clone_skips_the_shared_tests_and_nothing_fails(clone, tmp_path):
    proc = run_pytest(clone, tmp_path / "pytest", ci=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    found = counts(proc.stdout)
    assert not found.get("failed") and not found.get("error") and not found.get("errors"), output[-6000:]
    assert found.get("skipped", 0) >= 50, found  # every test of the real reports, each with its reason
    assert "../shared/seeds is not available" in proc.stdout and "../shared/reports is not available" in proc.stdout
    assert "got empty parameter set" not in proc.stdout


def test_fresh_clone_under_ci_fails_instead_of_skipping(clone, tmp_path):
    proc = run_pytest(clone, tmp_path / "pytest", ci=True)
    found = counts(proc.stdout)
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-6000:]
    assert found.get("failed", 0) + found.get("errors", 0) + found.get("error", 0) >= 50, found
    assert "CI=true but ../shared/seeds is not available" in proc.stdout
    skipped_for_shared = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED") and "../shared" in line]
    assert not skipped_for_shared, skipped_for_shared
