"""Blank ÷ xlsxwriter (issue 12): the calls the toolkit makes for one blank, recorded, and replayed
on plain xlsxwriter."""

from __future__ import annotations

from pathlib import Path



from benchmarks.corpus import FORMAT, YEAR
from benchmarks.measure import timed_script

BLANK_VS_XLSXWRITER = 1.5  # issue 12: a blank costs ≤ 1.5 × xlsxwriter writing the same workbook directly

BLANK_CALLS = """
import io, pickle, sys, time, xlsxwriter
calls = pickle.load(open(sys.argv[1], "rb"))
repeat = int(sys.argv[2])
sheet_class = None
if sys.argv[3] == "toolkit-sheet":  # xlsxwriter's worksheet with the toolkit's faster formula preparation
    from toolkit.workbook.writer import _Sheet as sheet_class

def replay():
    wb = None
    formats, sheets = [], []
    def real(value):
        if isinstance(value, tuple) and len(value) == 2 and value[0] in ("@format", "@sheet"):
            return (formats if value[0] == "@format" else sheets)[value[1]]
        if isinstance(value, list):
            return [real(v) for v in value]
        if isinstance(value, dict):
            return {k: real(v) for k, v in value.items()}
        return value
    buffer = io.BytesIO()
    for target, name, args, kwargs in calls:
        if target == "new":
            wb = xlsxwriter.Workbook(buffer, args[0])
            continue
        obj = wb if target == "wb" else sheets[target]
        if name == "add_worksheet":
            args = [*args, sheet_class]
        result = getattr(obj, name)(*[real(a) for a in args], **{k: real(v) for k, v in kwargs.items()})
        if name == "add_format":
            formats.append(result)
        elif name == "add_worksheet":
            sheets.append(result)
    return buffer.getvalue()

replay()
start = time.perf_counter()
for _ in range(repeat):
    replay()
print((time.perf_counter() - start) / repeat)
"""

BLANK_TOOLKIT = """
import sys, time
from benchmarks.blank_replay import blank_arguments
from toolkit.workbook.writer import workbook_bytes
repeat = int(sys.argv[1])
fmt, kwargs = blank_arguments()
workbook_bytes(fmt, **kwargs)
start = time.perf_counter()
for k in range(repeat):
    workbook_bytes(fmt, **kwargs)
print((time.perf_counter() - start) / repeat)
"""


def blank_arguments():
    """What ``nianbao blank --roster`` passes to the writer for one unit (prefilled contact)."""
    import datetime as dt

    from toolkit.blank import unit_prefill
    from toolkit.formats import load_format
    from toolkit.roster import RosterEntry

    fmt = load_format(FORMAT)
    entry = RosterEntry(unit="蓼城镇人民政府", contact="张三", phone="0539-1234567")
    return fmt, {"unit": entry.unit, "year": YEAR, "data": unit_prefill(entry, fmt, YEAR),
                 "generated_at": dt.datetime(2026, 1, 5, 9, 0, 0), "deadline": dt.date(2026, 1, 20),
                 "contact": {"office": "县政务公开办", "name": "李四", "phone": "0539-7654321", "email": "gk@example.cn"}}


def record_blank_calls(path: Path) -> dict[str, int]:
    """Record every xlsxwriter call the toolkit makes writing one blank (formats and sheets as
    tokens) into ``path`` for :data:`BLANK_CALLS` to replay with plain xlsxwriter; returns counts."""
    import pickle
    import types

    import xlsxwriter

    import toolkit.workbook.writer as writer

    calls: list = []
    tokens: dict[int, tuple[str, int]] = {}

    def token(value):
        if id(value) in tokens:
            return tokens[id(value)]
        if isinstance(value, (list, tuple)):
            return [token(v) for v in value]
        if isinstance(value, dict):
            return {k: token(v) for k, v in value.items()}
        return value

    class Recorder:
        def __init__(self, real, target):
            self._real, self._target = real, target

        def __getattr__(self, name):
            attr = getattr(self._real, name)
            if not callable(attr):
                return attr

            def call(*args, **kwargs):
                if name == "add_worksheet":
                    args = args[:1]  # the toolkit's faster worksheet class: plain xlsxwriter's here
                calls.append((self._target, name, [token(a) for a in args], {k: token(v) for k, v in kwargs.items()}))
                result = attr(*args, **kwargs)
                if name == "add_format":
                    tokens[id(result)] = ("@format", sum(1 for t in tokens.values() if t[0] == "@format"))
                elif name == "add_worksheet":
                    index = sum(1 for t in tokens.values() if t[0] == "@sheet")
                    tokens[id(result)] = ("@sheet", index)
                    return Recorder(result, index)
                return result
            return call

    def workbook(target, options):
        calls.append(("new", "", [options], {}))
        return Recorder(xlsxwriter.Workbook(target, options), "wb")

    fmt, kwargs = blank_arguments()
    saved = writer.xlsxwriter
    writer.xlsxwriter = types.SimpleNamespace(Workbook=workbook)
    try:
        writer.workbook_bytes(fmt, **kwargs)
    finally:
        writer.xlsxwriter = saved
    path.write_bytes(pickle.dumps(calls))
    names: dict[str, int] = {}
    for _, name, _, _ in calls:
        names[name] = names.get(name, 0) + 1
    return names


def blank_against_xlsxwriter(work: Path, env: dict[str, str], repeat: int = 40
                              ) -> tuple[float, float, float, dict[str, int]]:
    """Seconds per blank: the toolkit's ``workbook_bytes``, plain xlsxwriter replaying the same
    calls (cells, formulas, formats, merges, validations, names, protection), and that replay
    with the toolkit's worksheet class (formula preparation without the ``_xlfn.`` search), each
    in its own process; and how many of each call one blank makes."""
    calls = work / "blank-calls.pickle"
    counts = record_blank_calls(calls)
    ours, _ = timed_script(BLANK_TOOLKIT, [str(repeat)], env)
    plain, _ = timed_script(BLANK_CALLS, [str(calls), str(repeat), "plain"], env)
    same_sheet, _ = timed_script(BLANK_CALLS, [str(calls), str(repeat), "toolkit-sheet"], env)
    return ours, plain, same_sheet, counts
