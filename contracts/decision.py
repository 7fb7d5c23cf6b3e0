"""What routing decided about one inbound message, with a trace of why."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from contracts.channels import ChannelKind
from contracts.outbound import ReplyTarget


class Action(StrEnum):
    route = "route"
    merge = "merge"
    drop = "drop"
    reject = "reject"
    quarantine = "quarantine"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.low: 0, Priority.normal: 1, Priority.high: 2, Priority.urgent: 3}


class DecisionFlag(StrEnum):
    """Flags a decision may carry; the CLI prints them as strings."""

    duplicate = "duplicate"
    repeated_request = "repeated_request"
    cross_channel = "cross_channel"
    unofficial_channel = "unofficial_channel"
    abusive = "abusive"
    threat = "threat"  # abuse that threatens harm to staff (with `abusive`); the policy may act on it more strongly
    rate_limited = "rate_limited"
    suspended = "suspended"
    outside_hours = "outside_hours"
    holiday = "holiday"
    escalation_requested = "escalation_requested"
    auto_reply = "auto_reply"
    bounce = "bounce"
    not_customer_message = "not_customer_message"
    echo = "echo"
    out_of_scope = "out_of_scope"
    missing_info = "missing_info"
    outside_window = "outside_window"  # e.g. refund asked later than the policy's window
    chargeback = "chargeback"
    chargeback_threatened = "chargeback_threatened"  # announced, not initiated: the policy asks to talk first
    prior_contact = "prior_contact"  # the customer wrote to support before (e.g. before a chargeback)
    refund_request = "refund_request"  # the customer asks for money back
    refund_exception = "refund_exception"  # the request names a case the policy refunds (trace: which)
    refund_excluded = "refund_excluded"  # the request names a case the policy excludes from refunds
    decision_final = "decision_final"  # an appeal against a refund decision the policy says is final
    cooling_off = "cooling_off"  # a cancellation within the policy's cooling-off period (full-refund path)
    seller = "seller"
    seller_dispute = "seller_dispute"  # a buyer's dispute involving a third-party seller
    empty = "empty"
    follow_up = "follow_up"  # a reply in a conversation that already has open work
    low_confidence = "low_confidence"


class FollowUpKind(StrEnum):
    """Side effects a decision asks the runtime to carry out."""

    auto_reply = "auto_reply"  # send `text` to the customer on the same channel
    request_info = "request_info"  # ask the customer for `fields`
    end_session = "end_session"  # close the live session
    suspend_support = "suspend_support"  # block further support for this customer
    suspend_account = "suspend_account"  # notify the account team (e.g. chargeback)
    csat_after_resolution = "csat_after_resolution"


class FollowUp(BaseModel):
    kind: FollowUpKind
    text: str | None = None
    fields: list[str] = Field(default_factory=list)


class TraceStep(BaseModel):
    """One rule that was evaluated: which, its verdict, and a human-readable reason."""

    rule: str
    outcome: str
    detail: str = ""


class SlaTargets(BaseModel):
    """Deadlines for a work item, computed on the tenant calendar."""

    timezone: str
    clock: Literal["business", "calendar"]  # the first-response clock (the resolution clock if there is none)
    calendar: str  # the policy calendar used
    started_at: AwareDatetime  # when that clock starts (next opening if received outside hours)
    resolution_clock: Literal["business", "calendar"] | None = None
    first_response_due: AwareDatetime | None = None
    first_response_warn_at: AwareDatetime | None = None
    resolution_due: AwareDatetime | None = None
    resolution_warn_at: AwareDatetime | None = None
    rule: str  # the policy SLA rule that matched
    escalate_to: str | None = None  # queue to escalate to on breach
    # Set only when the resolution target comes from another rule or counts on another calendar than the first
    # response (Izonie: a seller dispute's 3-5 business days next to the channel's first-response promise).
    resolution_rule: str | None = Field(default=None, exclude_if=lambda v: v is None)
    resolution_calendar: str | None = Field(default=None, exclude_if=lambda v: v is None)


class _DecisionBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    message_id: str
    tenant: str
    channel: ChannelKind
    customer: str  # the identity key the customer is tracked under
    category: str | None = None
    category_confidence: float | None = None
    queue: str | None = None
    priority: Priority = Priority.normal
    flags: list[DecisionFlag] = Field(default_factory=list)
    follow_ups: list[FollowUp] = Field(default_factory=list)
    sla: SlaTargets | None = None
    references: list[str] = Field(default_factory=list)  # order / transaction references found
    trace: list[TraceStep] = Field(default_factory=list)
    decided_at: AwareDatetime
    # Where the policy's automatic answers (acknowledgement, request for information, official-channel notice) go.
    # Set by the route worker on published route and reject decisions of messages that may be answered
    # automatically; absent for mailing lists and auto-submitted mail, and in `decide()`'s own output.
    reply_to: ReplyTarget | None = Field(default=None, exclude_if=lambda v: v is None)


class RouteDecision(_DecisionBase):
    """New work: a work item is opened in `queue`."""

    action: Literal[Action.route] = Action.route
    work_item_id: str


class MergeDecision(_DecisionBase):
    """Same request again: attached to an open work item; its SLA clock is not reset."""

    action: Literal[Action.merge] = Action.merge
    work_item_id: str
    repeat_count: int


class DropDecision(_DecisionBase):
    """Nothing to do: a provider redelivery, an echo, a receipt."""

    action: Literal[Action.drop] = Action.drop
    reason: str
    duplicate_of: str | None = None


class RejectDecision(_DecisionBase):
    """Refused by policy: unofficial channel, suspended customer, flood."""

    action: Literal[Action.reject] = Action.reject
    reason: str


class QuarantineDecision(_DecisionBase):
    """Held for a person to look at: abuse, bounces and reports."""

    action: Literal[Action.quarantine] = Action.quarantine
    reason: str
    # Abuse: the review item opened in `queue` (the policy's abuse queue) for that person; absent for bounces and
    # reports, which name no queue.
    work_item_id: str | None = Field(default=None, exclude_if=lambda v: v is None)


Decision = Annotated[
    Union[RouteDecision, MergeDecision, DropDecision, RejectDecision, QuarantineDecision],
    Field(discriminator="action"),
]
DECISION_ADAPTER: TypeAdapter[Decision] = TypeAdapter(Decision)
