"""Reassign a work item to another queue and/or agent, applied in Redis before the action is published."""

from __future__ import annotations

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.decision import TraceStep
from contracts.workitem import WorkItem, WorkItemState

REASSIGN_RULE = "agent.reassign"
ATTEMPTS = 5  # optimistic rounds against concurrent writers (merges, escalations, claims)


async def reassign_item(queue: RedisWorkQueue, item_id: str, to_queue: str, to_agent: str | None,
                        by: str) -> WorkItem | None:
    """The moved item, or None when it is unknown or resolved by now.

    With `to_agent` the item is held by that agent in `to_queue`; without, it is open there for anyone to claim
    (a claim someone held is given up). A waiting item keeps waiting for the customer, with its new holder. The
    write is a compare-and-set on the item's revision: whatever changed it meanwhile is read again, not lost.
    """
    for _ in range(ATTEMPTS):
        found = await queue.get_many_versioned([item_id])
        if not found:
            return None
        item, revision = found[item_id]
        if item.state == WorkItemState.resolved:
            return None
        if item.state == WorkItemState.waiting_customer:
            state = WorkItemState.waiting_customer
        else:
            state = WorkItemState.claimed if to_agent else WorkItemState.open
        where = f"{item.queue} -> {to_queue}" if to_queue != item.queue else to_queue
        moved = item.model_copy(update={
            "queue": to_queue,
            "state": state,
            "assignee": to_agent,
            "trace": [*item.trace, TraceStep(rule=REASSIGN_RULE, outcome=f"reassigned by {by}: {where}",
                                             detail=f"to agent {to_agent}" if to_agent else "open for claiming")],
        })
        if await queue.reassign(moved, revision):
            return moved
    raise RuntimeError(f"work item {item_id} kept changing while reassigning it")
