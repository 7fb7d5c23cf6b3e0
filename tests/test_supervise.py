"""supervise(): restarts a failing worker with a visible line and growing delays, returns on stop."""

from __future__ import annotations

import asyncio

import pytest

from workers.runtime.retry import Backoff
from workers.runtime.supervise import supervise

pytestmark = pytest.mark.asyncio
FAST = Backoff(first_s=0.01, cap_s=0.04)


async def test_a_failing_worker_is_restarted_with_growing_delays_until_it_runs() -> None:
    stop, lines, runs = asyncio.Event(), [], []

    async def run_once(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) <= 4:
            raise ConnectionError(f"down #{len(runs)}")
        await stop.wait()  # the fifth run works until told to stop

    task = asyncio.create_task(supervise("route worker", run_once, stop, lines.append, backoff=FAST))
    await _until(lambda: len(runs) == 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert lines == ["route worker: failed (ConnectionError: down #1); restarting in 0.01 s",
                     "route worker: failed (ConnectionError: down #2); restarting in 0.02 s",
                     "route worker: failed (ConnectionError: down #3); restarting in 0.04 s",
                     "route worker: failed (ConnectionError: down #4); restarting in 0.04 s"]  # capped


async def test_stop_ends_the_backoff_wait_and_nothing_restarts() -> None:
    stop, lines, runs = asyncio.Event(), [], []

    async def run_once(stop: asyncio.Event) -> None:
        runs.append(1)
        raise RuntimeError("broken")

    task = asyncio.create_task(supervise("sla worker", run_once, stop, lines.append,
                                         backoff=Backoff(first_s=3600, cap_s=3600)))
    await _until(lambda: lines)
    stop.set()
    await asyncio.wait_for(task, 5)  # not an hour: the wait ends with stop
    assert runs == [1] and lines == ["sla worker: failed (RuntimeError: broken); restarting in 3600 s"]


async def test_an_early_return_is_restarted_and_a_failure_while_stopping_is_raised() -> None:
    stop, lines, runs = asyncio.Event(), [], []

    async def run_once(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            return  # returned without being told to stop
        await stop.wait()
        raise ConnectionError("final checkpoint failed")

    task = asyncio.create_task(supervise("route worker", run_once, stop, lines.append, backoff=FAST))
    await _until(lambda: len(runs) == 2)
    stop.set()
    with pytest.raises(ConnectionError, match="final checkpoint"):
        await asyncio.wait_for(task, 5)
    assert lines == ["route worker: returned before it was told to stop; restarting in 0.01 s"]


async def test_a_run_already_stopped_returns_at_once() -> None:
    stop = asyncio.Event()
    stop.set()

    async def run_once(stop: asyncio.Event) -> None:
        raise AssertionError("not started once stopped")

    await asyncio.wait_for(supervise("w", run_once, stop, print), 1)


async def _until(condition) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), 5)
