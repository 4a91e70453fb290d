"""Running a command or a script in a fresh process and measuring it: wall and CPU time, peak
memory, what other processes used meanwhile."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

HEAVY_MODULES = ("openpyxl", "xlsxwriter", "matplotlib", "docx", "jinja2", "python_calamine", "lxml", "bs4",
                 "yaml", "defusedxml", "rich", "pydantic")


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and its children
    max_rss_kb: int  # the largest process of the tree
    code: int
    others: float = 0.0  # share of all CPUs that other processes (not this benchmark's) used meanwhile


class Others:
    """CPU time used by processes outside this benchmark's process tree while it runs (other
    people's jobs on a shared machine), sampled from /proc twice a second."""

    def __init__(self) -> None:
        import threading

        self.ticks = 0
        self._seen: dict[int, int] = {}
        self._stop = threading.Event()
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._sample()
        self.ticks = 0
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = os.getpid()
        parent: dict[int, int] = {}
        used: dict[int, int] = {}
        try:
            pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parent[pid] = int(fields[1])
            used[pid] = int(fields[11]) + int(fields[12])
        for pid, ticks in used.items():
            p, ours = pid, False
            for _ in range(64):
                if p == me:
                    ours = True
                    break
                p = parent.get(p, 0)
                if p <= 1:
                    break
            if not ours:
                self.ticks += max(0, ticks - self._seen.get(pid, 0))
            self._seen[pid] = ticks

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def stop(self) -> float:
        """CPU seconds used by others since the start."""
        self._stop.set()
        self._thread.join()
        self._sample()
        return self.ticks / self._hz


def run(args: list[str], env: dict[str, str], stdout: Path | None = None, cwd: Path = ROOT) -> Run:
    """Run a command, timing it, and collect the resources it used (``os.wait4``) and what
    other processes used meanwhile."""
    from toolkit.parallel import cpu_count

    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    others = Others()
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        other_seconds = others.stop()
        if stdout:
            out.close()
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode,
               other_seconds / max(wall * cpu_count(), 1e-9))


def quiet_run(args: list[str], env: dict[str, str], stdout: Path | None = None, attempts: int = 3,
              disturbed: float = 0.1) -> Run:
    """:func:`run`, again (up to ``attempts`` times in all) while other processes took more than
    ``disturbed`` of the CPUs; the least disturbed run."""
    best: Run | None = None
    for _ in range(attempts):
        if best is not None:
            wait_until_quiet(30)
        r = run(args, env, stdout)
        if best is None or r.others < best.others:
            best = r
        if r.others <= disturbed:
            break
    assert best is not None
    return best


def nianbao(*args: str) -> list[str]:
    return [sys.executable, "-m", "toolkit", *map(str, args)]


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of the CPUs busy over ``seconds`` (from /proc/stat), e.g. other people's jobs."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields[:8]), idle
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_quiet(limit: float = 60.0, busy: float = 0.15) -> float | None:
    """Wait (up to ``limit`` seconds) until other processes leave the CPUs mostly idle; returns
    the last busy share seen."""
    deadline = time.monotonic() + limit
    share = cpu_busy()
    while share is not None and share > busy and time.monotonic() < deadline:
        share = cpu_busy()
    return share


CALAMINE = """
import sys, time, pathlib, python_calamine as pc
files = sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx"))
start = time.perf_counter()
for f in files:
    wb = pc.CalamineWorkbook.from_path(str(f))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
print(time.perf_counter() - start)
"""

OPENPYXL = """
import sys, time, pathlib, warnings, openpyxl
warnings.simplefilter("ignore")
files = sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx"))[: int(sys.argv[2])]
read_only = sys.argv[3] == "1"
start = time.perf_counter()
for f in files:
    wb = openpyxl.load_workbook(f, read_only=read_only)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            pass
    wb.close()
print((time.perf_counter() - start) / len(files))
"""


def timed_script(script: str, args: list[str], env: dict[str, str], attempts: int = 3,
                 disturbed: float = 0.1) -> tuple[float, float]:
    """A Python script that prints the seconds it measured itself (start-up excluded), run again
    while other processes disturbed it (see :func:`quiet_run`): (seconds, others' CPU share)."""
    from toolkit.parallel import cpu_count

    best: tuple[float, float] | None = None
    for _ in range(attempts):
        if best is not None:
            wait_until_quiet(30)
        others = Others()
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT, capture_output=True,
                             text=True, check=True)
        share = others.stop() / max((time.perf_counter() - start) * cpu_count(), 1e-9)
        value = (float(out.stdout.strip().splitlines()[-1]), share)
        if best is None or value[1] < best[1]:
            best = value
        if share <= disturbed:
            break
    assert best is not None
    return best


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
