"""The WorkItem agents see, built from a routing decision and the routing state's view of the item."""

from __future__ import annotations

from contracts.channels import CAPABILITIES
from contracts.decision import Decision, MergeDecision, QuarantineDecision, RouteDecision
from contracts.inbound import InboundMessage
from contracts.outbound import ReplyTarget
from contracts.workitem import WorkItem
from routing.state import OpenItem


def opens_item(decision: Decision) -> RouteDecision | QuarantineDecision | None:
    """The decision itself when it opens a work item: a `route`, or an abuse quarantine's review item."""
    if isinstance(decision, RouteDecision):
        return decision
    if isinstance(decision, QuarantineDecision) and decision.work_item_id is not None:
        return decision
    return None


def opened_item(message: InboundMessage, decision: RouteDecision | QuarantineDecision,
                reply_to: ReplyTarget | None = None) -> WorkItem:
    """A new work item for a `route` decision, or the review item of a quarantine that names one; the decision
    trace travels with it (`reply_to`: the message's `reply_target`, when the caller has it already)."""
    if decision.work_item_id is None:
        raise ValueError(f"decision on {decision.message_id} opens no work item")
    return WorkItem(
        id=decision.work_item_id, tenant=decision.tenant, queue=decision.queue or "", category=decision.category,
        priority=decision.priority, channel=message.channel, customer=decision.customer,
        conversation_key=message.conversation_key, subject=message.subject, text=message.text,
        opened_at=message.received_at, message_ids=[message.id], channels_seen=[message.channel],
        references=decision.references, flags=[f.value for f in decision.flags], sla=decision.sla,
        trace=decision.trace, reply_to=reply_to or reply_target(message),
    )


def reply_target(message: InboundMessage) -> ReplyTarget:
    """Where an answer to this message goes: the same channel, sender, thread and business address."""
    endpoint = next((e.value for e in message.addressed_to if e.kind == CAPABILITIES[message.channel].endpoint_kind),
                    None)
    return ReplyTarget(channel=message.channel, recipient=message.sender.platform_id,
                       conversation_key=message.conversation_key, endpoint=endpoint,
                       provider_message_id=message.provider_message_id, received_at=message.received_at,
                       subject=message.subject)


def merged_item(stored: WorkItem, decision: MergeDecision, state_item: OpenItem | None,
                reply_to: ReplyTarget | None = None) -> WorkItem:
    """The stored item after a `merge`: repeat count, channels, references, priority and where to reply move;
    the SLA does not."""
    message_ids = list(dict.fromkeys([*stored.message_ids, decision.message_id]))
    channels = list(dict.fromkeys([*stored.channels_seen, decision.channel]))
    flags = list(dict.fromkeys([*stored.flags, *(f.value for f in decision.flags)]))
    return stored.model_copy(update={
        "message_ids": message_ids,
        "channels_seen": channels,
        "repeat_count": state_item.repeat_count if state_item else decision.repeat_count,
        "references": sorted({*stored.references, *decision.references}),
        "priority": max(stored.priority, decision.priority, key=lambda p: p.rank),  # never undo an escalation
        "flags": flags,
        "trace": [*stored.trace, *decision.trace[-3:]],
        "reply_to": reply_to or stored.reply_to,
    })
