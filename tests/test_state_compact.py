"""The routing state's compact in-memory forms read back as what was recorded, and store as before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from contracts.channels import ChannelKind
from contracts.decision import Action, Priority, SlaTargets
from routing.state import OpenItem
from routing.state_snapshot import ENCODERS, restore, snapshot
from routing_helpers import Stream, msg


def test_an_items_sla_reads_back_as_the_decisions_sla() -> None:
    s = Stream("alkonect")
    d = s(msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"))
    assert d.action == Action.route and d.sla is not None
    sla = s.state.items[d.work_item_id].sla
    assert sla == d.sla and sla.model_fields_set == d.sla.model_fields_set
    assert sla.model_dump(mode="json") == d.sla.model_dump(mode="json")
    assert sla.model_dump(mode="json", exclude_unset=True) == d.sla.model_dump(mode="json", exclude_unset=True)
    assert sla.model_dump_json() == d.sla.model_dump_json()
    s.state.items[d.work_item_id].sla = None
    assert s.state.items[d.work_item_id].sla is None


def test_merges_add_channels_messages_and_references_to_an_item() -> None:
    s = Stream("alkonect")
    a = s(msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"))
    b = s(msg("alkonect", "chat", "Where is my order ALK-120044? still nothing", sender="v1", email="a@x.com",
              provider_id="m2", at="2026-11-24T10:30:00"))
    assert b.action == Action.merge and b.work_item_id == a.work_item_id
    item = s.state.items[a.work_item_id]
    assert item.channels_seen == {ChannelKind.email, ChannelKind.chat}
    assert list(item.message_ids) == [a.message_id, b.message_id]
    assert item.references == {"ALK120044"} and item.repeat_count == 1
    assert ENCODERS["items"](item)["message_ids"] == [a.message_id, b.message_id]


def test_items_with_the_same_channels_share_one_set() -> None:
    kw = dict(category=None, queue="q", priority="normal", conversation_key="c", opened_at=None, last_seen=None,
              tokens=frozenset({"order"}))
    a = OpenItem(id="a", customer="x", channel=ChannelKind.chat, channels_seen={ChannelKind.chat}, **kw)
    b = OpenItem(id="b", customer="y", channel=ChannelKind.chat, channels_seen=[ChannelKind.chat], **kw)
    assert a.channels_seen is b.channels_seen
    a.add_channel(ChannelKind.email)
    b.add_channel(ChannelKind.email)
    assert a.channels_seen is b.channels_seen == {ChannelKind.chat, ChannelKind.email}


def test_snapshot_keeps_its_json_form() -> None:
    """Tables that are tuples in memory are lists in the snapshot, as they were when they were lists and deques."""
    s = Stream("alkonect")
    d = s(msg("alkonect", "email", "Where is my order ALK-7?", sender="a@x.com", provider_id="m1"))
    snap = snapshot(s.state)
    customer = d.customer
    assert snap["items_of_customer"][customer] == [d.work_item_id]
    assert isinstance(snap["recent"][customer], list) and len(snap["recent"][customer]) == 1
    item = snap["items"][d.work_item_id]
    assert item["tokens"] == sorted(item["tokens"]) and isinstance(item["message_ids"], list)
    assert restore(json.loads(json.dumps(snap))) == s.state
    assert snapshot(restore(json.loads(json.dumps(snap)))) == snap


def _item(sla: SlaTargets | None) -> OpenItem:
    return OpenItem(id="wi-1", customer="c", category=None, queue="q", priority=Priority.normal,
                    channel=ChannelKind.chat, conversation_key="k", opened_at=None, last_seen=None, tokens=(), sla=sla)


def test_sla_instants_keep_their_zone_fold_and_microseconds() -> None:
    berlin, lagos = ZoneInfo("Europe/Berlin"), ZoneInfo("Africa/Lagos")
    ambiguous = datetime(2026, 10, 25, 2, 30, 0, 123456, tzinfo=berlin, fold=1)  # the second 02:30 that night
    sla = SlaTargets(timezone="Europe/Berlin", clock="business", calendar="support", started_at=ambiguous,
                     first_response_due=datetime(2026, 10, 26, 9, 0, tzinfo=berlin),
                     resolution_due=datetime(2026, 10, 27, 9, 0, 0, 1, tzinfo=lagos),
                     resolution_warn_at=datetime(2026, 10, 27, 9, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
                     rule="r", resolution_calendar="other")
    back = _item(sla).sla
    assert back == sla and back.model_fields_set == sla.model_fields_set
    assert back.model_dump_json() == sla.model_dump_json()
    for name in ("started_at", "first_response_due", "resolution_due", "resolution_warn_at"):
        a, b = getattr(back, name), getattr(sla, name)
        assert (a.isoformat(), a.fold, a.tzinfo) == (b.isoformat(), b.fold, b.tzinfo)
    assert back.first_response_warn_at is None


def test_an_sla_that_cannot_be_packed_is_held_as_it_is() -> None:
    old = SlaTargets(timezone="UTC", clock="calendar", calendar="c", rule="r",
                     started_at=datetime(1960, 1, 1, tzinfo=timezone.utc))
    assert _item(old).sla is old
    assert _item(None).sla is None
