"""Events delivered to agents' tools (webhooks, Slack, helpdesks), their receipts and dead letters."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from contracts.workitem import WorkItem

_ID_NAMESPACE = uuid.UUID("5d2c7a90-1f4b-4a8e-b6f3-7c9e0d1a2b3c")


class SinkEventType(StrEnum):
    created = "work_item.created"
    updated = "work_item.updated"  # merge, claim, escalation, reassignment
    resolved = "work_item.resolved"
    sla_warning = "sla.warning"
    sla_breach = "sla.breach"


class SinkEvent(BaseModel):
    """One thing agents' tools hear about; `id` is the same on every delivery of it (receivers dedupe on it)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    id: str  # msg_<uuid5 of the source>: the Standard Webhooks `webhook-id`
    type: SinkEventType
    tenant: str
    at: AwareDatetime
    change: str | None = None  # for work_item.updated: merge, claim, escalation, reassignment
    agent_id: str | None = None
    sla_clock: str | None = None  # for sla.*: first_response or resolution
    sla_due: AwareDatetime | None = None
    item: WorkItem


def sink_event_id(source: str) -> str:
    """A stable event id from what caused it (a decision's message id, an SLA event id, an action's bytes)."""
    return "msg_" + uuid.uuid5(_ID_NAMESPACE, source).hex


class ReceiptStatus(StrEnum):
    delivered = "delivered"
    dead_lettered = "dead_lettered"  # retries exhausted or the sink's breaker open: see `omniroute dlq`


class SinkReceipt(BaseModel):
    """What became of one event at one sink."""

    schema_version: Literal[1] = 1
    event_id: str
    event_type: SinkEventType
    tenant: str
    work_item_id: str
    sink: str
    status: ReceiptStatus
    at: AwareDatetime
    attempts: int = 0
    error: str | None = None


class SinkDeadLetter(BaseModel):
    """An event one sink did not take within its retry budget; `omniroute dlq replay` sends it again."""

    schema_version: Literal[1] = 1
    sink: str
    event: SinkEvent
    error: str
    attempts: int
    at: AwareDatetime
