"""Deliver inputs run in lanes: one work item's events in order, different items' events side by side."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from workers.runtime.deliver_lanes import run_in_lanes, work_item_of


def test_the_work_item_is_read_from_each_kind_of_input() -> None:
    assert work_item_of(orjson.dumps({"action": "route", "work_item_id": "wi-1"})) == "wi-1"
    assert work_item_of(orjson.dumps({"kind": "breach", "work_item_id": "wi-2"})) == "wi-2"
    assert work_item_of(orjson.dumps({"sink": "desk", "event": {"item": {"id": "wi-3"}}})) == "wi-3"
    assert work_item_of(b"not json") is None and work_item_of(b"[1]") is None and work_item_of(b"{}") is None


@pytest.mark.asyncio
async def test_a_blocked_item_holds_back_only_its_own_later_events() -> None:
    released, done = asyncio.Event(), []
    inputs = [("a", 1), ("b", 1), ("a", 2), ("b", 2)]

    async def handle(value: tuple[str, int]) -> str:
        item, n = value
        if value == ("a", 1):
            await released.wait()  # a slow sink: only b's events can release it
        if value == ("b", 2):
            released.set()
        done.append(value)
        return f"{item}{n}"

    # a deadline against a hang, not a speed limit: handled one at a time, ("a", 1) would wait forever
    results = await asyncio.wait_for(run_in_lanes(inputs, lambda v: v[0], handle), 30)
    assert results == ["a1", "b1", "a2", "b2"]  # in input order
    assert done.index(("a", 1)) < done.index(("a", 2)) and done.index(("b", 1)) < done.index(("b", 2))
    assert done.index(("b", 2)) < done.index(("a", 1))  # b went on while a waited


@pytest.mark.asyncio
async def test_inputs_without_a_lane_are_each_their_own() -> None:
    results = await run_in_lanes([1, 2, 3], lambda v: None, lambda v: asyncio.sleep(0, result=v * 10))
    assert results == [10, 20, 30]
