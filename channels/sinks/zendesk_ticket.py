"""The Zendesk ticket of a work item (REST API v2 JSON): what creating and updating it send. Pure: no I/O.

external_id is the work item id (a retried or redelivered create finds the ticket instead of making a second);
category, queue and channel are tags (`category_<slug>`, `queue_<slug>`, `channel_<kind>`, and `omniroute`), the
category also a custom field when `category_field` is set; priority is Zendesk's own (low/normal/high/urgent); the
requester is the customer (name and email when the customer is a mail address, else the customer key as name);
the SLA due time is `due_at` of a ticket of type task, or the custom field `due_field` when set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from channels.sinks.redis_queue import sla_due
from contracts.sinks import SinkEvent, SinkEventType
from contracts.workitem import WorkItem, WorkItemState

OUR_TAG = "omniroute"
MARKER = "— sent by omniroute"  # ends every comment we write: the webhook never takes one back as a reply
_NOT_TAG = re.compile(r"[^a-z0-9_]+")
_EMAIL = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
_STATUS = {WorkItemState.open: "open", WorkItemState.claimed: "open", WorkItemState.escalated: "open",
           WorkItemState.waiting_customer: "pending", WorkItemState.resolved: "solved"}


@dataclass(frozen=True)
class TicketMap:
    """A sink's mapping choices: Zendesk groups per queue, Zendesk users per agent, custom field ids."""

    groups: Mapping[str, int] = field(default_factory=dict)  # queue (or "*") -> group id
    agents: Mapping[str, str] = field(default_factory=dict)  # Zendesk user id -> agent id
    category_field: int | None = None
    due_field: int | None = None

    def group_for(self, queue: str) -> int | None:
        return self.groups.get(queue, self.groups.get("*"))

    def user_of(self, agent_id: str | None) -> int | None:
        """The Zendesk user an agent id is mapped from, as an id Zendesk takes (None: not mapped)."""
        found = next((user for user, agent in self.agents.items() if agent == agent_id), None)
        return int(found) if found is not None and found.isdigit() else None


def tag(prefix: str, value: str) -> str:
    """A Zendesk tag: lower case, letters, digits and underscores only (Zendesk splits tags on spaces)."""
    return f"{prefix}_{_NOT_TAG.sub('_', value.lower()).strip('_') or 'none'}"


def tags(event: SinkEvent) -> list[str]:
    item = event.item
    found = [OUR_TAG, tag("queue", item.queue), tag("category", item.category or "uncategorised"),
             tag("channel", item.channel.value)]
    if event.type == SinkEventType.sla_breach:
        found.append(tag("sla_breach", event.sla_clock or "sla"))
    if event.change == "escalation":
        found.append("escalated")
    return found


def requester(customer: str) -> dict[str, str]:
    """The customer as Zendesk's requester: `email:ada@example.net` or `ada@example.net` gives name and email."""
    address = customer.split(":", 1)[1] if customer.startswith("email:") else customer
    if _EMAIL.match(address):
        return {"name": address.split("@", 1)[0], "email": address}
    return {"name": customer[:255]}


def subject(item: WorkItem) -> str:
    return (item.subject or f"{item.category or 'uncategorised'} from {item.customer}")[:255]


def description(item: WorkItem) -> str:
    steps = " → ".join(f"{s.rule}: {s.outcome}" for s in item.trace) or "none recorded"
    return (f"{item.text or '(no text)'}\n\n"
            f"Work item {item.id} from {item.customer} on {item.channel.value}, queue {item.queue}.\n"
            f"Decision trace: {steps}\n{MARKER}")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(event: SinkEvent, mapping: TicketMap) -> dict[str, Any]:
    """What creating and updating both set: status, priority, group, assignee, SLA due, custom fields."""
    item = event.item
    found: dict[str, Any] = {"status": _STATUS[item.state], "priority": item.priority.value}
    if (group := mapping.group_for(item.queue)) is not None:
        found["group_id"] = group
    if (user := mapping.user_of(item.assignee)) is not None:
        found["assignee_id"] = user
    custom = []
    if mapping.category_field is not None:
        custom.append({"id": mapping.category_field, "value": item.category})
    due = sla_due(item)
    if mapping.due_field is not None:
        custom.append({"id": mapping.due_field, "value": _iso(due) if due else None})
    elif due is not None:
        found |= {"type": "task", "due_at": _iso(due)}
    if custom:
        found["custom_fields"] = custom
    return found


def create_body(event: SinkEvent, mapping: TicketMap) -> dict[str, Any]:
    """POST /api/v2/tickets.json: the item as a new ticket; the first comment is private (Zendesk mails a
    requester public comments; the customer is answered on their own channel)."""
    item = event.item
    return {"ticket": {"external_id": item.id, "subject": subject(item), "requester": requester(item.customer),
                       "comment": {"body": description(item), "public": False}, "tags": tags(event),
                       **_fields(event, mapping)}}


def update_body(event: SinkEvent, mapping: TicketMap) -> dict[str, Any]:
    """PUT /api/v2/tickets/{id}.json: the item's state now; tags are added (agents' own tags stay)."""
    return {"ticket": {"additional_tags": tags(event), **_fields(event, mapping)}}
