"""Run one function in a helper process, within a time and a memory budget.

Used for everything that reads a user's file (the workbook reader, the importers, the
annotator): one pathological file can neither hang nor exhaust the batch, whatever part of the
reading it finds slow, and a parser that aborts its process (calamine parses BIFF records trusting
their length fields: a damaged .xls can make it allocate hundreds of GB) only kills the helper.

The helper is started once per process that uses it and kept for the next calls: where it is safe
(Linux, no other thread, a process much smaller than the memory budget) as a fork of this process,
which has already imported what it reads with (no new interpreter to start: a single file is
checked in a fraction of the time), else as a fresh interpreter in isolated mode; both run
:data:`_BOOTSTRAP`. Past the time
budget it is killed and restarted, past the memory budget (its address space, where the system
can limit it) the call fails with MemoryError there and the helper is restarted; a forked child
starts its own. Requests (a module-level function, pickled by reference, and its arguments) and
replies are pickles between this process and its own child, over the child's standard input and
output. Failures raise :class:`HelperCrashed`, :class:`HelperTimedOut` or
:class:`HelperOutOfMemory`; callers turn them into their own findings or errors.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Budget:
    """What one call may cost: ``seconds`` of wall time, ``memory_bytes`` of address space."""

    seconds: float
    memory_bytes: int


class IsolationError(Exception):
    """The helper could not give an answer for one call."""


class HelperCrashed(IsolationError):
    """The helper process died during the call."""


class HelperTimedOut(IsolationError):
    """The call took longer than its time budget (the helper was stopped)."""

    def __init__(self, seconds: float):
        super().__init__(f"took longer than {seconds:g} s")
        self.seconds = seconds


class HelperOutOfMemory(IsolationError):
    """The call needed more memory than its budget."""

    def __init__(self, memory_bytes: int):
        super().__init__(f"needed more than {memory_bytes} bytes")
        self.memory_bytes = memory_bytes


_IN_HELPER = False  # True inside the helper process


def in_helper() -> bool:
    """Whether this process is the helper (what runs here is already isolated)."""
    return _IN_HELPER


def run_isolated(func: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *, budget: Budget,
                 writes: bool = False, isolate: bool = True) -> Any:
    """``func(*args, **kwargs)`` in the helper process within ``budget``; returns what it
    returned, or raises what it raised, or :class:`IsolationError` (see the module docstring).
    ``func`` must be a module-level function. ``writes``: it writes an output file, so a helper
    stopped midway is first asked to unwind (removing its half-written output). Runs here when
    ``isolate`` is off, in the helper itself, or in a frozen application (no Python interpreter
    to start the helper with)."""
    if not isolate or _IN_HELPER or getattr(sys, "frozen", False):
        return func(*args, **(kwargs or {}))
    return _Helper.call((func, tuple(args), dict(kwargs or {})), budget, writes)


# ---------------------------------------------------------------- the caller's side

# started as `python -I -c _BOOTSTRAP ROOT`: isolated mode keeps the user's folder (where the
# files being read lie) and environment off the import path; ROOT is where this toolkit lives
_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); from toolkit.isolation import serve; serve()"


class _Helper:
    """The helper process; one per process that uses it, restarted after a crash, a hang or
    running out of memory."""

    _proc = None
    _lock = None
    _orphans: list = []
    _hooks = False
    _ahead: tuple[bytes, float] | None = None  # a request sent ahead of its call: (message, deadline)

    @classmethod
    def start(cls, budget: Budget, prepare: Callable[[], Any] | None) -> None:
        if cls._lock is None:
            cls._lock = threading.Lock()
        with cls._lock:
            if cls._proc is None or cls._proc.poll() is not None:
                cls._start(budget, prepare)

    @classmethod
    def _start(cls, budget: Budget, prepare: Callable[[], Any] | None = None):
        if not cls._hooks:
            import atexit

            atexit.register(cls.stop)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=cls._forget)
            cls._hooks = True
        root = str(Path(__file__).resolve().parents[1])
        cls._proc = _forked(root, prepare) if _may_fork(budget) else None
        if cls._proc is None:
            import subprocess

            cls._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOTSTRAP, root], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL)
        return cls._proc

    @classmethod
    def _forget(cls) -> None:
        """In a forked child: the parent's helper belongs to the parent (its pipes are kept
        open here, never used, so that they are never closed twice)."""
        if cls._proc is not None:
            cls._orphans.append(cls._proc)
        cls._proc = None
        cls._lock = None
        cls._ahead = None

    @staticmethod
    def _message(request: tuple, budget: Budget) -> bytes:
        blob = pickle.dumps((request, budget.memory_bytes), protocol=pickle.HIGHEST_PROTOCOL)
        return struct.pack("<Q", len(blob)) + blob

    @classmethod
    def send_ahead(cls, request: tuple, budget: Budget) -> None:
        """Send ``request`` to the running helper now, not waiting for its reply: the next call of
        the very same request takes that reply (its budget counted from now); another call first
        waits the reply out and drops it."""
        import time

        if os.name != "posix" or cls._lock is None:
            return
        with cls._lock:
            proc = cls._proc
            if cls._ahead is not None or proc is None or proc.poll() is not None:
                return
            message = cls._message(request, budget)
            if _send(proc, message, budget.seconds):
                cls._ahead = (message, time.monotonic() + budget.seconds)
            else:
                cls.stop()

    @classmethod
    def _collect_ahead(cls, proc: Any, message: bytes) -> tuple[list[bytes], bool] | None:
        """The reply to the request sent ahead if it is ``message`` (([reply], hung) as
        :func:`_exchange` gives it), else None once the helper has answered it or been stopped."""
        import time

        ahead, deadline = cls._ahead
        cls._ahead = None
        reply, hung = _exchange(proc, b"", max(0.0, deadline - time.monotonic()))
        if ahead == message:
            return reply, hung
        if not reply or _ends_helper(reply[0]):  # a helper that died, hung or ended itself
            cls.stop()
        return None

    @classmethod
    def call(cls, request: tuple, budget: Budget, writes: bool = False) -> Any:
        if cls._lock is None:
            cls._lock = threading.Lock()
        with cls._lock:
            message = cls._message(request, budget)
            collected = None
            try:
                if cls._ahead is not None:
                    collected = cls._collect_ahead(cls._proc, message)
                proc = cls._proc
                if collected is not None:
                    reply, hung = collected
                else:
                    if proc is None or proc.poll() is not None:
                        proc = cls._start(budget)
                    if os.name == "posix":
                        reply, hung = _exchange(proc, message, budget.seconds)
                    else:
                        reply, hung = _exchange_threaded(proc, message, budget.seconds)
            except BaseException:  # Ctrl-C: the helper is mid-call; stop it
                cls.stop(graceful=writes)
                raise
            if not reply:
                cls.stop(graceful=writes and hung)
                if hung:
                    raise HelperTimedOut(budget.seconds)
                raise HelperCrashed("the helper process died")
            kind, value = pickle.loads(reply[0])
            if kind == "memory":
                cls.stop()
                raise HelperOutOfMemory(budget.memory_bytes)
        if kind == "error":
            raise value
        return value

    @classmethod
    def stop(cls, graceful: bool = False) -> None:
        """End the helper: at once, or (``graceful``) first asking it to unwind for a moment."""
        proc, cls._proc = cls._proc, None
        cls._ahead = None
        if proc is None:
            return
        if graceful and proc.poll() is None:
            try:
                proc.terminate()
                proc.wait(timeout=2)
            except Exception:
                pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except Exception:
            pass


def _may_fork(budget: Budget) -> bool:
    """Whether the helper can be a fork of this process: on Linux (where a fork of a process
    without other threads is sound), with no other thread (also none outside Python), and this
    process using well under the helper's memory budget (a fork starts with its address space)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        if len(os.listdir("/proc/self/task")) != 1:
            return False
        with open("/proc/self/statm", "rb") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return False
    return size < budget.memory_bytes // 4


def start_helper(prepare: Callable[[], Any] | None = None, *, budget: Budget = Budget(60.0, 2 << 30)) -> None:
    """Start this process's helper now unless it runs, so that the first call finds it ready
    while this process goes on with its own work; where the helper is a fork, ``prepare()`` runs
    there first (e.g. loading what reading needs). ``budget``: the calls' budget to come."""
    if not getattr(sys, "frozen", False) and not _IN_HELPER:
        _Helper.start(budget, prepare)


def _forked(root: str, prepare: Callable[[], Any] | None = None) -> "_ForkedHelper | None":
    """The helper as a fork of this process, running ``prepare()`` (its errors ignored: the
    calls will meet them) then :data:`_BOOTSTRAP`, with the request and reply pipes as its
    standard input and output and /dev/null for everything else it inherited (as a fresh
    interpreter would have them); None when the fork fails."""
    try:
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # else what is buffered would be written twice
        except (AttributeError, OSError, ValueError):
            pass
    try:
        pid = os.fork()
    except OSError:
        for fd in (request_r, request_w, reply_r, reply_w):
            os.close(fd)
        return None
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the caller, which stops the helper
            _become_helper(request_r, reply_w, root)
            if prepare is not None:
                try:
                    prepare()
                except Exception:
                    pass
            exec(compile(_BOOTSTRAP, "<helper>", "exec"), {"__name__": "__main__"})
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(request_r)
    os.close(reply_w)
    return _ForkedHelper(pid, os.fdopen(request_w, "wb"), os.fdopen(reply_r, "rb"))


def _become_helper(request_r: int, reply_w: int, root: str) -> None:
    """In the forked helper: the pipes on file descriptors 0 and 1, /dev/null on 2 and on every
    other descriptor inherited (so that no pipe of the parent's is held open here, and an object
    that closes its descriptor later closes only that), fresh standard streams."""
    import fcntl
    import io

    request_r = fcntl.fcntl(request_r, fcntl.F_DUPFD, 3)
    reply_w = fcntl.fcntl(reply_w, fcntl.F_DUPFD, 3)
    null = fcntl.fcntl(os.open(os.devnull, os.O_RDWR), fcntl.F_DUPFD, 3)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in (request_r, reply_w, null):
            try:
                os.dup2(null, fd)
            except OSError:
                pass
    os.dup2(request_r, 0)
    os.dup2(reply_w, 1)
    os.dup2(null, 2)
    for fd in (request_r, reply_w):
        os.dup2(null, fd)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)))
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)))
    sys.argv = ["-c", root]


class _ForkedHelper:
    """A forked helper seen as :class:`subprocess.Popen` sees a started one (what ``_Helper`` uses)."""

    def __init__(self, pid: int, stdin: Any, stdout: Any):
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired("helper", timeout)
            time.sleep(0.002)
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


def send_ahead(func: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *, budget: Budget) -> None:
    """Send ``func(*args, **kwargs)`` to this process's running helper now and go on: the next
    :func:`run_isolated` of exactly that call, within the same budget, gets its result (the time
    budget counted from now); any other call waits it out first. Nothing happens where no helper
    runs or a call is sent ahead already."""
    _Helper.send_ahead((func, tuple(args), dict(kwargs or {})), budget)


def stop_helper() -> None:
    """End this process's helper now (the next call starts a new one)."""
    _Helper.stop()


def _ends_helper(reply: bytes) -> bool:
    """Whether the helper ended after this reply: it ran out of memory (see :func:`serve`), or
    the reply cannot be read."""
    try:
        return pickle.loads(reply)[0] == "memory"
    except Exception:  # noqa: BLE001 - a reply that cannot be read: as if the helper had died
        return True


def _send(proc: Any, message: bytes, seconds: float) -> bool | None:
    """Write ``message`` to the helper within ``seconds``: True once written, None when the time
    ran out, False when it cannot be written (the helper died)."""
    import selectors
    import time

    out_fd = proc.stdin.fileno()
    os.set_blocking(out_fd, False)
    pending = memoryview(message)
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(out_fd, selectors.EVENT_WRITE)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for _ in selector.select(left):
                try:
                    pending = pending[os.write(out_fd, pending):]
                except BlockingIOError:
                    continue
                except OSError:
                    return False
    return True


def _exchange(proc: Any, message: bytes, seconds: float) -> tuple[list[bytes], bool]:
    """Send ``message`` to the helper (none: a request sent already) and wait at most
    ``seconds`` for its reply: ([reply], False), or ([], True) when the time ran out, ([], False)
    when the helper died. The helper reads a whole request before it answers, so the request is
    written first."""
    import selectors
    import time

    deadline = time.monotonic() + seconds
    if message:
        sent = _send(proc, message, seconds)
        if not sent:
            return [], sent is None
    in_fd = proc.stdout.fileno()
    os.set_blocking(in_fd, False)
    received = bytearray()
    need = None
    with selectors.DefaultSelector() as selector:
        selector.register(in_fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return [], True
            for _ in selector.select(left):
                try:
                    chunk = os.read(in_fd, 1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    return [], False
                if not chunk:
                    return [], False
                received += chunk
                if need is None and len(received) >= 8:
                    need = 8 + struct.unpack_from("<Q", received)[0]
                if need is not None and len(received) >= need:
                    return [bytes(received[8:need])], False


def _exchange_threaded(proc: Any, message: bytes, seconds: float) -> tuple[list[bytes], bool]:
    """:func:`_exchange` where pipes cannot be waited on (Windows): a thread talks."""
    reply: list[bytes] = []

    def talk() -> None:
        try:
            proc.stdin.write(message)
            proc.stdin.flush()
            head = _read_exactly(proc.stdout, 8)
            reply.append(_read_exactly(proc.stdout, struct.unpack("<Q", head)[0]))
        except (OSError, ValueError, struct.error, EOFError):
            pass

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    thread.join(seconds)
    return reply, thread.is_alive()


def _read_exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- the helper's side


def serve() -> None:
    """The helper's loop: read a request, run it within its memory budget, write the reply;
    ends when the caller closes the pipe (or after running out of memory)."""
    global _IN_HELPER

    _IN_HELPER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the caller, which stops this process
    signal.signal(signal.SIGTERM, _unwind)
    inp, outp = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the pipe carries replies only
    while True:
        try:
            head = inp.read(8)
            if len(head) < 8:
                break
            request = _read_exactly(inp, struct.unpack("<Q", head)[0])
        except (EOFError, OSError):
            break
        try:
            (func, args, kwargs), memory = pickle.loads(request)
            _set_memory(memory)
            reply = ("ok", func(*args, **kwargs))
        except MemoryError:
            reply = ("memory", None)
        except BaseException as exc:
            reply = ("error", exc)
        try:
            blob = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            if reply[0] == "error":
                pickle.loads(blob)
        except BaseException:
            blob = pickle.dumps(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
        _set_memory(None)
        outp.write(struct.pack("<Q", len(blob)) + blob)
        outp.flush()
        if reply[0] == "memory":
            break


def _unwind(signum: int, frame: Any) -> None:
    raise SystemExit(143)  # SIGTERM: unwind, so that half-written outputs are removed


def _set_memory(limit: int | None) -> None:
    try:
        import resource
    except ImportError:  # no address-space limit on this system: the time budget still holds
        return
    try:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = resource.RLIM_INFINITY if not limit else (limit if hard == resource.RLIM_INFINITY else min(limit, hard))
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError):
        pass
