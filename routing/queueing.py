"""Queue and priority for a request, from its category, channel and decision flags."""

from __future__ import annotations

from collections.abc import Collection

from contracts.channels import ChannelKind
from contracts.decision import DecisionFlag as F
from contracts.decision import Priority
from routing.policy import TenantPolicy


def choose_queue(policy: TenantPolicy, category: str | None, flags: Collection[str]) -> tuple[str, str]:
    """(queue, the rule that chose it); the most specific rule wins."""
    q = policy.queues
    if F.abusive in flags:
        return q.abuse, "abuse"
    if F.chargeback in flags and policy.chargeback:
        return policy.chargeback.queue, "chargeback"
    if F.escalation_requested in flags and q.escalation:
        return q.escalation, "escalation_requested"
    for flag, queue in q.by_flag.items():
        if flag in flags:
            return queue, f"flag {flag}"
    if F.seller in flags and q.seller:
        return q.seller, "seller"
    if F.out_of_scope in flags and q.out_of_scope:
        return q.out_of_scope, "out_of_scope"
    if F.missing_info in flags and q.missing_info:
        return q.missing_info, "missing_info"
    if category and category in q.by_category:
        return q.by_category[category], f"category {category}"
    return q.default, "default"


def choose_priority(
    policy: TenantPolicy, category: str | None, channel: ChannelKind, flags: Collection[str]
) -> tuple[Priority, list[str]]:
    """(priority, the reasons that raised or lowered it)."""
    p = policy.priorities
    priority, why = p.by_category.get(category, p.default) if category else p.default, []
    if category in p.by_category:
        why.append(f"category {category} -> {priority.value}")
    raise_to = [(p.by_channel.get(channel), f"channel {channel.value}")]
    if F.escalation_requested in flags:
        raise_to.append((p.escalation, "escalation requested"))
    if F.seller in flags and p.seller:
        raise_to.append((p.seller, "seller"))
    if F.chargeback in flags and policy.chargeback:
        raise_to.append((policy.chargeback.priority, "chargeback"))
    for level, reason in raise_to:
        if level is not None and level.rank > priority.rank:
            priority = level
            why.append(f"{reason} -> {level.value}")
    if F.missing_info in flags and p.missing_info is not None and F.escalation_requested not in flags:
        priority = p.missing_info
        why.append(f"missing info -> {priority.value}")
    return priority, why


def bump(priority: Priority) -> Priority:
    """One level up, capped at urgent."""
    order = sorted(Priority, key=lambda x: x.rank)
    return order[min(priority.rank + 1, len(order) - 1)]
