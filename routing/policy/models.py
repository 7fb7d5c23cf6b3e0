"""Typed model of a tenant policy file (`deploy/policies/<tenant>.yaml`)."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.categories import CANONICAL_CATEGORIES
from contracts.channels import ChannelKind, EndpointKind
from contracts.decision import FollowUpKind, Priority
from routing.policy.crossrefs import cross_reference_problems
from routing.policy.durations import Duration

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
InfoField = Literal[
    "order_number", "account_email", "business_name", "transaction_date", "amount", "explanation", "photo"
]
_SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_interval(text: str) -> tuple[time, time | None]:
    """`09:00-18:00` -> (09:00, 18:00); an end of `24:00` is returned as None (end of day)."""
    match = _INTERVAL.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an opening interval; write HH:MM-HH:MM, e.g. 09:00-17:30")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time of day")
    start, end = time(h1, m1), (None if h2 == 24 else time(h2, m2))
    if end is not None and end <= start:
        raise ValueError(f"{text!r} ends before it starts; split overnight hours into two days")
    return start, end


def _check_intervals(value: list[str]) -> list[str]:
    parsed = sorted(parse_interval(v) for v in value)
    for (_, end), (start, _) in zip(parsed, parsed[1:]):
        if end is None or end > start:
            raise ValueError(f"opening intervals {value} overlap; list each period once")
    return value


class ExceptionDay(_Strict):
    """A date with special hours (empty `hours` = closed all day)."""

    date: date
    hours: list[str] = Field(default_factory=list)
    note: str | None = None

    _hours = field_validator("hours")(_check_intervals)


class CalendarSpec(_Strict):
    """Weekly opening hours (split shifts allowed), public holidays and exception dates."""

    weekly: dict[Weekday, list[str]]
    closed_on_public_holidays: bool = True
    exceptions: list[ExceptionDay] = Field(default_factory=list)

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            try:
                _check_intervals(intervals)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        if not any(value.values()):
            raise ValueError("the calendar is never open; give at least one day opening hours")
        return value


class HolidaySpec(_Strict):
    """National public holidays, resolved with the `holidays` package."""

    country: str = Field(pattern=r"^[A-Z]{2}$")
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known_to_the_holidays_package(self) -> HolidaySpec:
        supported = holidays_lib.list_supported_countries()
        if self.country not in supported:
            raise ValueError(f"no public holidays are known for country {self.country!r}; write the ISO 3166-1 "
                             f"alpha-2 code of a country the `holidays` package covers, e.g. KE (Kenya), NG, ZA")
        subdivisions = supported[self.country]
        if self.subdivision is not None and self.subdivision not in subdivisions:
            if not subdivisions:
                raise ValueError(f"the `holidays` package knows no subdivisions of {self.country}; remove "
                                 "`subdivision` (national holidays apply)")
            raise ValueError(f"{self.country} has no subdivision {self.subdivision!r}; use one of: "
                             f"{', '.join(subdivisions)} (or leave `subdivision` out for national holidays only)")
        return self


_ORIGIN = re.compile(r"^(?:https?://[a-z0-9.-]+(?::\d+)?|[a-z]+-app://[A-Za-z0-9._-]+)/?$", re.IGNORECASE)


class OfficialEndpoint(_Strict):
    """An address support is given on. A chat origin is the website's (`https://shop.example`) or a mobile app's,
    as the chat gateway forwards it: `android-app://<package name>`, `ios-app://<bundle id>`."""

    kind: EndpointKind
    value: str
    note: str | None = None

    @model_validator(mode="after")
    def _origin(self) -> OfficialEndpoint:
        if self.kind == EndpointKind.chat_origin and not _ORIGIN.match(self.value.strip()):
            raise ValueError(f"{self.value!r} is not a chat origin; write a web origin (https://shop.example, no path) "
                             "or an app's (android-app://com.shop.app, ios-app://com.shop.app)")
        return self


class ChannelRule(_Strict):
    calendar: str = "support"
    enabled: bool = True


class CategorySpec(_Strict):
    """How the tenant words a canonical category, and whether it serves it."""

    label: str
    served: bool = True
    subcategories: list[str] = Field(default_factory=list)


class SlaTarget(_Strict):
    within: Duration
    clock: Literal["business", "calendar"]
    warn_at: float | None = Field(default=None, gt=0, lt=1)  # share of the target; default from SlaPolicy
    calendar: str | None = None  # the calendar whose open time this clock counts; default: the rule's

    @model_validator(mode="after")
    def _business_days_need_business_clock(self) -> SlaTarget:
        if self.within.unit == "bd" and self.clock != "business":
            raise ValueError(f"{self.within} counts business days, so clock must be 'business'")
        return self


class SlaMatch(_Strict):
    """All given conditions must hold; an empty match matches everything."""

    channels: list[ChannelKind] | None = None
    categories: list[str] | None = None
    flags: list[str] | None = None  # every listed decision flag must be present


class SlaRule(_Strict):
    name: str
    match: SlaMatch = Field(default_factory=SlaMatch)
    calendar: str | None = None  # default: the channel's calendar
    start: Literal["next_opening", "on_receipt"] = "next_opening"
    first_response: SlaTarget | None = None
    resolution: SlaTarget | None = None
    escalate_to: str | None = None
    note: str | None = None


class SlaPolicy(_Strict):
    warn_at: float = Field(default=0.8, gt=0, lt=1)
    rules: list[SlaRule]
    pause_on_request_info: bool = False  # an agent's request for information pauses the clocks until the answer


class QueueSpec(_Strict):
    """A queue agents watch, and where its work goes when an SLA deadline is missed (unless the rule says)."""

    escalate_to: str | None = None
    note: str | None = None


class QueueRules(_Strict):
    """The declared queues, and which queue a request goes to; every queue named here must be declared."""

    declared: dict[str, QueueSpec]
    default: str
    by_category: dict[str, str] = Field(default_factory=dict)
    seller: str | None = None
    escalation: str | None = None
    abuse: str
    missing_info: str | None = None
    out_of_scope: str | None = None
    by_flag: dict[str, str] = Field(default_factory=dict)  # a decision flag's queue (checked before seller, ...)

    @field_validator("declared", mode="before")
    @classmethod
    def _declared(cls, value: object) -> object:
        if isinstance(value, dict):
            for name in value:
                if not isinstance(name, str) or not _SLUG.match(name):
                    raise ValueError(f"{name!r} is not a queue name; use lower-case letters, digits, '-' or '_'")
            return {name: {} if spec is None else spec for name, spec in value.items()}
        return value


class PriorityRules(_Strict):
    default: Priority = Priority.normal
    by_category: dict[str, Priority] = Field(default_factory=dict)
    by_channel: dict[ChannelKind, Priority] = Field(default_factory=dict)
    escalation: Priority = Priority.high
    seller: Priority | None = None
    missing_info: Priority | None = None


def _check_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    return value


class OutOfScopeRule(_Strict):
    name: str
    patterns: list[str]  # regular expressions, case-insensitive
    action: Literal["route_flagged", "reject"] = "route_flagged"
    reply: str | None = None
    note: str | None = None

    _patterns = field_validator("patterns")(_check_patterns)


class RequiredInfoRule(_Strict):
    name: str
    categories: list[str] | None = None
    when_patterns: list[str] | None = None  # or: applies when one of these regexes matches
    when_flags: list[str] | None = None  # and: applies only when every listed decision flag is present
    fields: list[InfoField]
    request: str  # what we ask the customer
    date_window: Duration | None = None  # a transaction date older than this is flagged outside_window


class ThreatRule(_Strict):
    """The policy's strongest action, for abuse that threatens harm (the `threat` flag): who reviews it, how
    urgently, and what happens at once (its follow-ups replace `abuse.follow_ups`; `suspend_support` applies at
    the first threat, for `abuse.suspension`)."""

    section: str  # the clause of the tenant's text it rests on, e.g. "§8"
    queue: str  # a declared queue: a supervisor's or the escalation queue
    priority: Priority = Priority.urgent
    follow_ups: list[FollowUpKind] = Field(default_factory=list)
    reply: str | None = None  # None: `abuse.reply`


class AbuseRule(_Strict):
    action: Literal["quarantine", "reject"] = "quarantine"
    follow_ups: list[FollowUpKind] = Field(default_factory=list)
    suspend_after: int = Field(default=1, ge=1)  # abusive messages before support is suspended
    suspension: Duration | None = None  # None: until lifted by a person
    reply: str | None = None
    threat: ThreatRule | None = None  # None: a threat gets the same action as any abuse


class FloodRule(_Strict):
    max_messages: int = Field(ge=1)
    window: Duration
    reply: str | None = None
    # lines that continue the customer's open live-chat session are a conversation: they count against this
    # higher limit instead (None: the same limit)
    session_max_messages: int | None = Field(default=None, ge=1)


class DedupeRule(_Strict):
    repeat_window: Duration = Duration(72, "h")
    cross_channel: bool = True
    similarity: float = Field(default=0.5, gt=0, le=1)
    redelivery_window: Duration = Duration(7, "d")
    session_idle: Duration = Duration(30, "m")  # a live-chat session with no line for this long has ended
    subject_window: Duration = Duration(14, "d")  # a mail with no usable References joins by subject + sender within


class ChargebackRule(_Strict):
    """Chargebacks and bank disputes: filed without contacting support first, filed after it, or threatened."""

    queue: str
    priority: Priority = Priority.urgent
    follow_ups: list[FollowUpKind] = Field(default_factory=lambda: [FollowUpKind.suspend_account])
    after_contact_follow_ups: list[FollowUpKind] = Field(default_factory=list)  # filed after writing to support
    threat_reply: str | None = None  # to a customer who announces one: contact us first


class RefundCase(_Strict):
    """A circumstance the policy names as refundable (an exception to no refunds) or as excluded from refunds."""

    name: str
    section: str  # where the text says it, e.g. "§2.2"
    refundable: bool
    patterns: list[str]  # regexes, case-insensitive
    window: Duration | None = None  # e.g. reported within 30 days; older stated dates are said in the trace
    evidence: list[str] = Field(default_factory=list)  # what the customer must show
    note: str | None = None

    _patterns = field_validator("patterns")(_check_patterns)


class FinalDecision(_Strict):
    """Refund decisions are final: an appeal is routed with the `decision_final` flag and this wording for agents."""

    patterns: list[str] = Field(min_length=1)
    wording: str

    _patterns = field_validator("patterns")(_check_patterns)


class CoolingOff(_Strict):
    """A cooling-off right: a cancellation within `within` of a sign-up of the kind `sign_up_patterns` name
    (e.g. after direct marketing) takes the full-refund path, with the `cooling_off` flag."""

    section: str
    sign_up_patterns: list[str] = Field(min_length=1)
    cancel_patterns: list[str] = Field(min_length=1)
    within: Duration  # `bd`: business days of `calendar` after the sign-up date
    calendar: str = "support"
    wording: str

    _patterns = field_validator("sign_up_patterns", "cancel_patterns")(_check_patterns)


class RefundRules(_Strict):
    """Refund requests (the `refund_request` flag), the policy's exceptions and exclusions, and final decisions."""

    request_patterns: list[str] = Field(default_factory=list)  # negated mentions ("no refund needed") do not count
    cases: list[RefundCase] = Field(default_factory=list)  # checked on refund requests; the first match is named
    request_channels: list[ChannelKind] | None = None  # where refund requests must be made
    other_channel_reply: str | None = None  # the pointer sent when one arrives elsewhere (still routed)
    decision_final: FinalDecision | None = None
    cooling_off: CoolingOff | None = None

    _patterns = field_validator("request_patterns")(_check_patterns)


MAX_RETENTION_DAYS = 365  # omniroute routes; it is no archive (a resolved item's backstop TTL lies beyond this)


class RetentionRule(_Strict):
    """How long conversation data omniroute stores outlives its conversation, in calendar days.

    `after_closure`: a resolved work item, with its actions, SLA clocks and chat transcripts, is deleted this long
    after it was resolved. `after_non_payment_suspension`: for a customer suspended for non-payment (recorded with
    `omniroute retention suspend`), this long after the suspension, if that comes first; None: such suspensions
    do not shorten retention. Open work is never deleted.
    """

    after_closure: Duration = Duration(180, "d")
    after_non_payment_suspension: Duration | None = None
    section: str | None = None  # where the text says it, e.g. "§3.4, §7.3"
    note: str | None = None

    @field_validator("after_closure", "after_non_payment_suspension")
    @classmethod
    def _calendar_days(cls, value: Duration | None) -> Duration | None:
        if value is None:
            return value
        if value.unit == "bd":
            raise ValueError(f"{value} counts business days; retention counts calendar time: write e.g. 180d")
        if value.as_timedelta().days > MAX_RETENTION_DAYS:
            raise ValueError(f"{value} is longer than {MAX_RETENTION_DAYS}d; omniroute keeps routing data, not "
                             "archives: keep long-term records in the helpdesk the sinks deliver to")
        return value


class Acknowledgement(_Strict):
    """The automatic acknowledgement of a routed email: the promised response time, in words."""

    enabled: bool = True
    text: str | None = None  # the opening sentence; default: "Thank you for writing to <name> support. ..."


class TenantPolicy(_Strict):
    """Every rule of a tenant's support text that a router can act on."""

    tenant: str
    name: str
    source: str
    timezone: str
    holidays: HolidaySpec
    official_endpoints: list[OfficialEndpoint] = Field(min_length=1)
    unofficial_reply: str
    channels: dict[ChannelKind, ChannelRule]
    calendars: dict[str, CalendarSpec]
    categories: dict[str, CategorySpec]
    queues: QueueRules
    priorities: PriorityRules = Field(default_factory=PriorityRules)
    sla: SlaPolicy
    references: list[str] = Field(default_factory=list)  # regexes for the tenant's order/transaction ids
    out_of_scope: list[OutOfScopeRule] = Field(default_factory=list)
    required_info: list[RequiredInfoRule] = Field(default_factory=list)
    abuse: AbuseRule
    flood: FloodRule
    dedupe: DedupeRule = Field(default_factory=DedupeRule)
    chargeback: ChargebackRule | None = None
    refunds: RefundRules | None = None
    csat_after_resolution: bool = False
    csat_survey: str = ("How did we do? Please rate the help you received from 1 (poor) to 5 (excellent) by "
                        "replying with one number.")
    retention: RetentionRule = Field(default_factory=RetentionRule)
    acknowledgement: Acknowledgement = Field(default_factory=Acknowledgement)

    @field_validator("tenant")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"{value!r} is not a tenant id; use lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone; write e.g. Africa/Lagos") from None
        return value

    @field_validator("categories")
    @classmethod
    def _canonical(cls, value: dict[str, CategorySpec]) -> dict[str, CategorySpec]:
        _only_canonical(value, "categories")
        if not any(spec.served for spec in value.values()):
            raise ValueError("no category is served; mark at least one `served: true`")
        return value

    @field_validator("references")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"reference pattern {pattern!r} is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> TenantPolicy:
        problems = cross_reference_problems(self.model_dump(mode="json"))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ValueError(f"{problems[0]}{more}")
        return self

    @property
    def served_categories(self) -> list[str]:
        return [name for name, spec in self.categories.items() if spec.served]


def _only_canonical(names, where: str) -> None:
    unknown = [n for n in names if n not in CANONICAL_CATEGORIES]
    if unknown:
        raise ValueError(
            f"{where}: unknown categor{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
            f"use the canonical ones: {', '.join(CANONICAL_CATEGORIES)}"
        )

