"""pytest plugin: a test that hangs fails after a while, with the stacks of its asyncio tasks, instead of holding CI."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading

import pytest


# A test that hangs fails after this long, with the stacks of its asyncio tasks, instead of holding CI to its limit
# (an `await` without a deadline, e.g. on a server that never answers). The longest test takes about a minute.
HANG_SECONDS = int(os.environ.get("OMNIROUTE_TEST_HANG_SECONDS", "300"))


def _hung(signum: int, frame: object) -> None:
    try:
        tasks = asyncio.all_tasks(asyncio.get_running_loop())
    except RuntimeError:
        tasks = set()
    stacks = io.StringIO()
    for task in tasks:
        task.print_stack(file=stacks)
    raise TimeoutError(f"test still running after {HANG_SECONDS}s (OMNIROUTE_TEST_HANG_SECONDS); "
                       f"its asyncio tasks:\n{stacks.getvalue() or '(no event loop running)'}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if HANG_SECONDS <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
