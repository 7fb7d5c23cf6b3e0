"""An agent's action checked against the work item before it is accepted; claims, resolutions and reassignments
applied atomically.

Outcomes are values: `Accepted` (with the escalation target, the reassignment, or the text asking the customer for
information filled in) or `Refused` with the HTTP status and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.workitem import AgentActionKind, WorkItem, WorkItemState
from routing.information_request import information_request
from routing.policy import TenantPolicy
from workers.runtime.action_reassign import reassign_item


@dataclass(frozen=True)
class Accepted:
    escalate_to: str | None = None
    to_queue: str | None = None  # reassign: where the item is now
    to_agent: str | None = None
    text: str | None = None  # request_info: what the customer is sent


@dataclass(frozen=True)
class Refused:
    status: int  # 404 unknown item, 409 conflicts with the item's state, 422 an unknown target queue
    error: str
    extra: dict | None = None


def known_queues(policy: TenantPolicy) -> set[str]:
    """Every queue the tenant's policy can route or escalate to."""
    q = policy.queues
    found = {q.default, q.abuse, *q.by_category.values(), q.seller, q.escalation, q.missing_info, q.out_of_scope,
             *(rule.escalate_to for rule in policy.sla.rules), policy.chargeback.queue if policy.chargeback else None}
    return {name for name in found if name}


async def check_action(queue: RedisWorkQueue, policy: TenantPolicy, tenant: str, item_id: str,
                       kind: AgentActionKind, agent: str, escalate_to: str | None, *, to_queue: str | None = None,
                       to_agent: str | None = None, fields: Sequence[str] = (),
                       text: str | None = None) -> Accepted | Refused:
    item = await queue.get(item_id)
    if item is None or item.tenant != tenant:
        return Refused(404, f"no work item {item_id!r} in tenant {tenant!r}")
    if item.state == WorkItemState.resolved:
        return Refused(409, f"work item {item_id} is resolved; a {kind.value} cannot be taken")
    if kind == AgentActionKind.claim:
        return await _claim(queue, item, agent)
    if kind == AgentActionKind.resolve:
        if not await queue.resolve(item.id, agent):
            after = await queue.get(item.id)
            holder = after.assignee if after is not None else None
            return Refused(409, f"work item {item_id} is held by {holder}; only they can resolve it")
        return Accepted()
    if kind == AgentActionKind.escalate:
        target = escalate_to or policy.queues.escalation
        if target is None:
            return Refused(422, f"{tenant}'s policy names no escalation queue: give escalate_to",
                           {"known": sorted(known_queues(policy))})
        if target not in known_queues(policy):
            return Refused(422, f"unknown queue {target!r} for tenant {tenant}", {"known": sorted(known_queues(policy))})
        if target == item.queue:
            return Refused(409, f"work item {item_id} is already in {target}")
        return Accepted(escalate_to=target)
    if kind == AgentActionKind.reassign:
        return await _reassign(queue, policy, item, agent, to_queue, to_agent)
    if kind == AgentActionKind.note and not (text or "").strip():
        return Refused(422, "a note needs its text")
    if kind == AgentActionKind.request_info:
        if not fields:
            return Refused(422, "request_info needs the fields to ask for, e.g. order_number")
        if item.reply_to is None:
            return Refused(409, f"work item {item_id} has no customer message to answer; ask in the channel's own tool")
        return Accepted(text=information_request(policy, fields, text))
    return Accepted()


async def _reassign(queue: RedisWorkQueue, policy: TenantPolicy, item: WorkItem, agent: str, to_queue: str | None,
                    to_agent: str | None) -> Accepted | Refused:
    if to_queue is None and to_agent is None:
        return Refused(422, "reassign needs to_queue, to_agent or both")
    if to_queue is not None and to_queue not in known_queues(policy):
        return Refused(422, f"unknown queue {to_queue!r} for tenant {item.tenant}",
                       {"known": sorted(known_queues(policy))})
    target = to_queue or item.queue
    if target == item.queue and to_agent == item.assignee:
        held = f"held by {to_agent}" if to_agent else "open for claiming"
        return Refused(409, f"work item {item.id} is already in {target}, {held}")
    moved = await reassign_item(queue, item.id, target, to_agent, agent)
    if moved is None:
        return Refused(409, f"work item {item.id} is resolved; a reassign cannot be taken")
    return Accepted(to_queue=moved.queue, to_agent=moved.assignee)


async def _claim(queue: RedisWorkQueue, item: WorkItem, agent: str) -> Accepted | Refused:
    if item.state == WorkItemState.claimed and item.assignee == agent:
        return Accepted()  # the same claim again (a retried request)
    if await queue.claim_item(item.id, agent) is not None:
        return Accepted()
    after = await queue.get(item.id) or item
    if after.state == WorkItemState.claimed:
        return Refused(409, f"work item {item.id} is held by {after.assignee}")
    return Refused(409, f"work item {item.id} is {after.state.value}; it cannot be claimed now")
