"""A batch of deliver inputs run as lanes: one lane per work item, in order within it, lanes in parallel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import orjson

T = TypeVar("T")
R = TypeVar("R")


def work_item_of(raw: bytes) -> str | None:
    """The work item a deliver input is about: decisions, SLA events and actions name it; a replayed dead letter
    carries its event's item. None for a record that is not JSON (its handler reports it)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    if "work_item_id" in body:
        return body["work_item_id"]
    item = (body.get("event") or {}).get("item") if isinstance(body.get("event"), dict) else None
    return item.get("id") if isinstance(item, dict) else None


async def run_in_lanes(inputs: Sequence[T], lane_of: Callable[[T], str | None],
                       handle: Callable[[T], Awaitable[R]]) -> list[R]:
    """`handle` every input; those of one lane one after another in their order, the lanes concurrently.

    Results come back in input order. Inputs without a lane each get a lane of their own.
    """
    lanes: dict[object, list[int]] = {}
    for index, value in enumerate(inputs):
        lanes.setdefault(lane_of(value) or ("alone", index), []).append(index)
    results: list[R | None] = [None] * len(inputs)

    async def run(indexes: list[int]) -> None:
        for index in indexes:
            results[index] = await handle(inputs[index])

    await asyncio.gather(*(run(indexes) for indexes in lanes.values()))
    return results  # type: ignore[return-value] - every index was filled
