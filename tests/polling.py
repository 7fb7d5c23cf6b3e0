"""Waiting for a condition with a deadline (never a fixed sleep before an assertion), in async and blocking tests."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable


async def until(predicate: Callable[[], object], timeout: float = 30.0, what: str = "the condition", *,
                every_s: float = 0.05) -> object:
    """Poll a plain or async predicate until it is truthy and return its value; fails after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(every_s)


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, what: str = "the condition", *,
               every_s: float = 0.1) -> object:
    """The blocking twin of `until`, for tests that drive a subprocess."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every_s)
    return value
