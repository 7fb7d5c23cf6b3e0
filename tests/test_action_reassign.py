"""Reassigning a work item in Redis: the compare-and-set, claims given up or handed over, waiting items."""

from __future__ import annotations

from contracts.workitem import WorkItemState
from test_redis_queue import make_item, run  # noqa: F401 - `run` is the fixture
from workers.runtime.action_reassign import REASSIGN_RULE, reassign_item


def test_a_claimed_item_moves_to_another_queue_and_agent_and_is_claimable_there_only_when_left_open(run) -> None:
    async def body(queue, client):
        await queue.upsert_many([make_item("wi-1", queue="billing")])
        assert await queue.claim_item("wi-1", "ann") is not None
        moved = await reassign_item(queue, "wi-1", "refunds", "bob", "lead")
        assert (moved.queue, moved.state, moved.assignee) == ("refunds", WorkItemState.claimed, "bob")
        stored = await queue.get("wi-1")
        assert (stored.queue, stored.state, stored.assignee) == ("refunds", WorkItemState.claimed, "bob")
        assert stored.trace[-1].rule == REASSIGN_RULE
        assert [i.id for i in await queue.list_open("acme", "refunds")] == ["wi-1"]
        assert await queue.list_open("acme", "billing") == []
        assert await queue.claim("acme", "refunds", "cara") is None  # bob holds it
        await reassign_item(queue, "wi-1", "refunds", None, "bob")  # back to the queue
        assert (await queue.claim("acme", "refunds", "cara")).id == "wi-1"
        assert await queue.claim("acme", "billing", "dan") is None  # nothing left behind in the old queue
    run(body)


def test_a_stale_revision_writes_nothing_and_a_waiting_item_keeps_waiting(run) -> None:
    async def body(queue, client):
        await queue.upsert_many([make_item("wi-2", queue="billing")])
        item, revision = (await queue.get_many_versioned(["wi-2"]))["wi-2"]
        assert await queue.wait_customer("wi-2")  # a concurrent change raises the revision
        stale = item.model_copy(update={"queue": "refunds", "state": WorkItemState.open})
        assert not await queue.reassign(stale, revision)
        assert (await queue.get("wi-2")).queue == "billing"
        moved = await reassign_item(queue, "wi-2", "refunds", "bob", "lead")  # reads again, keeps the wait
        assert (moved.state, moved.assignee) == (WorkItemState.waiting_customer, "bob")
        assert await queue.claim("acme", "refunds", "cara") is None  # waiting items are not claimable
        assert await queue.resolve("wi-2", "bob")
        assert await reassign_item(queue, "wi-2", "billing", None, "lead") is None  # resolved: left alone
        assert (await queue.get("wi-2")).state == WorkItemState.resolved
    run(body)
