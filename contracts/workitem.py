"""Work items agents receive, their SLA clocks and events, and agents' actions on them."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets, TraceStep
from contracts.outbound import ReplyTarget


class WorkItemState(StrEnum):
    open = "open"
    claimed = "claimed"
    waiting_customer = "waiting_customer"
    escalated = "escalated"
    resolved = "resolved"


class WorkItem(BaseModel):
    """One customer request as agents see it."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    id: str
    tenant: str
    queue: str
    category: str | None
    priority: Priority
    channel: ChannelKind  # the channel it was opened on
    customer: str
    conversation_key: str
    subject: str | None = None
    text: str = ""
    opened_at: AwareDatetime
    message_ids: list[str] = Field(default_factory=list)
    repeat_count: int = 0
    channels_seen: list[ChannelKind] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    sla: SlaTargets | None = None
    state: WorkItemState = WorkItemState.open
    assignee: str | None = None
    trace: list[TraceStep] = Field(default_factory=list)
    reply_to: ReplyTarget | None = None  # the customer's latest message: where an agent's reply goes


class SlaClockKind(StrEnum):
    first_response = "first_response"
    resolution = "resolution"


class SlaClock(BaseModel):
    """A running deadline for one work item."""

    work_item_id: str
    tenant: str
    kind: SlaClockKind
    due_at: AwareDatetime
    warn_at: AwareDatetime | None = None
    clock: Literal["business", "calendar"]
    timezone: str
    paused_at: AwareDatetime | None = None  # waiting for the customer
    stopped_at: AwareDatetime | None = None
    warned: bool = False
    breached: bool = False
    escalate_to: str | None = None


class SlaEventKind(StrEnum):
    warning = "warning"
    breach = "breach"
    met = "met"
    escalated = "escalated"


class SlaEvent(BaseModel):
    """Something happened to an SLA clock."""

    schema_version: Literal[1] = 1
    event_id: str | None = None  # the same on every publication of this event (also the `event-id` header): dedupe on it
    kind: SlaEventKind
    work_item_id: str
    tenant: str
    clock: SlaClockKind
    at: AwareDatetime
    due_at: AwareDatetime
    escalate_to: str | None = None


class AgentActionKind(StrEnum):
    claim = "claim"
    reply = "reply"
    resolve = "resolve"
    escalate = "escalate"
    wait_customer = "wait_customer"
    reassign = "reassign"  # to another queue and/or agent
    note = "note"  # internal: kept in the item's history, never sent to the customer
    request_info = "request_info"  # ask the customer for named details; pauses clocks where the policy says so


class AgentAction(BaseModel):
    """An agent did something to a work item; replies and resolutions stop clocks."""

    schema_version: Literal[1] = 1
    kind: AgentActionKind
    work_item_id: str
    tenant: str
    agent_id: str
    at: AwareDatetime
    text: str | None = None  # a reply's or note's text; for request_info the message sent to the customer
    escalate_to: str | None = None
    to_queue: str | None = None  # reassign: the queue the item moved to (its own when only the agent changed)
    to_agent: str | None = None  # reassign: the agent now holding it (None: open in to_queue for anyone)
    fields: list[str] = Field(default_factory=list)  # request_info: the details asked for
