"""Routing state survives a snapshot round trip, and pruning forgets only what no decision needs."""

from __future__ import annotations

import json
from datetime import timedelta

from contracts.decision import Action
from routing.decide import decide
from routing.state_snapshot import prune, restore, snapshot
from routing_helpers import Stream, local, msg


def test_decisions_after_restore_equal_decisions_without_restart() -> None:
    first = [
        msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"),
        msg("alkonect", "chat", "you idiots", sender="v1", email="b@x.com", provider_id="m2"),
        msg("alkonect", "email", "cannot log in", sender="c@x.com", provider_id="m3"),
    ]
    later = [
        msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"),
        msg("alkonect", "email", "still no news on ALK-120044", sender="a@x.com", provider_id="m4",
            at="2026-11-24T12:00:00"),
        msg("alkonect", "email", "you are liars and idiots", sender="b@x.com", provider_id="m5",
            at="2026-11-24T12:30:00"),
    ]
    straight = Stream("alkonect")
    for m in first:
        straight(m)
    resumed = Stream("alkonect")
    for m in first:
        resumed(m)
    resumed.state = restore(json.loads(json.dumps(snapshot(resumed.state))))
    a = [straight(m) for m in later]
    b = [resumed(m) for m in later]
    assert [d.model_dump(exclude={"decided_at"}) for d in a] == [d.model_dump(exclude={"decided_at"}) for d in b]
    assert [d.action for d in b] == [Action.drop, Action.merge, Action.quarantine]


def test_prune_forgets_old_redeliveries_and_idle_items_only() -> None:
    s = Stream("alkonect")
    s(msg("alkonect", "email", "Where is my order ALK-1?", provider_id="old", at="2026-11-01T10:00:00"))
    s(msg("alkonect", "email", "Where is my order ALK-2?", provider_id="new", at="2026-11-24T10:00:00",
          sender="z@x.com"))
    now = local("alkonect", "2026-11-24T11:00:00")
    gone = prune(s.state, now, keep_seen_since=now - timedelta(days=7), keep_items_since=now - timedelta(hours=72))
    assert gone >= 2
    assert len(s.state.items) == 1 and len(s.state.seen) == 1
    again = decide(msg("alkonect", "email", "Where is my order ALK-2?", provider_id="new", sender="z@x.com",
                       at="2026-11-24T10:00:00"), s.state, now, s.policy)
    assert again.action == Action.drop


def test_prune_forgets_customers_past_the_retention_period_unless_they_have_open_work() -> None:
    """Data retention (Conek §3.4, §7.3 and the other tenants' readings): the state's links and contact times go."""
    s = Stream("alkonect")
    s(msg("alkonect", "email", "Where is my order ALK-1?", provider_id="gone", sender="old@x.com",
          at="2026-01-05T10:00:00"))
    s(msg("alkonect", "email", "Where is my order ALK-3?", provider_id="kept", sender="open@x.com",
          at="2026-01-05T10:00:00"))
    s(msg("alkonect", "email", "Where is my order ALK-2?", provider_id="recent", sender="new@x.com",
          at="2026-11-24T10:00:00"))
    old, still_open = s.state.customer_for(["email:old@x.com"]), s.state.customer_for(["email:open@x.com"])
    s.state.close(s.state.open_items_for(old)[0].id)
    now = local("alkonect", "2026-11-24T11:00:00")
    before = set(s.state.last_contact)
    prune(s.state, now, keep_seen_since=now - timedelta(days=365), keep_items_since=now - timedelta(days=365),
          keep_customers_since=now - s.policy.retention.after_closure.as_timedelta())
    assert before - set(s.state.last_contact) == {old}  # the open item's customer and the recent one stay
    assert old not in s.state.customer_of.values() and still_open in s.state.customer_of.values()
    assert old in s.state.take_changes()["last_contact"]  # the checkpoint deletes it from Redis too


def test_pruning_many_idle_items_at_once_forgets_what_closing_them_one_by_one_forgets() -> None:
    """`close_many` (one pass over the key tables) leaves the same state as `close` per item, keys of the items
    still open included: references, conversations, reply ids and subjects pointing at the closed ones go."""
    s = Stream("alkonect")
    texts = ["Where is my order ALK-{n}?", "I was charged twice for ALK-{n}", "Re: order ALK-{n} still not here",
             "cannot log in to my account"]
    for n in range(24):
        s(msg("alkonect", "email", texts[n % 4].format(n=100_000 + n), sender=f"c{n % 7}@x.com",
              subject=f"order {n % 5}", in_reply_to=[f"<r{n - 1}@x.com>"] if n % 3 else None,
              at=f"2026-11-{10 + n % 12:02d}T10:00:00"))
    assert len(s.state.items) > 8 and s.state.item_of_reference and len(s.state.item_of_conversation) > 8
    one_by_one, at_once = restore(snapshot(s.state)), restore(snapshot(s.state))
    for state in (one_by_one, at_once):
        state.take_changes()
    closing = sorted(s.state.items)[::2]
    for item_id in closing:
        one_by_one.close(item_id)
    at_once.close_many(closing)
    assert snapshot(at_once) == snapshot(one_by_one)
    assert at_once.take_changes() == one_by_one.take_changes()
    assert not set(closing) & (set(at_once.item_of_reference.values()) | set(at_once.item_of_conversation.values()))
    assert set(at_once.items) == set(s.state.items) - set(closing)
