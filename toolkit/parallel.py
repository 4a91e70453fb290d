"""Run one function over many items in worker processes, with the results in input order.

Used by the batch commands (check, blank, render). ``ordered_map`` yields lazily and keeps only
a bounded number of items in flight, so memory does not grow with the number of items. Each
worker receives the shared ``context`` once (not with every item) and takes items in chunks.
A worker that dies (a native crash in a parser, the out-of-memory killer) does not stop the
batch: the items of the lost chunks are run again one at a time, each in its own process, and
the one that kills its process gets ``on_crash(item)`` as its result. A worker can hold what
it runs to a CPU-time and memory budget (:func:`budget`); past the CPU time it is ended, like a
crash, and :func:`in_worker` tells the item run again alone that it is not in a worker.
"""

from __future__ import annotations

import contextlib
import signal
import math
import os
import threading
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

AUTO = "auto"
MIN_ITEMS_PER_WORKER = 8
"""``workers="auto"`` starts a second process only when each gets at least this many items:
below that, starting processes costs more than it saves."""

MAX_CHUNK = 16
IN_FLIGHT_PER_WORKER = 4


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | str | None, n_items: int) -> int:
    """How many processes to use for ``n_items`` items: ``None``, ``0`` or ``"auto"`` mean one
    per CPU for a big batch (at least :data:`MIN_ITEMS_PER_WORKER` items each), else one; a
    number is used as given (never more than there are items). Raises ValueError for anything
    else."""
    if workers is None or workers == 0 or (isinstance(workers, str) and workers.strip().lower() == AUTO):
        wanted = min(cpu_count(), n_items // MIN_ITEMS_PER_WORKER)
    else:
        try:
            wanted = int(workers)
        except (TypeError, ValueError):
            raise ValueError(f"workers must be a positive number or 'auto', not {workers!r}") from None
        if wanted < 0 or str(workers).strip() != str(wanted):
            raise ValueError(f"workers must be a positive number or 'auto', not {workers!r}")
    return max(1, min(wanted, n_items))


def chunk_size(n_items: int, workers: int) -> int:
    """Items sent to a worker at a time: large enough to make the round trips cheap, small
    enough that both workers stay busy to the end and progress moves smoothly."""
    return max(1, min(MAX_CHUNK, n_items // (workers * IN_FLIGHT_PER_WORKER)))


# ---------------------------------------------------------------- the worker side

_CONTEXT: Any = None
_ROLE = "main"  # "worker" in a pool's worker process, "retry" where one item runs again after a crash


def _init_worker(context: Any, role: str = "worker") -> None:
    global _CONTEXT, _ROLE
    _CONTEXT, _ROLE = context, role
    import gc

    gc.freeze()  # what the worker started with lives as long as it does: the collector need not scan it
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: Any) -> None:
    """A pool that breaks or shuts down terminates its workers: the files one was writing go too."""
    from toolkit.files import remove_pending

    remove_pending()
    os._exit(128 + signum)


def in_worker() -> bool:
    """Whether this is a worker process of :func:`ordered_map` (not the caller, and not the
    process in which an item runs again alone after its worker died). A worker is itself the
    isolation of what it runs: if it dies, its items are run again, each in its own process."""
    return _ROLE == "worker"


@contextlib.contextmanager
def budget(cpu_seconds: float | None, memory_bytes: int | None) -> Iterator[None]:
    """In a worker process, for the code inside: at most ``cpu_seconds`` more CPU time (past it
    the system ends the process with SIGXCPU, and :func:`ordered_map` runs its items again one
    by one) and ``memory_bytes`` of address space (past it allocations fail: MemoryError)."""
    try:
        import resource
    except ImportError:  # no such limits on this system
        yield
        return
    saved = {}
    try:
        if cpu_seconds:
            used = resource.getrusage(resource.RUSAGE_SELF)
            soft = math.ceil(used.ru_utime + used.ru_stime + cpu_seconds)
            saved[resource.RLIMIT_CPU] = _set_soft(resource, resource.RLIMIT_CPU, soft)
        if memory_bytes:
            saved[resource.RLIMIT_AS] = _set_soft(resource, resource.RLIMIT_AS, memory_bytes)
        yield
    finally:
        for which, old in saved.items():
            if old is not None:
                try:
                    resource.setrlimit(which, old)
                except (ValueError, OSError):
                    pass


def _set_soft(resource: Any, which: int, soft: int) -> tuple[int, int] | None:
    """Lower the soft limit to ``soft`` (never above the hard one); the old limits, or None."""
    try:
        old = resource.getrlimit(which)
        hard = old[1]
        resource.setrlimit(which, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        return old
    except (ValueError, OSError):
        return None


def _run_chunk(func: Callable[[Any, Any], Any], chunk: Sequence[Any]) -> list[Any]:
    return [func(_CONTEXT, item) for item in chunk]


# ---------------------------------------------------------------- the caller's side


def _mp_context() -> Any:
    """``fork`` where it is safe (no other thread in this process): workers start at once and
    inherit what is already imported and loaded; else a fresh interpreter per worker."""
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return mp.get_context("fork")
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def ordered_map(
    func: Callable[[Any, T], R],
    items: Iterable[T],
    *,
    context: Any = None,
    workers: int = 1,
    chunksize: int | None = None,
    on_crash: Callable[[T], R] | None = None,
    pool: bool | None = None,
) -> Iterator[R]:
    """``func(context, item)`` for every item, yielded in input order.

    ``workers`` > 1 runs them in that many processes (``func`` must be a module-level function;
    ``context`` and the items must pickle, results too); 1 runs them here, one by one, unless
    ``pool`` is True (then in one worker process). An exception raised by ``func`` is raised
    here at that item's turn. When a worker process dies, see the module docstring; without
    ``on_crash`` the crash is raised as ``RuntimeError``.
    """
    items = list(items)
    if pool is None:
        pool = workers > 1
    if not pool or not items:
        for item in items:
            yield func(context, item)
        return
    workers = max(1, workers)
    size = chunksize or chunk_size(len(items), workers)
    chunks = deque(items[i:i + size] for i in range(0, len(items), size))
    yield from _pooled(func, chunks, context, workers, on_crash)


def _pooled(func: Callable, chunks: deque, context: Any, workers: int, on_crash: Callable | None) -> Iterator[Any]:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    limit = workers * IN_FLIGHT_PER_WORKER
    while chunks:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                   initializer=_init_worker, initargs=(context,))
        flight: deque = deque()
        broken = False
        try:
            while chunks or flight:
                while chunks and len(flight) < limit:
                    try:
                        future = pool.submit(_run_chunk, func, chunks[0])
                    except BrokenProcessPool:  # a worker died since the last result
                        break
                    flight.append((chunks.popleft(), future))
                if not flight:
                    broken = True
                    break
                chunk, future = flight[0]
                try:
                    results = future.result()
                except BrokenProcessPool:
                    broken = True
                    break
                flight.popleft()
                yield from results
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        if broken:
            # the chunks that were out when a worker died: each item alone in its own process
            if not flight and chunks:
                flight.append((chunks.popleft(), None))
            lost = [item for chunk, _ in flight for item in chunk]
            for item in lost:
                yield _isolated(func, context, item, on_crash)


def _isolated(func: Callable, context: Any, item: Any, on_crash: Callable | None) -> Any:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, mp_context=_mp_context(), initializer=_init_worker,
                             initargs=(context, "retry")) as pool:
        try:
            return pool.submit(_run_chunk, func, [item]).result()[0]
        except BrokenProcessPool:
            if on_crash is None:
                raise RuntimeError(f"a worker process died while handling {item!r}") from None
            return on_crash(item)
