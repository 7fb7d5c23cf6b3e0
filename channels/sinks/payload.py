"""The JSON body agents' tools receive: event type, the work item as agents see it, and the decision trace."""

from __future__ import annotations

from typing import Any

import orjson

from channels.sinks.redis_queue import sla_due
from contracts.sinks import SinkEvent


def event_data(event: SinkEvent) -> dict[str, Any]:
    """Standard Webhooks' envelope: `type`, `timestamp`, `data`."""
    item = event.item
    due = sla_due(item)
    return {
        "type": event.type.value,
        "timestamp": event.at.isoformat(),
        "data": {
            "event_id": event.id,
            "change": event.change,
            "agent_id": event.agent_id,
            "sla_clock": event.sla_clock,
            "sla_event_due": event.sla_due.isoformat() if event.sla_due else None,
            "work_item": {
                "id": item.id, "tenant": item.tenant, "queue": item.queue, "category": item.category,
                "priority": item.priority.value, "channel": item.channel.value, "customer": item.customer,
                "subject": item.subject, "text": item.text, "state": item.state.value, "assignee": item.assignee,
                "opened_at": item.opened_at.isoformat(), "repeat_count": item.repeat_count,
                "sla_due": due.isoformat() if due else None,
                "sla": item.sla.model_dump(mode="json") if item.sla else None,
            },
            "trace": [step.model_dump(mode="json") for step in item.trace],
        },
    }


def event_body(event: SinkEvent) -> bytes:
    return orjson.dumps(event_data(event))
