"""Move a work item to an escalation queue, once per escalation event: state escalated, priority one level up."""

from __future__ import annotations

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.decision import Priority, TraceStep
from contracts.workitem import WorkItem, WorkItemState

ESCALATION_RULE = "sla.escalation"
_BY_RANK = sorted(Priority, key=lambda p: p.rank)
ATTEMPTS = 5  # optimistic rounds against concurrent merges


def raised(priority: Priority) -> Priority:
    """One level up; urgent stays urgent."""
    return _BY_RANK[min(priority.rank + 1, len(_BY_RANK) - 1)]


def already_applied(item: WorkItem, event_id: str) -> bool:
    return any(step.rule == ESCALATION_RULE and step.detail == event_id for step in item.trace)


async def escalate_item(queue: RedisWorkQueue, item_id: str, to: str, event_id: str, reason: str) -> WorkItem | None:
    """The moved item; None when it is unknown or resolved. Applying the same `event_id` again changes nothing.

    The event id is recorded as a trace step on the item, which is what makes a re-fired escalation (after a crash
    between the move and the Kafka acknowledgement) a no-op instead of a second priority raise. An agent's claim is
    given back first, so the escalation queue's agents see the item rather than a claim they cannot take over.
    The write is a compare-and-set on the item's revision: a merge written meanwhile is read again, not lost.
    """
    for _ in range(ATTEMPTS):
        found = await queue.get_many_versioned([item_id])
        if not found:
            return None
        item, revision = found[item_id]
        if item.state == WorkItemState.resolved:
            return None
        if already_applied(item, event_id):
            return item
        if item.state == WorkItemState.claimed and item.assignee:
            await queue.release(item_id, item.assignee)
        moved = item.model_copy(update={
            "queue": to,
            "state": WorkItemState.escalated,
            "assignee": None,
            "priority": raised(item.priority),
            "trace": [*item.trace,
                      TraceStep(rule=ESCALATION_RULE, outcome=f"{reason}: {item.queue} -> {to}", detail=event_id)],
            "flags": list(dict.fromkeys([*item.flags, "escalated"])),
        })
        if not await queue.replace_many([(moved, revision)]):
            return moved
    raise RuntimeError(f"work item {item_id} kept changing while escalating it")
