"""decide(message, state, now, policy) -> Decision: the routing pipeline, pure and explained step by step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.decision import (
    Decision,
    DropDecision,
    FollowUp,
    FollowUpKind,
    MergeDecision,
    QuarantineDecision,
    RejectDecision,
    RouteDecision,
    SlaTargets,
    TraceStep,
)
from contracts.decision import (
    DecisionFlag as F,
)
from contracts.inbound import InboundMessage, MessageKind
from routing.analysis import Analysis, analyse, full_text
from routing.compiled import CompiledPolicy, compile_policy
from routing.confidence import low_confidence
from routing.dedupe import find_merge_target, identity_keys, live_session_item, redelivery_key
from routing.official import matched_official_endpoint
from routing.policy import ChargebackRule, TenantPolicy
from routing.queueing import bump
from routing.references import extract_references
from routing.sla import compute_targets, is_outside_hours, public_holiday
from routing.state import MemoryState

_DROP_KINDS = {
    MessageKind.echo: (F.echo, "the business's own message echoed back"),
    MessageKind.auto_reply: (F.auto_reply, "automatic reply (out-of-office, vacation, RFC 3834)"),
    MessageKind.read_receipt: (F.not_customer_message, "read receipt"),
    MessageKind.system_notification: (F.not_customer_message, "our own notification"),
    MessageKind.reaction: (F.not_customer_message, "reaction to an earlier message"),
    MessageKind.reaction_removed: (F.not_customer_message, "reaction removed"),
    MessageKind.unsend: (F.not_customer_message, "customer deleted an earlier message"),
    MessageKind.system_notice: (F.not_customer_message, "platform notice about the customer"),
}
_QUARANTINE_KINDS = {
    MessageKind.bounce: "delivery failure report (bounce): check the customer's address",
    MessageKind.complaint: "abuse report from a mailbox provider",
}

# Steps that read the same on every message are built once (trace steps are never changed after they are made)
_CUSTOMER_MESSAGE = {kind: TraceStep(rule="message_kind", outcome="customer message", detail=kind.value)
                     for kind in MessageKind}
_NOT_REDELIVERED = TraceStep(rule="dedupe.redelivery", outcome="new")
_NEW_REQUEST = TraceStep(rule="dedupe.repeat", outcome="new request")


@dataclass(slots=True)
class _Ctx:
    message: InboundMessage
    state: MemoryState
    now: datetime
    cp: CompiledPolicy
    customer: str
    flags: list[F] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)

    def base(self, analysis: Analysis | None = None) -> dict:
        flags = list(dict.fromkeys([*self.flags, *(analysis.flags if analysis else [])]))
        trace = [*self.trace, *(analysis.trace if analysis else [])]
        return dict(
            message_id=self.message.id, tenant=self.message.tenant, channel=self.message.channel,
            customer=self.customer, flags=flags, trace=trace, decided_at=self.now,
            category=analysis.category if analysis else None,
            category_confidence=round(analysis.confidence, 3) if analysis else None,
            references=sorted(analysis.references) if analysis else [],
        )


def decide(message: InboundMessage, state: MemoryState, now: datetime, policy: TenantPolicy) -> Decision:
    """What to do with one inbound message, given the state so far; `state` is only read."""
    if message.tenant != policy.tenant:
        raise ValueError(f"message is for tenant {message.tenant!r} but the policy is {policy.tenant!r}")
    cp = compile_policy(policy)
    ctx = _Ctx(message, state, now, cp, customer=state.customer_for(identity_keys(message)))
    for gate in _GATES:
        decision = gate(ctx)
        if decision is not None:
            return decision
    return _route_or_merge(ctx, analyse(message, cp))


def _kind_gate(ctx: _Ctx) -> Decision | None:
    kind = ctx.message.kind
    if kind in _DROP_KINDS:
        flag, reason = _DROP_KINDS[kind]
        ctx.flags.append(flag)
        ctx.trace.append(TraceStep(rule="message_kind", outcome="drop", detail=reason))
        return DropDecision(**ctx.base(), reason=reason)
    if kind in _QUARANTINE_KINDS:
        ctx.flags.append(F.bounce if kind == MessageKind.bounce else F.not_customer_message)
        ctx.trace.append(TraceStep(rule="message_kind", outcome="quarantine", detail=_QUARANTINE_KINDS[kind]))
        return QuarantineDecision(**ctx.base(), reason=_QUARANTINE_KINDS[kind])
    ctx.trace.append(_CUSTOMER_MESSAGE[kind])
    return None


def _redelivery_gate(ctx: _Ctx) -> Decision | None:
    seen = ctx.state.seen_before(redelivery_key(ctx.message))
    if seen is None:
        ctx.trace.append(_NOT_REDELIVERED)
        return None
    ctx.flags.append(F.duplicate)
    detail = f"provider id {ctx.message.provider_message_id} already decided at {seen.at.isoformat()}"
    ctx.trace.append(TraceStep(rule="dedupe.redelivery", outcome="duplicate", detail=detail))
    return DropDecision(**ctx.base(), reason="provider redelivery", duplicate_of=seen.message_id)


def _official_gate(ctx: _Ctx) -> Decision | None:
    endpoint = matched_official_endpoint(ctx.message, ctx.cp.official)
    if endpoint is not None:
        ctx.trace.append(TraceStep(rule="official_channel", outcome="official", detail=f"{endpoint.kind.value} {endpoint.value}"))
        return None
    sent_to = ", ".join(f"{e.kind.value} {e.value}" for e in ctx.message.addressed_to) or "no recipient"
    ctx.flags.append(F.unofficial_channel)
    ctx.trace.append(TraceStep(rule="official_channel", outcome="reject", detail=f"addressed to {sent_to}"))
    return RejectDecision(**ctx.base(), reason=f"not an official channel of {ctx.cp.policy.name}: {sent_to}",
                          follow_ups=[FollowUp(kind=FollowUpKind.auto_reply, text=ctx.cp.policy.unofficial_reply)])


def _suspended_gate(ctx: _Ctx) -> Decision | None:
    if not ctx.state.is_suspended(ctx.customer, ctx.message.received_at):
        return None
    ctx.flags.append(F.suspended)
    ctx.trace.append(TraceStep(rule="suspension", outcome="reject", detail=f"support suspended for {ctx.customer}"))
    return RejectDecision(**ctx.base(), reason="support access is suspended for this customer")


def _flood_gate(ctx: _Ctx) -> Decision | None:
    flood, message = ctx.cp.policy.flood, ctx.message
    session = live_session_item(ctx.state, message, ctx.cp.policy.dedupe)
    limit = flood.session_max_messages if session is not None and flood.session_max_messages else flood.max_messages
    count = ctx.state.messages_since(ctx.customer, message.received_at - flood.window.as_timedelta())
    if count < limit:
        return None
    ctx.flags.append(F.rate_limited)
    what = "lines of a live chat session" if limit != flood.max_messages else "messages"
    detail = f"{count} {what} in the last {flood.window} (limit {limit})"
    follow = [FollowUp(kind=FollowUpKind.auto_reply, text=flood.reply)] if flood.reply else []
    item = session or _latest_open_item(ctx)
    if item is None:
        ctx.trace.append(TraceStep(rule="flood", outcome="reject", detail=detail))
        return RejectDecision(**ctx.base(), reason="too many messages in a short time", follow_ups=follow)
    # the flood reply promises an answer together: attach the message to the open work, without new work
    ctx.flags.append(F.follow_up)
    ctx.trace.append(TraceStep(rule="flood", outcome="merge", detail=f"{detail}; attached to open item {item.id}"))
    return MergeDecision(**{**ctx.base(), "category": item.category}, queue=item.queue, priority=item.priority,
                         sla=item.sla, work_item_id=item.id, repeat_count=item.repeat_count, follow_ups=follow)


def _latest_open_item(ctx: _Ctx):
    window = ctx.cp.policy.dedupe.repeat_window.as_timedelta()
    items = [i for i in ctx.state.open_items_for(ctx.customer) if ctx.message.received_at - i.last_seen <= window]
    return max(items, key=lambda i: i.last_seen, default=None)


_GATES: tuple[Callable[[_Ctx], Decision | None], ...] = (
    _kind_gate, _redelivery_gate, _official_gate, _suspended_gate, _flood_gate,
)


def merge_references(message: InboundMessage, policy: TenantPolicy) -> set[str]:
    """The order references decide() may merge `message` on (as `Decision.references` gives them).

    None for a message refused before its text is read: not a customer message, or not sent to an official
    channel. Suspensions and flood limits depend on the state, so a message they refuse still gives its references.
    """
    if message.kind in _DROP_KINDS or message.kind in _QUARANTINE_KINDS:
        return set()
    cp = compile_policy(policy)
    if matched_official_endpoint(message, cp.official) is None:
        return set()
    return extract_references(full_text(message), cp.references)


def _route_or_merge(ctx: _Ctx, analysis: Analysis) -> Decision:
    policy, message = ctx.cp.policy, ctx.message
    if analysis.abusive:
        threat = _threat(ctx, analysis)
        return threat if threat is not None else _abusive(ctx, analysis)
    if analysis.out_of_scope_rejected:
        return RejectDecision(**ctx.base(analysis), reason=f"out of scope: {analysis.out_of_scope_rejected}",
                              follow_ups=analysis.follow_ups)
    if analysis.chargeback and policy.chargeback is not None:  # analyse() sets it only under a chargeback rule
        _chargeback(ctx, analysis, policy.chargeback)
    target = find_merge_target(ctx.state, message, ctx.customer, analysis, policy.dedupe)
    if target is not None:
        item, flags, why = target
        ctx.flags.extend(flags)
        ctx.trace.append(TraceStep(rule="dedupe.repeat", outcome="merge", detail=why))
        priority = max(item.priority, ctx.cp.routing(analysis.category, message.channel, analysis.flags)[2],
                       key=lambda p: p.rank)
        if F.repeated_request in flags and item.repeat_count >= 1:
            priority = bump(priority)
        return MergeDecision(**{**ctx.base(analysis), "category": item.category}, queue=item.queue,
                             priority=priority, sla=item.sla, work_item_id=item.id,
                             repeat_count=item.repeat_count + (F.repeated_request in flags),
                             follow_ups=[f for f in analysis.follow_ups if f.kind != FollowUpKind.request_info])
    ctx.trace.append(_NEW_REQUEST)
    return _route(ctx, analysis)


def _chargeback(ctx: _Ctx, analysis: Analysis, rule: ChargebackRule) -> None:
    """A threat gets the policy's "contact us first" reply; a chargeback filed after the customer wrote to support
    gets the after-contact follow-ups; one filed without any contact, the policy's consequences."""
    kinds: list[FollowUpKind]
    if analysis.chargeback == "threatened":
        kinds, outcome, detail = [], "threatened", "announced, not initiated: asked to contact support first"
        if rule.threat_reply:
            analysis.follow_ups.append(FollowUp(kind=FollowUpKind.auto_reply, text=rule.threat_reply))
    elif (last := ctx.state.contacted_before(ctx.customer, ctx.message.received_at)) is not None:
        analysis.flags.append(F.prior_contact)
        kinds, outcome = rule.after_contact_follow_ups, "filed after contacting support"
        detail = f"the customer last wrote to support at {last.isoformat()}"
    else:
        kinds, outcome, detail = rule.follow_ups, "filed without contacting support", "no earlier contact in state"
    analysis.follow_ups.extend(FollowUp(kind=k) for k in kinds)
    follow = ", ".join(k.value for k in kinds) or "none"
    analysis.trace.append(TraceStep(rule="chargeback", outcome=outcome, detail=f"{detail}; follow-ups: {follow}"))


def _threat(ctx: _Ctx, analysis: Analysis) -> Decision | None:
    """A threat of harm gets the policy's strongest action (`abuse.threat`): new work in its queue (a supervisor's)
    at its priority, with the SLA rules' deadlines, and its follow-ups at once, with no strike count; None for
    other abuse, or when the policy names no such action."""
    if F.threat not in analysis.flags:
        return None
    abuse = ctx.cp.policy.abuse
    rule = abuse.threat
    if rule is None:
        analysis.trace.append(TraceStep(rule="abuse.threat", outcome="usual abuse action",
                                        detail="the policy names no stronger action for threats"))
        return None
    reply = rule.reply or abuse.reply
    follow = [FollowUp(kind=FollowUpKind.auto_reply, text=reply)] if reply else []
    follow += [FollowUp(kind=kind) for kind in rule.follow_ups]
    done = ", ".join(kind.value for kind in rule.follow_ups) or "none"
    if FollowUpKind.suspend_support in rule.follow_ups:
        done += f" (support suspended {'for ' + str(abuse.suspension) if abuse.suspension else 'until lifted'})"
    analysis.trace.append(TraceStep(rule="abuse.threat", outcome=rule.queue,
                                    detail=f"{rule.section}: threat of harm, to {rule.queue} at "
                                           f"{rule.priority.value}; follow-ups: {done}"))
    # a supervisor must act on it, so it opens work (with clocks) rather than waiting on the quarantine topic
    sla = _escalates_with_queue(ctx, analysis, _deadlines(ctx, analysis), rule.queue)
    return RouteDecision(**ctx.base(analysis), queue=rule.queue, priority=rule.priority, sla=sla,
                         work_item_id=f"wi-{ctx.message.id}", follow_ups=follow)


def _abusive(ctx: _Ctx, analysis: Analysis) -> Decision:
    abuse = ctx.cp.policy.abuse
    strikes = ctx.state.strikes_of(ctx.customer) + 1
    follow = [FollowUp(kind=FollowUpKind.auto_reply, text=abuse.reply)] if abuse.reply else []
    for kind in abuse.follow_ups:
        if kind == FollowUpKind.suspend_support and strikes < abuse.suspend_after:
            continue
        follow.append(FollowUp(kind=kind))
    suspends = FollowUpKind.suspend_support in abuse.follow_ups
    ctx.trace.append(TraceStep(rule="abuse.action", outcome=abuse.action,
                               detail=f"strike {strikes} of {abuse.suspend_after} before suspension" if suspends
                               else f"strike {strikes}; the policy suspends no one"))
    queue = ctx.cp.routing(analysis.category, ctx.message.channel, analysis.flags)[0]
    reason = "abusive or threatening language"
    if abuse.action != "quarantine":
        return RejectDecision(**ctx.base(analysis), queue=queue, reason=reason, follow_ups=follow)
    # quarantined for a person: a review item in the abuse queue, kept out of the routing state so that nothing
    # the customer writes later merges into it
    review = "review item opened for a person" if queue else "the policy routes abuse to no queue"
    ctx.trace.append(TraceStep(rule="abuse.review", outcome=queue or "no queue", detail=review))
    return QuarantineDecision(**ctx.base(analysis), queue=queue, reason=reason, follow_ups=follow,
                              work_item_id=f"wi-{ctx.message.id}" if queue else None)


def _route(ctx: _Ctx, analysis: Analysis) -> Decision:
    policy, message = ctx.cp.policy, ctx.message
    if (unsure := low_confidence(analysis.candidates)) is not None:
        # new work whose category is a near tie: flagged for a person to review (queues may route on the flag)
        analysis.flags.append(F.low_confidence)
        analysis.trace.append(unsure)
    sla = _deadlines(ctx, analysis)
    queue, queue_rule, priority, why = ctx.cp.routing(analysis.category, message.channel, analysis.flags)
    analysis.trace.append(TraceStep(rule="queue", outcome=queue, detail=queue_rule))
    sla = _escalates_with_queue(ctx, analysis, sla, queue)
    analysis.trace.append(TraceStep(rule="priority", outcome=priority.value, detail=why))
    follow = list(analysis.follow_ups)
    if policy.csat_after_resolution:
        follow.append(FollowUp(kind=FollowUpKind.csat_after_resolution))
    return RouteDecision(**ctx.base(analysis), queue=queue, priority=priority, sla=sla,
                         work_item_id=f"wi-{message.id}", follow_ups=follow)


def _deadlines(ctx: _Ctx, analysis: Analysis) -> SlaTargets:
    """The SLA rules' deadlines for new work, with the business-hours facts they rest on in the trace."""
    message = ctx.message
    first, resolution = ctx.cp.sla_clocks(message.channel, analysis.category, analysis.flags)
    hours_calendar = ctx.cp.calendar_for(message.channel)
    if is_outside_hours(hours_calendar, message.received_at):
        analysis.flags.append(F.outside_hours)
        holiday = public_holiday(hours_calendar, message.received_at)
        if holiday:
            analysis.flags.append(F.holiday)
        analysis.trace.append(TraceStep(rule="business_hours", outcome="closed",
                                        detail=f"{hours_calendar.name} calendar closed" + (f" ({holiday})" if holiday else "")))
    sla = compute_targets(first, resolution, message.received_at, default_warn_at=ctx.cp.policy.sla.warn_at)
    analysis.trace.append(TraceStep(rule=f"sla.{sla.rule}", outcome="deadline",
                                    detail=f"first response due {sla.first_response_due.isoformat() if sla.first_response_due else '-'}"))
    if sla.resolution_rule:
        assert sla.resolution_due is not None  # a resolution rule of its own comes with its deadline
        analysis.trace.append(TraceStep(rule=f"sla.{sla.resolution_rule}", outcome="deadline",
                                        detail=f"resolution due {sla.resolution_due.isoformat()}"))
    return sla


def _escalates_with_queue(ctx: _Ctx, analysis: Analysis, sla: SlaTargets, queue: str) -> SlaTargets:
    """Where the rule names no escalation target, breached work goes where its queue escalates to."""
    declared = ctx.cp.policy.queues.declared.get(queue)
    if sla.escalate_to is not None or declared is None or not declared.escalate_to:
        return sla
    analysis.trace.append(TraceStep(rule="queue.escalate_to", outcome=declared.escalate_to,
                                    detail=f"a missed deadline moves the work from {queue} to {declared.escalate_to}"))
    return sla.model_copy(update={"escalate_to": declared.escalate_to})
