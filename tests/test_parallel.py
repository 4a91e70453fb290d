"""Batches in worker processes, and the fast reading path against its fallbacks (issue 6).

No timing here (that is benchmarks/bench.py): these tests prove that what the fast paths give
is what the slow ones give, on the same files, and that the number of workers changes nothing
but the speed.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import toolkit.readers as readers
import toolkit.workbook.reader as reader
from check_helpers import RETURN_YEAR, returned_folder, type_over, write_returned
from soffice import needs_soffice, soffice_convert
from toolkit.blank import make_blanks
from toolkit.batch import Tally, check_file, check_paths, iter_check, write_json
from toolkit.checks.engine import CheckContext, check_data
from toolkit.formats import load_format
from toolkit.model import Report
from toolkit.parallel import MIN_ITEMS_PER_WORKER, cpu_count, in_worker, ordered_map, resolve_workers
from toolkit.render import render_many
from toolkit.demo.synthetic import synthetic_report
from toolkit.layout import cell_addresses
from toolkit.workbook.source import DEFAULT_LIMITS

# ---------------------------------------------------------------- ordered_map itself


def _square(context, item):
    if item == "boom":
        raise ValueError("boom")
    return (context, item * item, os.getpid())


def _die_on_13(context, item):
    if item == 13:
        os._exit(3)  # a native crash, as far as the pool can tell
    return item + context


def test_ordered_map_gives_the_same_results_in_input_order_with_any_number_of_workers():
    items = list(range(57))
    one = list(ordered_map(_square, items, context="c", workers=1))
    assert [r[:2] for r in one] == [("c", i * i) for i in items]
    assert {r[2] for r in one} == {os.getpid()}
    for workers, chunksize in ((2, None), (2, 1), (3, 5)):
        many = list(ordered_map(_square, items, context="c", workers=workers, chunksize=chunksize))
        assert [r[:2] for r in many] == [r[:2] for r in one]
        assert os.getpid() not in {r[2] for r in many}  # really in other processes


def test_an_exception_is_raised_at_its_items_turn():
    results = ordered_map(_square, [1, 2, "boom", 4], context=None, workers=2, chunksize=1)
    assert next(results)[1] == 1 and next(results)[1] == 4
    with pytest.raises(ValueError, match="boom"):
        next(results)


def test_a_worker_that_dies_costs_only_its_own_item():
    items = list(range(40))
    results = list(ordered_map(_die_on_13, items, context=100, workers=2, chunksize=4,
                               on_crash=lambda item: f"crashed {item}"))
    assert results == [i + 100 if i != 13 else "crashed 13" for i in items]
    with pytest.raises(RuntimeError, match="13"):
        list(ordered_map(_die_on_13, items, context=100, workers=2, chunksize=4))


def test_auto_workers_only_for_batches_worth_a_process():
    assert resolve_workers("auto", 1) == 1
    assert resolve_workers(None, 2 * MIN_ITEMS_PER_WORKER - 1) == 1
    assert resolve_workers("auto", 10_000) == cpu_count()
    assert resolve_workers(0, 10_000) == cpu_count()
    assert resolve_workers(4, 3) == 3 and resolve_workers("2", 100) == 2
    for bad in ("x", -1, "1.5", 2.5):
        with pytest.raises(ValueError):
            resolve_workers(bad, 10)


# ---------------------------------------------------------------- the files


def _typed_text(path: Path, sheet: str, ref: str, text: str) -> None:
    """Type ``text`` into a number cell, in the file's XML (an inline string, as other programs
    save typed text); nothing else changes."""
    import re

    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i.filename)) for i in zf.infolist()]
        names = dict(re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="(rId\d+)"', zf.read("xl/workbook.xml").decode()))
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    target = "xl/" + re.search(rf'Id="{names[sheet]}"[^>]*Target="([^"]+)"', rels).group(1)
    out = []
    for info, data in entries:
        if info.filename == target:
            data, n = re.subn(rf'<c r="{ref}"([^>]*?)(?:/>|>.*?</c>)'.encode(),
                              rf'<c r="{ref}"\1 t="inlineStr"><is><t>{text}</t></is></c>'.encode(), data, count=1)
            assert n == 1
        out.append((info, data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in out:
            zf.writestr(info, data)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Returned workbooks with the usual mistakes: the check tests' folder plus typed text,
    negative and blank numbers, a wrong count in the text, a township's 规章, a file re-saved
    by openpyxl (formulas without cached values) and 20 clean ones (enough for two workers)."""
    root = tmp_path_factory.mktemp("batch")
    files = dict(returned_folder(root / "a"))
    fmt = load_format("2021")
    addr = cell_addresses(fmt)
    units = ["王集乡人民政府", "城南街道办事处", "河口镇人民政府", "县教育局", "北关镇人民政府", "石桥镇人民政府"]
    made = {}
    for i, unit in enumerate(units):
        made[unit] = synthetic_report(fmt, unit, RETURN_YEAR, seed=i)
    made["王集乡人民政府"].values["t2.licensing.decisions"] = Decimal(-2)
    made["城南街道办事处"].values["t3.new.natural"] = None
    made["城南街道办事处"].values["t4.review.upheld"] = None
    made["河口镇人民政府"].narrative["overview.on_request"] = "本年共收到政府信息公开申请999件。"
    made["北关镇人民政府"].values["t2.rules.made"] = Decimal(2)
    for unit, data in made.items():
        files[unit] = write_returned(root / "b" / f"{unit}.xlsx", fmt, data)
    text_cell = addr["t2.penalty.decisions"]
    _typed_text(files["县教育局"], text_cell.sheet, text_cell.a1, "12件")
    other = addr["t4.review.upheld"]
    _typed_text(files["县教育局"], other.sheet, other.a1, "/")
    wb = openpyxl.load_workbook(files["石桥镇人民政府"])
    cell = addr["t2.fees.amount"]
    wb[cell.sheet][cell.a1] = "无"
    wb.save(files["石桥镇人民政府"])
    for i in range(20):
        unit = f"{'东西南北中'[i % 5]}{'一二三四'[i // 5]}镇人民政府"
        files[unit] = write_returned(root / "c" / f"{unit}.xlsx", fmt, synthetic_report(fmt, unit, RETURN_YEAR, seed=50 + i))
    type_over(files[units[-1]], addr["t3.new.total"].sheet, addr["t3.new.total"].a1, 7)
    return root, files


def _findings(path: Path, **options) -> tuple[list[dict], dict | None]:
    """Read with ``options`` and check, as ``nianbao check`` does for one file."""
    result = readers.read_report(path, **options)
    found = list(result.findings)
    if result.data is not None:
        found += check_data(result.data, context=CheckContext(file_name=path.name))
    data = None if result.data is None else {**result.data.to_dict(), "source": None}
    return [f.to_dict() for f in found], data


def test_the_batch_has_the_mistakes_it_should(batch):
    _, files = batch
    codes = {name: {f.code for f in check_file(path).findings} for name, path in files.items()}
    assert "value-negative" in codes["王集乡人民政府"]
    assert "value-blank" in codes["城南街道办事处"]
    assert "narrative-number-differs" in codes["河口镇人民政府"]
    assert {"value-with-unit", "value-not-applicable"} <= codes["县教育局"]
    assert "unit-should-be-zero" in codes["北关镇人民政府"]
    assert "value-not-applicable" in codes["石桥镇人民政府"]
    assert "total-typed-over-wrong" in codes["石桥镇人民政府"]
    assert sum(1 for c in codes.values() if not c) >= 20


# ---------------------------------------------------------------- fast path against fallbacks


def test_calamine_and_the_openpyxl_fallback_find_the_same(batch):
    _, files = batch
    for name, path in files.items():
        if name == "bad":
            continue
        fast, fast_data = _findings(path)
        slow, slow_data = _findings(path, engine="openpyxl")
        assert fast == slow, name
        assert fast_data == slow_data, name


def test_standard_positions_and_the_label_search_find_the_same(batch, monkeypatch):
    _, files = batch
    fast = {name: _findings(path) for name, path in files.items()}
    monkeypatch.setattr(reader, "_fast_path", lambda ctx, fmt: None)  # every table found by its labels
    for name, path in files.items():
        assert _findings(path) == fast[name], name


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_copies_read_the_same_on_every_path(batch, tmp_path):
    _, files = batch
    names = ["clean", "balance", "typed", "王集乡人民政府", "县教育局", "河口镇人民政府"]
    xlsx = soffice_convert([files[n] for n in names], tmp_path / "xlsx", to="xlsx")
    xls = soffice_convert([files[n] for n in names], tmp_path / "xls", to="xls")
    in_process = replace(DEFAULT_LIMITS, isolate_binary=False)
    for name, saved, old in zip(names, xlsx, xls):
        fast, fast_data = _findings(saved)
        assert (fast, fast_data) == _findings(saved, engine="openpyxl"), name
        assert fast_data["values"] == _findings(files[name])[1]["values"], name
        helper, helper_data = _findings(old)
        assert (helper, helper_data) == _findings(old, limits=in_process), name
        assert helper_data["values"] == fast_data["values"], name
    report = check_paths([*xlsx, *xls], workers=1)
    assert report.to_dict() == check_paths([*xlsx, *xls], workers=2).to_dict()


# ---------------------------------------------------------------- workers change nothing but the speed


def test_one_and_two_workers_check_the_same_in_input_order(batch, tmp_path):
    root, files = batch
    order = sorted(files.values(), key=lambda p: p.name, reverse=True)
    one = check_paths(order, workers=1)
    two = check_paths(order, workers=2, annotate=tmp_path / "ann")
    auto = check_paths(order)
    assert [Path(f.path) for f in one.files] == order
    assert one.to_dict() == two.to_dict() == auto.to_dict()
    for a, b in zip(one.files, two.files):
        assert (a.data is None) == (b.data is None)
        if a.data is not None:
            assert a.data.values == b.data.values and a.data.raw == b.data.raw and a.data.cells == b.data.cells
            assert a.data.formulas == b.data.formulas and a.data.narrative == b.data.narrative
    assert len(list((tmp_path / "ann").glob("*.xlsx"))) == sum(1 for f in one.files if f.data is not None)


def test_streamed_json_is_the_report_json(batch):
    root, _ = batch
    full = check_paths([root], workers=1)
    for workers in (1, 2):
        out = io.StringIO()
        tally = write_json(iter_check([root], workers=workers, keep_data=False), out)
        assert out.getvalue() == json.dumps(full.to_dict(), ensure_ascii=False, indent=2) + "\n"
        assert tally == Tally.of(full.files) and tally.valid == full.valid
    light = list(iter_check([root], keep_data=False))
    assert all(f.data is None or (not f.data.values and f.data.unit is not None) for f in light)
    out = io.StringIO()
    write_json([], out)
    assert out.getvalue() == json.dumps(Report().to_dict(), ensure_ascii=False, indent=2) + "\n"


def test_one_and_two_workers_write_the_same_blanks_and_drafts(batch, tmp_path):
    roster = tmp_path / "roster.csv"
    units = [f"{a}{b}镇人民政府" for a in "东西南北" for b in "关桥湖店河"]
    roster.write_text("单位名称,联系人\n" + "".join(f"{u},联系人{i}\n" for i, u in enumerate(units)), encoding="utf-8")
    written = {}
    for workers in (1, 2):
        calls = []
        got = make_blanks(roster, 2025, tmp_path / f"blank{workers}", workers=workers,
                          progress=lambda done, total, unit: calls.append((done, total)))
        assert got.ok and [e.unit for e, _ in got.written] == units
        assert calls == [(i, len(units)) for i in range(len(units) + 1)]
        written[workers] = [(p.name, _findings(p)) for _, p in got.written]
    assert written[1] == written[2]

    root, files = batch
    drafts = {}
    for workers in (1, 2):
        results = render_many([root / "b", root / "c"], "html", tmp_path / f"html{workers}", force=True,
                              workers=workers)
        drafts[workers] = [(r.source, r.out and r.out.name, r.error, r.draft,
                            r.out and r.out.read_text(encoding="utf-8")) for r in results]
    assert drafts[1] == drafts[2]
    assert sum(1 for d in drafts[1] if d[1]) == len(drafts[1]) > 20


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_workers_started_afresh_check_the_same(batch, monkeypatch, method):
    """Where fork is unsafe (another thread running, e.g. a progress bar) or missing, workers
    start as new interpreters: the same results."""
    import multiprocessing

    import toolkit.parallel as parallel

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    root, _ = batch
    expected = check_paths([root / "b", root / "c"], workers=1).to_dict()
    monkeypatch.setattr(parallel, "_mp_context", lambda: multiprocessing.get_context(method))
    assert check_paths([root / "b", root / "c"], workers=2).to_dict() == expected


def test_json_reaches_standard_output_while_a_progress_bar_is_on_the_terminal(batch, tmp_path):
    """With standard error on a terminal the progress bar is live (and redirects sys.stdout);
    the streamed JSON must still go to standard output, whole, for any number of workers."""
    import pty
    import subprocess
    import sys
    import threading

    root, _ = batch
    expected = json.dumps(check_paths([root / "b"], workers=1).to_dict(), ensure_ascii=False, indent=2) + "\n"
    repo = Path(__file__).resolve().parents[1]
    for workers in ("1", "2"):
        master, slave = pty.openpty()
        out = tmp_path / f"out{workers}.json"
        drained = []
        reader_thread = threading.Thread(target=lambda: _drain(master, drained), daemon=True)
        reader_thread.start()
        with open(out, "wb") as fh:
            proc = subprocess.run([sys.executable, "-m", "toolkit", "check", str(root / "b"), "--json",
                                   "--workers", workers], stdout=fh, stderr=slave, cwd=repo, timeout=300,
                                  env={**os.environ, "PYTHONPATH": str(repo), "COLUMNS": "100"})
        os.close(slave)
        reader_thread.join(10)
        os.close(master)
        assert proc.returncode == 1
        assert out.read_text(encoding="utf-8") == expected
        assert "共校验" in b"".join(drained).decode("utf-8", "replace")


def _drain(fd: int, into: list) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)


def _over_budget(context, item):
    """In a worker: allocate (``item`` = "memory") or spin (``item`` = "cpu") past a budget."""
    from toolkit.parallel import budget

    if item == "memory":
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        try:
            with budget(None, size + 64 * 1024 * 1024):
                bytearray(512 * 1024 * 1024)
        except MemoryError:
            return "memory refused"
        return "memory allowed"
    if item == "cpu":
        with budget(1, None):
            while True:
                pass
    return item


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc and setrlimit")
def test_budgets_refuse_memory_and_end_a_runaway_worker():
    results = list(ordered_map(_over_budget, ["a", "memory", "cpu", "b"], workers=1, pool=True, chunksize=1,
                               on_crash=lambda item: f"crashed {item}"))
    assert results == ["a", "memory refused", "crashed cpu", "b"]


def test_a_file_that_kills_its_worker_is_read_again_alone_as_in_one_process(batch, monkeypatch, tmp_path):
    """A worker reads its files itself; when one kills it, that file is read again in a
    process of its own through the reading helper: the same findings as without workers."""
    root, files = batch
    folders = [root / "b", root / "c"]
    expected = Report([check_file(f) for f in iter_folder(folders)]).to_dict()
    victim = files["河口镇人民政府"]
    real = reader.open_source
    crashed = tmp_path / "crashed"

    def crashing(path, *args, **kwargs):
        if Path(path) == victim and in_worker():  # a crash of the worker only (the helper may be its fork)
            crashed.touch()
            os._exit(9)  # as a native crash in the engine would
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reader, "open_source", crashing)
    assert check_paths(folders, workers=2).to_dict() == expected
    assert crashed.exists()


def iter_folder(folders):
    from toolkit.batch import expand_paths

    return expand_paths(folders)
