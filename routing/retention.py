"""Which stored conversations are due for deletion under a tenant's retention periods (pure: no I/O, no clock)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from routing.policy import RetentionRule


class Why(StrEnum):
    after_closure = "after_closure"
    after_non_payment_suspension = "after_non_payment_suspension"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """What the retention job reads of a stored work item."""

    id: str
    tenant: str
    customer: str
    resolved_at: datetime | None  # None: still open (open, claimed, waiting, escalated)


@dataclass(frozen=True, slots=True)
class Due:
    """A work item whose data is to be deleted, since when, and under which period."""

    item: StoredItem
    due_at: datetime
    why: Why


def due_at(item: StoredItem, rule: RetentionRule, suspended_at: datetime | None) -> tuple[datetime, Why] | None:
    """When the item's data is due for deletion, and why; None for open work, which is never deleted.

    A resolved item is due `after_closure` after its resolution; for a customer suspended for non-payment, due
    `after_non_payment_suspension` after the suspension (never before the item was resolved), if that is sooner.
    """
    if item.resolved_at is None:
        return None
    when, why = item.resolved_at + rule.after_closure.as_timedelta(), Why.after_closure
    if suspended_at is not None and rule.after_non_payment_suspension is not None:
        after_suspension = max(suspended_at + rule.after_non_payment_suspension.as_timedelta(), item.resolved_at)
        if after_suspension < when:
            when, why = after_suspension, Why.after_non_payment_suspension
    return when, why


def plan(items: Iterable[StoredItem], rules: Mapping[str, RetentionRule],
         suspensions: Mapping[tuple[str, str], datetime], now: datetime) -> tuple[list[Due], list[StoredItem]]:
    """(items due for deletion at `now`, items kept). Items of tenants without a rule are kept.

    `suspensions`: (tenant, customer) -> when the customer's account was suspended for non-payment.
    """
    due: list[Due] = []
    kept: list[StoredItem] = []
    for item in items:
        rule = rules.get(item.tenant)
        found = due_at(item, rule, suspensions.get((item.tenant, item.customer))) if rule else None
        if found is not None and found[0] <= now:
            due.append(Due(item=item, due_at=found[0], why=found[1]))
        else:
            kept.append(item)
    return due, kept


def suspension_expired(suspended_at: datetime, rule: RetentionRule | None, now: datetime) -> bool:
    """True once a non-payment suspension's period has passed (its record may go when the customer has no data left)."""
    if rule is None or rule.after_non_payment_suspension is None:
        return False
    return suspended_at + rule.after_non_payment_suspension.as_timedelta() <= now
