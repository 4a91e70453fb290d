"""The reading helper as a fork of the calling process (toolkit.isolation).

The fork is made only by a process that is small and has no other thread, which a test session
is not always: these run in a fresh Python process of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper is forked on Linux only")


def run_script(body: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = textwrap.dedent("""
        import os, select, sys
        from toolkit import isolation
        from toolkit.isolation import Budget, HelperCrashed, run_isolated, start_helper
        BUDGET = Budget(30.0, 2 << 30)
        assert isolation._may_fork(BUDGET), "a small single-threaded process may fork its helper"
    """) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@linux_only
def test_the_helper_is_a_fork_that_ran_prepare_first():
    out = run_script("""
        PREPARED = []

        def prepared():
            return len(PREPARED)

        start_helper(lambda: PREPARED.append(1), budget=BUDGET)
        print(run_isolated(os.getppid, budget=BUDGET) == os.getpid())
        print(run_isolated(prepared, budget=BUDGET), prepared())
    """)
    assert out.split() == ["True", "1", "0"]  # a child of ours, where prepare ran (and not here)


@linux_only
def test_the_forked_helper_holds_none_of_our_pipes():
    """A pipe this process has open is not kept open by the helper: closing our write end
    ends it (else a reader here would wait forever, as a parent waits on a worker's pipe)."""
    out = run_script("""
        r, w = os.pipe()
        start_helper(budget=BUDGET)
        assert run_isolated(os.getppid, budget=BUDGET) == os.getpid()
        os.close(w)
        readable, _, _ = select.select([r], [], [], 10)
        print(bool(readable) and os.read(r, 1) == b"")
    """)
    assert out.split() == ["True"]


def test_a_helper_that_dies_is_replaced_for_the_next_call():
    from toolkit import isolation
    from toolkit.isolation import Budget, HelperCrashed, run_isolated

    budget = Budget(30.0, 2 << 30)
    isolation.stop_helper()
    with pytest.raises(HelperCrashed):
        run_isolated(os._exit, (3,), budget=budget)
    assert run_isolated(os.getppid, budget=budget) == os.getpid()
    isolation.stop_helper()


@linux_only
def test_a_call_sent_ahead_gives_its_result_to_the_same_call():
    """The helper runs a call sent ahead while this process goes on; the same call later takes that
    result (it ran once, in the helper), another call waits it out and gets its own."""
    out = run_script("""
        import time
        from toolkit.isolation import send_ahead

        start_helper(budget=BUDGET)
        run_isolated(os.getpid, budget=BUDGET)
        send_ahead(time.time, budget=BUDGET)
        time.sleep(0.3)
        sent = run_isolated(time.time, budget=BUDGET)
        print(time.time() - sent > 0.25)  # the reply of the call made 0.3 s ago
        send_ahead(time.time, budget=BUDGET)
        print(run_isolated(os.getppid, budget=BUDGET) == os.getpid())  # another call: its own answer
        print(time.time() - run_isolated(time.time, budget=BUDGET) < 0.25)  # nothing left ahead: a new call
    """)
    assert out.split() == ["True", "True", "True"]


@linux_only
def test_a_call_sent_ahead_that_kills_the_helper():
    """The same call meets the crash as if it had been made then; another call gets a new helper."""
    out = run_script("""
        from toolkit.isolation import send_ahead

        start_helper(budget=BUDGET)
        run_isolated(os.getpid, budget=BUDGET)
        send_ahead(os._exit, (3,), budget=BUDGET)
        try:
            run_isolated(os._exit, (3,), budget=BUDGET)
        except HelperCrashed:
            print("crashed")
        send_ahead(os._exit, (3,), budget=BUDGET)
        print(run_isolated(os.getppid, budget=BUDGET) == os.getpid())
    """)
    assert out.split() == ["crashed", "True"]


@linux_only
def test_another_call_after_one_sent_ahead_ran_out_of_memory():
    """The reply of 'memory' to the call sent ahead is dropped, not taken for the next call's, and
    the helper, which ends itself after it, is replaced."""
    out = run_script("""
        from toolkit.isolation import send_ahead

        SMALL = Budget(30.0, 512 << 20)
        start_helper(budget=SMALL)
        run_isolated(os.getpid, budget=SMALL)
        send_ahead(bytearray, (1 << 30,), budget=SMALL)
        print(run_isolated(os.getppid, budget=SMALL) == os.getpid())
    """)
    assert out.split() == ["True"]
