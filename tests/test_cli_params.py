"""Option values converted without pydantic (toolkit/cli/params.py) are what typer's own
conversion gives, and whatever it does not convert itself goes to typer's conversion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer._coercion import build_runtime_param
from typer._click import exceptions as click_errors

from toolkit.cli import app
from toolkit.cli.params import PlainRuntimeParam

ROOT = Path(__file__).resolve().parents[1]


def _check_params():
    import typer.main

    command = typer.main.get_command(app).commands["check"]
    return {p.name: p for p in command.params}


@pytest.mark.parametrize("name,value", [
    ("year", "2025"), ("year", "+7"), ("year", "007"), ("year", "-3"), ("year", "1_000"), ("year", " 12 "),
    ("year", "1.0"), ("workers", "auto"), ("workers", "2"), ("format_id", "2021"),
    ("summary", "汇总.xlsx"), ("summary", ""), ("summary", "."), ("annotate", "no/such/dir"),
    ("paths", ("a.xlsx", ".", "回收/")),
])
def test_same_value_as_typer(name, value):
    param = _check_params()[name]
    assert isinstance(param._runtime_param, PlainRuntimeParam)
    theirs = build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=None)
    ours = param._runtime_param.coerce(value, param=param, ctx=None)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("value", ["abc", "２０２５", "0x10", "1e3"])
def test_refused_as_typer_refuses(value):
    param = _check_params()["year"]
    with pytest.raises(click_errors.BadParameter):
        build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=None)
    with pytest.raises(click_errors.BadParameter):
        param._runtime_param.coerce(value, param=param, ctx=None)


def test_check_does_not_import_pydantic(tmp_path):
    probe = ("import sys, runpy; sys.argv = ['nianbao', 'check', sys.argv[1], '--year', '2025', '--json'];\n"
             "try:\n    runpy.run_module('toolkit', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('pydantic' in sys.modules, file=sys.stderr)")
    missing = tmp_path / "missing.xlsx"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", probe, str(missing)], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
