"""Properties of decide(): no double work items, SLA never before receipt nor inside a closed period."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.decision import Action
from routing.compiled import compile_policy
from routing.decide import decide
from routing.record import record
from routing.state import MemoryState
from routing_helpers import msg, policy

TEXTS = st.sampled_from([
    "Where is my order ALK-120044?", "I was charged twice", "cannot log in to my account",
    "how do I return a torn dress", "the app crashes on checkout", "do you deliver to Abuja?",
])
TIMES = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(timezone.utc))


@settings(max_examples=60, deadline=None)
@given(text=TEXTS, at=TIMES, tenant=st.sampled_from(["alkonect", "conek"]))
def test_deciding_the_same_message_twice_never_yields_two_work_items(text, at, tenant) -> None:
    channel = "email"
    m = msg(tenant, channel, text).model_copy(update={"received_at": at})
    state, p = MemoryState(), policy(tenant)
    first = decide(m, state, at, p)
    record(state, m, first, p)
    second = decide(m, state, at, p)
    record(state, m, second, p)
    opened = [d for d in (first, second) if d.action == Action.route]
    assert len(opened) <= 1
    assert len(state.items) == len(opened)


@settings(max_examples=80, deadline=None)
@given(text=TEXTS, at=TIMES, tenant=st.sampled_from(["alkonect", "izonie", "conek"]),
       channel=st.sampled_from(["email", "chat", "whatsapp"]))
def test_sla_due_is_never_before_receipt_nor_inside_a_closed_period(text, at, tenant, channel) -> None:
    if (tenant, channel) in {("conek", "chat"), ("alkonect", "whatsapp"), ("izonie", "whatsapp")}:
        channel = "email"
    m = msg(tenant, channel, text).model_copy(update={"received_at": at})
    d = decide(m, MemoryState(), at, policy(tenant))
    if d.sla is None:
        return
    assert d.sla.started_at >= at
    cp = compile_policy(policy(tenant))
    for due in (d.sla.first_response_due, d.sla.resolution_due):
        if due is None:
            continue
        assert due >= at
        calendar = cp.calendars[d.sla.calendar]
        assert calendar.is_open(due) or calendar.is_open(due - timedelta(microseconds=1)), f"{due} is closed"
