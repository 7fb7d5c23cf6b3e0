"""Refund clauses: which exception or exclusion a request names, the channel refunds go by, final decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.decision import DecisionFlag as F
from contracts.decision import FollowUp, FollowUpKind, TraceStep
from contracts.inbound import InboundMessage
from routing.compiled import CompiledPolicy
from routing.escalation import affirmed
from routing.required_info import outside_window

if TYPE_CHECKING:
    from routing.analysis import Analysis


def refund_clauses(result: Analysis, message: InboundMessage, text: str, cp: CompiledPolicy) -> None:
    """Flags, follow-ups and trace steps for the policy's refund clauses (`refunds` in the policy file)."""
    rules = cp.policy.refunds
    if rules is None:
        return
    if cp.appeals and any(affirmed(rx, text) for rx in cp.appeals):
        result.flags.append(F.decision_final)
        result.trace.append(TraceStep(rule="refunds.decision_final", outcome="appeal of a final decision",
                                      detail=rules.decision_final.wording))
        return
    if cp.refund_requests and any(affirmed(rx, text) for rx in cp.refund_requests):
        result.flags.append(F.refund_request)
        result.trace.append(TraceStep(rule="refunds.request", outcome="refund requested"))
    else:
        return
    for case, patterns in zip(rules.cases, cp.refund_cases):
        if not any(affirmed(rx, text) for rx in patterns):
            continue
        result.flags.append(F.refund_exception if case.refundable else F.refund_excluded)
        said = [f"evidence: {', '.join(case.evidence)}"] if case.evidence else []
        if case.window is not None:
            old = outside_window(text, message.received_at, case.window.as_timedelta())
            said.append(f"stated date {old} is older than {case.window}" if old else f"within {case.window}")
        if case.note:
            said.append(case.note)
        result.trace.append(TraceStep(rule=f"refunds.{case.name}",
                                      outcome=f"{'exception' if case.refundable else 'excluded'} {case.section}",
                                      detail="; ".join(said)))
        break
    if rules.request_channels is not None and message.channel not in rules.request_channels:
        where = ", ".join(c.value for c in rules.request_channels)
        result.trace.append(TraceStep(rule="refunds.channel", outcome="pointer sent",
                                      detail=f"refund requests are made by {where}; routed all the same"))
        if rules.other_channel_reply:
            result.follow_ups.append(FollowUp(kind=FollowUpKind.auto_reply, text=rules.other_channel_reply))
