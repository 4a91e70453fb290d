"""The reading helper as a fork of the calling process (toolkit.isolation)."""

from __future__ import annotations

import os
import select
import sys
import threading

import pytest

from toolkit import isolation
from toolkit.isolation import Budget, HelperCrashed, run_isolated, start_helper

BUDGET = Budget(30.0, 2 << 30)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper is forked on Linux only")

_PREPARED = False


def _prepare() -> None:
    global _PREPARED
    _PREPARED = True


def _prepared() -> bool:
    return _PREPARED


def _parent_pid() -> int:
    return os.getppid()


def _die() -> None:
    os._exit(3)


@pytest.fixture(autouse=True)
def fresh_helper():
    isolation.stop_helper()
    yield
    isolation.stop_helper()


@linux_only
def test_the_helper_is_a_fork_that_ran_prepare_first():
    if not isolation._may_fork(BUDGET) or threading.active_count() != 1:
        pytest.skip("this test process cannot fork its helper (threads or size)")
    start_helper(_prepare, budget=BUDGET)
    assert run_isolated(_parent_pid, budget=BUDGET) == os.getpid()
    assert run_isolated(_prepared, budget=BUDGET) is True  # prepare ran there...
    assert _PREPARED is False  # ... not here


@linux_only
def test_the_forked_helper_holds_none_of_our_pipes():
    """A pipe this process has open is not kept open by the helper: closing our write end
    ends it (else a reader here would wait forever, as a parent waits on a worker's pipe)."""
    if not isolation._may_fork(BUDGET):
        pytest.skip("this test process cannot fork its helper")
    r, w = os.pipe()
    try:
        start_helper(budget=BUDGET)
        assert run_isolated(_parent_pid, budget=BUDGET) == os.getpid()
        os.close(w)
        w = None
        readable, _, _ = select.select([r], [], [], 10)
        assert readable and os.read(r, 1) == b""
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


def test_a_helper_that_dies_is_replaced_for_the_next_call():
    with pytest.raises(HelperCrashed):
        run_isolated(_die, budget=BUDGET)
    assert run_isolated(_parent_pid, budget=BUDGET) == os.getpid()
