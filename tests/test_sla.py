"""SLA rule selection and deadline computation on the tenant calendars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.channels import ChannelKind
from contracts.decision import DecisionFlag, SlaTargets
from routing.calendar import BusinessCalendar
from routing.compiled import compile_policy
from routing.policy.models import CalendarSpec, HolidaySpec, SlaRule
from routing_helpers import policy
from routing.sla import (
    compute_sla,
    is_outside_hours,
    is_public_holiday,
    public_holiday,
    select_sla_rule,
    select_sla_rules,
)

LAGOS, JOBURG, LONDON = ZoneInfo("Africa/Lagos"), ZoneInfo("Africa/Johannesburg"), ZoneInfo("Europe/London")
WEEKDAYS5 = ("mon", "tue", "wed", "thu", "fri")


def calendar(days, hours: str, zone: str, country: str, name: str = "support", closed: bool = True):
    spec = CalendarSpec(weekly={day: [hours] for day in days}, closed_on_public_holidays=closed)
    return BusinessCalendar(spec, zone, HolidaySpec(country=country), name)


# The shipped policies' own rules and calendars (deploy/policies/*.yaml), never copies of them.
SHIPPED = {tenant: compile_policy(policy(tenant)) for tenant in ("alkonect", "izonie", "conek")}
ALKONECT = SHIPPED["alkonect"].calendars["support"]
IZONIE_CHAT = SHIPPED["izonie"].calendars["live_chat"]
IZONIE_ALWAYS = SHIPPED["izonie"].calendars["always"]
CONEK = SHIPPED["conek"].calendars["support"]
LONDON_OFFICE = calendar(WEEKDAYS5, "09:00-17:00", "Europe/London", "GB")


def rule(**fields) -> SlaRule:
    return SlaRule.model_validate(fields)


def shipped_rule(tenant: str, name: str) -> SlaRule:
    return next(r for r in policy(tenant).sla.rules if r.name == name)


ALKONECT_RULES = policy("alkonect").sla.rules
IZONIE_RULES = policy("izonie").sla.rules
CONEK_REFUND = shipped_rule("conek", "refund_review")


@pytest.mark.parametrize(
    "rules, channel, category, flags, expected",
    [
        (ALKONECT_RULES, ChannelKind.email, "payment_billing", [DecisionFlag.out_of_scope], "complex_case"),
        (ALKONECT_RULES, ChannelKind.email, "payment_billing", [], "order_payment_delivery"),
        (ALKONECT_RULES, ChannelKind.chat, "general", [DecisionFlag.outside_hours], "general_inquiry"),
        (ALKONECT_RULES, ChannelKind.chat, None, [], "general_inquiry"),
        (IZONIE_RULES, ChannelKind.chat, "general", [], "live_chat"),
        (IZONIE_RULES, ChannelKind.instagram, "general", [], "email_and_social"),
        (IZONIE_RULES, ChannelKind.chat, "general", ["escalation_requested"], "supervisor_escalation"),
        (IZONIE_RULES, ChannelKind.email, "general", ["seller_dispute"], "seller_dispute"),  # resolution only
    ],
)
def test_select_sla_rule(rules, channel, category, flags, expected) -> None:
    assert select_sla_rule(rules, channel=channel, category=category, flags=flags).name == expected


def test_select_without_catch_all_raises() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        select_sla_rule(ALKONECT_RULES[:2], channel=ChannelKind.email, category="general", flags=())


def lagos(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LAGOS)


def joburg(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JOBURG)


@pytest.mark.parametrize(
    "sla_rule, cal, received, started, first_due, first_warn, resolution_due, resolution_warn",
    [
        # 5bd x 9h = 45 business hours from Friday 17:30; warn at 60% = 27h
        (shipped_rule("alkonect", "complex_case"), ALKONECT, lagos(2026, 7, 10, 17, 30), lagos(2026, 7, 10, 17, 30),
         lagos(2026, 7, 17, 17, 30), lagos(2026, 7, 15, 17, 30), None, None),
        # calendar hours counted from the next opening (Saturday -> Monday 09:00)
        (shipped_rule("alkonect", "general_inquiry"), ALKONECT, lagos(2026, 7, 11, 10, 0), lagos(2026, 7, 13, 9, 0),
         lagos(2026, 7, 15, 9, 0), lagos(2026, 7, 14, 9, 0), None, None),
        # Izonie chat, 5 business minutes, warn at 40% = 2 minutes
        (shipped_rule("izonie", "live_chat"), IZONIE_CHAT, lagos(2026, 7, 11, 19, 58), lagos(2026, 7, 11, 19, 58),
         lagos(2026, 7, 13, 8, 3), lagos(2026, 7, 11, 20, 0), None, None),
        (shipped_rule("izonie", "live_chat"), IZONIE_CHAT, lagos(2026, 7, 12, 15, 0), lagos(2026, 7, 13, 8, 0),
         lagos(2026, 7, 13, 8, 5), lagos(2026, 7, 13, 8, 2), None, None),
        # Izonie email on the always-open calendar, default warn 0.8 of 24h
        (shipped_rule("izonie", "email_and_social"), IZONIE_ALWAYS, lagos(2026, 12, 25, 22, 0), lagos(2026, 12, 25, 22, 0),
         lagos(2026, 12, 26, 22, 0), lagos(2026, 12, 26, 17, 12), None, None),
        # Conek refund: 2bd = 16h first response, 10bd = 80h resolution; Youth Day (Tue 16 June) is closed
        (CONEK_REFUND, CONEK, joburg(2026, 6, 15, 10, 0), joburg(2026, 6, 15, 10, 0),
         joburg(2026, 6, 18, 10, 0), joburg(2026, 6, 17, 14, 0),  # warn 0.75 x 16h = 12h
         joburg(2026, 6, 30, 10, 0), joburg(2026, 6, 26, 10, 0)),  # warn 0.8 x 80h = 64h
        (CONEK_REFUND, CONEK, joburg(2026, 12, 12, 11, 0), joburg(2026, 12, 14, 9, 0),
         joburg(2026, 12, 15, 17, 0), joburg(2026, 12, 15, 13, 0),
         joburg(2026, 12, 29, 17, 0), joburg(2026, 12, 24, 17, 0)),  # used up at closing: due at closing
    ],
)
def test_compute_sla(sla_rule, cal, received, started, first_due, first_warn, resolution_due, resolution_warn) -> None:
    tenant = next(t for t, cp in SHIPPED.items() if cal in cp.calendars.values())
    targets = compute_sla(sla_rule, cal, received, default_warn_at=policy(tenant).sla.warn_at,
                          calendars=SHIPPED[tenant].calendars)
    assert targets.started_at == started
    assert targets.first_response_due == first_due
    assert targets.first_response_warn_at == first_warn
    assert targets.resolution_due == resolution_due
    assert targets.resolution_warn_at == resolution_warn
    assert (targets.rule, targets.timezone) == (sla_rule.name, cal.timezone)
    assert targets.clock == sla_rule.first_response.clock
    assert targets.calendar == (sla_rule.first_response.calendar or cal.name)
    assert targets.escalate_to == sla_rule.escalate_to


def test_on_receipt_calendar_clock_starts_at_receipt() -> None:
    on_receipt = rule(name="urgent", start="on_receipt", first_response={"within": "24h", "clock": "calendar"})
    targets = compute_sla(on_receipt, ALKONECT, lagos(2026, 7, 11, 10, 0), default_warn_at=0.5)
    assert targets.started_at == lagos(2026, 7, 11, 10, 0)
    # 24h after Saturday 10:00 is Sunday 10:00, when Alkonect is closed: due at Monday's opening
    assert targets.first_response_due == lagos(2026, 7, 13, 9, 0)
    assert targets.first_response_warn_at == lagos(2026, 7, 11, 22, 0)


def test_calendar_deadline_inside_open_hours_is_kept() -> None:
    day_rule = rule(name="day", start="on_receipt", first_response={"within": "24h", "clock": "calendar"})
    targets = compute_sla(day_rule, ALKONECT, lagos(2026, 7, 14, 10, 0), default_warn_at=0.5)
    assert targets.first_response_due == lagos(2026, 7, 15, 10, 0)


def test_resolution_only_rule_reports_its_clock() -> None:
    only = rule(name="review", resolution={"within": "1bd", "clock": "business"})
    targets = compute_sla(only, CONEK, joburg(2026, 7, 13, 13, 0), default_warn_at=0.5)
    assert targets.clock == "business" and targets.first_response_due is None
    assert targets.resolution_due == joburg(2026, 7, 14, 13, 0)
    assert targets.resolution_warn_at == joburg(2026, 7, 13, 17, 0)


def test_datetimes_carry_the_tenant_offset() -> None:
    received = datetime(2026, 7, 10, 16, 30, tzinfo=UTC)  # 17:30 WAT
    targets = compute_sla(shipped_rule("alkonect", "complex_case"), ALKONECT, received, default_warn_at=0.8)
    dumped = targets.model_dump(mode="json")
    assert dumped["started_at"].endswith("+01:00")
    assert dumped["first_response_due"] == "2026-07-17T17:30:00+01:00"
    conek = compute_sla(CONEK_REFUND, CONEK, datetime(2026, 7, 13, 7, 0, tzinfo=UTC), default_warn_at=0.75)
    assert conek.model_dump(mode="json")["first_response_due"] == "2026-07-14T17:00:00+02:00"
    assert SlaTargets.model_validate_json(targets.model_dump_json()) == targets


def test_calendar_clock_counts_real_hours_across_dst() -> None:
    two_days = rule(name="day", start="on_receipt", first_response={"within": "48h", "clock": "calendar"})
    received = datetime(2026, 3, 28, 12, 0, tzinfo=LONDON)  # GMT; clocks go forward that night
    targets = compute_sla(two_days, LONDON_OFFICE, received, default_warn_at=0.5)
    assert targets.first_response_due == datetime(2026, 3, 30, 13, 0, tzinfo=LONDON)  # 48 real hours = 13:00 BST
    assert targets.first_response_warn_at == datetime(2026, 3, 29, 13, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    "cal, moment, outside, holiday",
    [
        (ALKONECT, lagos(2026, 7, 13, 10, 0), False, None),
        (ALKONECT, lagos(2026, 7, 13, 18, 0), True, None),
        (ALKONECT, lagos(2026, 7, 11, 10, 0), True, None),
        (ALKONECT, datetime(2026, 12, 24, 23, 30, tzinfo=UTC), True, "Christmas Day"),  # 00:30 WAT on the 25th
        (ALKONECT, lagos(2026, 6, 12, 11, 0), True, "Democracy Day"),
        (IZONIE_ALWAYS, lagos(2026, 12, 25, 11, 0), False, "Christmas Day"),  # open, still a holiday
        (CONEK, joburg(2026, 6, 16, 10, 0), True, "Youth Day"),
        (CONEK, joburg(2026, 6, 17, 10, 0), False, None),
    ],
)
def test_decision_flag_helpers(cal, moment, outside, holiday) -> None:
    assert is_outside_hours(cal, moment) is outside
    assert public_holiday(cal, moment) == holiday
    assert is_public_holiday(cal, moment) is (holiday is not None)


# --- properties -----------------------------------------------------------------------------------------------

targets = st.builds(
    dict,
    within=st.one_of(
        st.integers(1, 600).map(lambda m: f"{m}m"),
        st.integers(1, 96).map(lambda h: f"{h}h"),
        st.sampled_from(["0.5bd", "1bd", "2bd", "5bd", "10bd"]),
    ),
    clock=st.sampled_from(["business", "calendar"]),
    warn_at=st.one_of(st.none(), st.floats(0.05, 0.95)),
).filter(lambda t: not (t["within"].endswith("bd") and t["clock"] == "calendar"))


@settings(max_examples=200, deadline=None)
@given(
    cal=st.sampled_from([ALKONECT, IZONIE_CHAT, CONEK, LONDON_OFFICE]),
    received=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    first=st.one_of(st.none(), targets),
    resolution=targets,
    start=st.sampled_from(["next_opening", "on_receipt"]),
)
def test_property_deadlines_are_ordered(cal, received, first, resolution, start) -> None:
    sla_rule = rule(name="r", start=start, first_response=first, resolution=resolution)
    sla = compute_sla(sla_rule, cal, received, default_warn_at=0.8)
    assert sla.started_at >= received
    for due, warn, target in ((sla.first_response_due, sla.first_response_warn_at, first),
                              (sla.resolution_due, sla.resolution_warn_at, resolution)):
        if target is None:
            assert due is None and warn is None
            continue
        begun = cal.next_opening(received) if target["clock"] == "business" or start == "next_opening" else received
        assert received <= begun <= warn <= due
        if target["clock"] == "business":
            assert cal.business_time_between(begun, due) >= cal.business_time_between(begun, warn) > timedelta(0)
        else:
            raw = begun.astimezone(UTC) + _calendar_length(target["within"])
            expected = raw if cal.is_open(raw) or cal.is_open(raw - timedelta(microseconds=1)) else cal.next_opening(raw)
            assert due.astimezone(UTC) == expected.astimezone(UTC)


def _calendar_length(within: str) -> timedelta:
    amount, unit = float(within[:-1]), within[-1]
    return timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount)


def test_select_sla_rules_takes_each_target_from_the_first_matching_rule_that_sets_it() -> None:
    rules = [
        rule(name="dispute", match={"flags": ["seller_dispute"]}, resolution={"within": "5bd", "clock": "business"}),
        rule(name="chat", match={"channels": ["chat"]}, first_response={"within": "5m", "clock": "business"}),
        rule(name="any", first_response={"within": "24h", "clock": "calendar"}),
    ]
    first, resolution = select_sla_rules(rules, channel=ChannelKind.chat, category=None, flags=["seller_dispute"])
    assert (first.name, resolution.name) == ("chat", "dispute")
    first, resolution = select_sla_rules(rules, channel=ChannelKind.email, category=None, flags=[])
    assert (first.name, resolution) == ("any", None)


def test_a_target_counts_on_its_own_calendar() -> None:
    working_days = calendar(WEEKDAYS5, "00:00-24:00", "Africa/Lagos", "NG", "working_days")
    hours = rule(name="general", first_response={"within": "48h", "clock": "business", "calendar": "working_days"})
    # Friday 09:30: 14.5 h on Friday, 24 h on Monday, 9.5 h on Tuesday; the weekend does not count
    targets = compute_sla(hours, ALKONECT, lagos(2026, 11, 27, 9, 30), default_warn_at=0.5,
                          calendars={"working_days": working_days})
    assert targets.first_response_due == lagos(2026, 12, 1, 9, 30)
    assert targets.first_response_warn_at == lagos(2026, 11, 30, 9, 30)
    assert (targets.calendar, targets.clock) == ("working_days", "business")
    # received on Saturday: the clock starts at Alkonect's next opening, Monday 09:00
    saturday = compute_sla(hours, ALKONECT, lagos(2026, 11, 28, 11, 0), default_warn_at=0.5,
                           calendars={"working_days": working_days})
    assert saturday.started_at == lagos(2026, 11, 30, 9, 0)
    assert saturday.first_response_due == lagos(2026, 12, 2, 9, 0)
