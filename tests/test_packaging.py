"""`pip install .` ships everything `nianbao` needs: every package, every template, every sample."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy: building in the tree would leave build/ and egg-info behind
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "nianbao-demo"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
                            capture_output=True, text=True, timeout=600)
    wheels = list(out.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        pytest.skip(f"cannot build a wheel here (no package index?): {result.stderr[-500:]}")
    with zipfile.ZipFile(wheels[0]) as z:
        return set(z.namelist())


def files_under(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")}


def test_wheel_has_every_template_and_sample(wheel_names):
    for folder, package in (("templates", "toolkit/_templates"), ("samples", "toolkit/_samples")):
        expected = {f"{package}/{name}" for name in files_under(ROOT / folder)}
        assert expected and expected <= wheel_names, sorted(expected - wheel_names)


def test_wheel_has_every_package(wheel_names):
    for init in (ROOT / "toolkit").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in wheel_names
    assert "toolkit/cli/blank.py" in wheel_names and "toolkit/workbook/writer.py" in wheel_names
