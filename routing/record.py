"""record(state, message, decision, policy): apply a decision to the routing state."""

from __future__ import annotations

from contracts.decision import Action, Decision, FollowUpKind, MergeDecision, RouteDecision
from contracts.decision import DecisionFlag as F
from contracts.inbound import InboundMessage
from routing.dedupe import identity_keys, redelivery_key, subject_key
from routing.policy import TenantPolicy
from routing.similarity import fingerprint
from routing.state import MemoryState, OpenItem, Seen


def record(state: MemoryState, message: InboundMessage, decision: Decision, policy: TenantPolicy) -> None:
    """Remember what was decided so the next decision sees it; recording a decision twice changes nothing."""
    key = redelivery_key(message)
    if state.seen_before(key) is not None:
        return
    # the item in this state the message went to (an abuse quarantine's review item is not in the state)
    work_item = decision.work_item_id if isinstance(decision, RouteDecision | MergeDecision) else None
    state.remember(key, Seen(message_id=message.id, at=message.received_at, work_item_id=work_item))
    if decision.action == Action.drop:
        return
    identity = identity_keys(message)
    state.link(identity, decision.customer)
    horizon = message.received_at - policy.flood.window.as_timedelta()
    state.note_message(decision.customer, message.received_at, horizon)
    if F.abusive in decision.flags:
        state.add_strike(decision.customer)
        if any(f.kind == FollowUpKind.suspend_support for f in decision.follow_ups):
            suspension = policy.abuse.suspension
            state.suspend(decision.customer, message.received_at + suspension.as_timedelta() if suspension else None)
    if decision.action in (Action.route, Action.merge):
        state.note_contact(decision.customer, message.received_at)
    if decision.action == Action.route:
        assert decision.queue is not None  # decide() routes to a queue
        text = f"{message.subject}\n{message.text}" if message.subject else message.text
        state.open(OpenItem(
            id=decision.work_item_id, customer=decision.customer, category=decision.category, queue=decision.queue,
            priority=decision.priority, channel=message.channel, conversation_key=message.conversation_key,
            opened_at=message.received_at, last_seen=message.received_at, tokens=fingerprint(text),
            references=decision.references, channels_seen=(message.channel,), message_ids=(message.id,),
            sla=decision.sla,
        ))
        if message.reply.message_id:
            state.attach(state.items[decision.work_item_id], set(), message.reply.message_id)
        if subject := subject_key(message):
            state.retie(state.items[decision.work_item_id], subject)
    elif decision.action == Action.merge:
        item = state.items.get(decision.work_item_id)
        if item is None:
            return
        item.last_seen = max(item.last_seen, message.received_at)
        item.add_channel(message.channel)
        item.add_message(message.id)
        item.add_references(decision.references)
        item.priority = decision.priority
        if F.repeated_request in decision.flags:
            item.repeat_count += 1
        state.item_changed(item)
        state.attach(item, set(decision.references), message.conversation_key)
        if message.reply.message_id:
            state.attach(item, set(), message.reply.message_id)
        if subject := subject_key(message):
            state.retie(item, subject)
