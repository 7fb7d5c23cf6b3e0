"""Run a worker coroutine until stop, restarting it with capped exponential backoff when it fails unexpectedly."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from workers.runtime.retry import Backoff

RESTART_BACKOFF = Backoff(first_s=1.0, cap_s=30.0)


async def supervise(name: str, run_once: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event,
                    echo: Callable[[str], None], *, backoff: Backoff = RESTART_BACKOFF) -> None:
    """Return once `stop` is set and `run_once` has returned; restart it after a failure or an early return.

    Each restart is announced (`"<name>: failed (<ExcType>: msg); restarting in N s"`) and waits longer than the
    one before, up to `backoff.cap_s`; a run that lasted longer than the cap starts the backoff over. A failure
    while stopping is raised, not restarted: the caller reports it.
    """
    delays = backoff.delays()
    while not stop.is_set():
        started = time.monotonic()
        try:
            await run_once(stop)
        except Exception as exc:  # any fault of the worker is restarted; CancelledError is not one
            if stop.is_set():
                raise
            what = f"failed ({type(exc).__name__}: {exc})"
        else:
            if stop.is_set():
                return
            what = "returned before it was told to stop"
        if time.monotonic() - started > backoff.cap_s:
            delays = backoff.delays()
        delay = next(delays)
        echo(f"{name}: {what}; restarting in {delay:g} s")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
