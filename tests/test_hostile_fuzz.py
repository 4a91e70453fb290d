"""A returned workbook damaged at random, byte by byte and part by part (zip entries removed,
duplicated, corrupted, renamed, swapped): ``check`` always ends with findings for the file,
never a crash, a traceback or a ``check-failed``."""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_helpers import clean_report
from toolkit.batch import check_file
from toolkit.checks.catalogue_doc import load_all_finding_types
from toolkit.formats import load_format
from toolkit.model import ERROR, WARNING
from toolkit.workbook.writer import write_workbook

REPO = Path(__file__).resolve().parents[1]
FILE_CODES = {"not-a-workbook", "workbook-damaged", "workbook-encrypted", "file-too-large", "file-unreadable",
              "format-unknown"}
NOISE = re.compile(r"Traceback|panicked|Exception|Error:|Warning|memory allocation|Aborted|Fatal Python", re.I)
CJK = re.compile(r"[\u4e00-\u9fff]")


class Workbook(bytes):
    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"<returned workbook, {len(self)} bytes>"


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> bytes:
    """A returned workbook with a mistake in it (表三 一、本年新收 off by one): even undamaged it
    has findings."""
    fmt = load_format("2021")
    report = clean_report(fmt, 11, year=2024)
    report.values["t3.new.natural"] += Decimal(1)
    path = tmp_path_factory.mktemp("fuzz") / "蓼堤镇人民政府.xlsx"
    write_workbook(path, fmt, unit=report.unit, year=report.year, data=report)
    data = path.read_bytes()
    assert [f.code for f in check_file(path).findings if f.severity == ERROR]
    return Workbook(data)


def entry_names(blob: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return zf.namelist()


# ---------------------------------------------------------------- mutations (plain data, so that
# hypothesis and a seeded random generator make the same kinds)

ENTRY_OPS = ("drop", "duplicate", "corrupt", "rename", "swap", "stored")
CORRUPTIONS = ("flip", "truncate", "garbage", "empty", "unclose")
BYTE_OPS = ("flip", "truncate", "cut", "insert", "zero")


def apply_entry_ops(blob: bytes, ops: list[tuple]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(blob)) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    stored = False
    for op in ops:
        kind, i = op[0], op[1] % len(entries)
        name, content = entries[i]
        if kind == "drop":
            del entries[i]
        elif kind == "duplicate":
            entries.insert(op[2] % (len(entries) + 1), (name, content if op[3] % 2 else content[::-1]))
        elif kind == "corrupt":
            entries[i] = (name, corrupt(content, CORRUPTIONS[op[2] % len(CORRUPTIONS)], op[3]))
        elif kind == "rename":
            entries[i] = (name.upper() if op[2] % 2 else name + ".bak", content)
        elif kind == "swap":
            j = op[2] % len(entries)
            entries[i], entries[j] = (name, entries[j][1]), (entries[j][0], content)
        elif kind == "stored":
            stored = True
        if not entries:
            break
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zout:
            for name, content in entries:
                zout.writestr(name, content)
    return out.getvalue()


def corrupt(content: bytes, how: str, seed: int) -> bytes:
    rng = random.Random(seed)
    if not content or how == "empty":
        return b""
    if how == "flip":
        data = bytearray(content)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        return bytes(data)
    if how == "truncate":
        return content[: rng.randrange(len(content))]
    if how == "unclose":
        return content.replace(b"</", b"<", rng.randint(1, 50))
    return rng.randbytes(rng.randint(1, 2000))


def apply_byte_ops(blob: bytes, ops: list[tuple]) -> bytes:
    data = bytearray(blob)
    for kind, a, b in ops:
        if not data:
            break
        pos = a % len(data)
        if kind == "flip":
            data[pos] ^= (b % 255) + 1
        elif kind == "truncate":
            del data[pos:]
        elif kind == "cut":
            del data[pos:pos + 1 + b % 4096]
        elif kind == "insert":
            data[pos:pos] = random.Random(b).randbytes(1 + b % 512)
        elif kind == "zero":
            end = min(len(data), pos + 1 + b % 4096)
            data[pos:end] = bytes(end - pos)
    return bytes(data)


def mutate(blob: bytes, entry_ops: list[tuple], byte_ops: list[tuple]) -> bytes:
    return apply_byte_ops(apply_entry_ops(blob, entry_ops) if entry_ops else blob, byte_ops)


_int = st.integers(0, 2**31)
entry_op = st.tuples(st.sampled_from(ENTRY_OPS), _int, _int, _int)
byte_op = st.tuples(st.sampled_from(BYTE_OPS), _int, _int)


def random_ops(rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    entry_ops = [(rng.choice(ENTRY_OPS), rng.getrandbits(31), rng.getrandbits(31), rng.getrandbits(31))
                 for _ in range(rng.randint(0, 3))]
    byte_ops = [(rng.choice(BYTE_OPS), rng.getrandbits(31), rng.getrandbits(31))
                for _ in range(rng.randint(0 if entry_ops else 1, 3))]
    return entry_ops, byte_ops


# ---------------------------------------------------------------- the properties


def assert_answered(report, name: str) -> None:
    codes = load_all_finding_types()
    assert report.findings, name
    for f in report.findings:
        assert f.code in codes and f.code != "check-failed", (name, f.code, f.message)
        assert f.severity in (ERROR, WARNING) and CJK.search(f.message), (name, f.message)
        assert not NOISE.search(f.message), f.message
    if report.data is None:
        assert len(report.findings) == 1 and report.findings[0].code in FILE_CODES | {"import-unreadable"}
        assert name in report.findings[0].message


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry_ops=st.lists(entry_op, max_size=3), byte_ops=st.lists(byte_op, max_size=2))
def test_damaged_workbook_always_gets_findings(tmp_path, returned, entry_ops, byte_ops):
    path = tmp_path / "乡镇.xlsx"
    path.write_bytes(mutate(returned, entry_ops, byte_ops))
    before = path.read_bytes()
    report = check_file(path)
    assert_answered(report, path.name)
    assert path.read_bytes() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.integers(0, 50), min_size=1, max_size=4), how=st.sampled_from(CORRUPTIONS),
       seed=_int)
def test_corrupted_sheet_parts_always_get_findings(tmp_path, returned, names, how, seed):
    """The parts that matter most (sheets, shared strings, workbook, relationships) corrupted."""
    important = [n for n in entry_names(returned) if n.startswith("xl/") and n.endswith((".xml", ".rels"))]
    ops = [("corrupt", entry_names(returned).index(important[i % len(important)]), CORRUPTIONS.index(how), seed)
           for i in names]
    path = tmp_path / "乡镇.xlsx"
    path.write_bytes(apply_entry_ops(returned, ops))
    assert_answered(check_file(path), path.name)


def test_cli_on_a_folder_of_damaged_copies(tmp_path, returned):
    """40 damaged copies (seeded) through ``nianbao check --json``: an answer for every file,
    exit 1, nothing on standard error but the summary."""
    rng = random.Random(20240601)
    folder = tmp_path / "回收"
    folder.mkdir()
    for i in range(40):
        entry_ops, byte_ops = random_ops(rng)
        (folder / f"{i:02d}_乡镇.xlsx").write_bytes(mutate(returned, entry_ops, byte_ops))
    proc = subprocess.run([sys.executable, "-m", "toolkit", "check", "--json", str(folder)],
                          capture_output=True, text=True, cwd=REPO, timeout=600,
                          env={**os.environ, "RUST_BACKTRACE": "1"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert not NOISE.search(proc.stderr), proc.stderr[-3000:]
    files = json.loads(proc.stdout)["files"]
    assert len(files) == 40
    for entry in files:
        assert entry["findings"] and not [f for f in entry["findings"] if f["code"] == "check-failed"], entry
