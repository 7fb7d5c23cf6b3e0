"""The routing state's compact in-memory forms read back as what was recorded, and store as before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.channels import ChannelKind
from contracts.decision import Action, Priority, SlaTargets
from routing.state import MemoryState, OpenItem, Seen
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
    kw = dict(category=None, queue="q", priority=Priority.normal, conversation_key="c", opened_at=None, last_seen=None,
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


_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _item(sla: SlaTargets | None) -> OpenItem:
    return OpenItem(id="wi-1", customer="c", category=None, queue="q", priority=Priority.normal,
                    channel=ChannelKind.chat, conversation_key="k", opened_at=_AT, last_seen=_AT, tokens=(), sla=sla)


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


# What the state of this stream was stored as before the state held items compactly (the snapshot format is kept).
_STREAM_SNAPSHOT = json.loads(
    '{"customer_of": {"chat:v1": "email:a@x.com", "chat:v2": "chat:v2", "email:a@x.com": "email:a@x.com"}, "i'
    'tem_of_conversation": {"conv-v1": "wi-56482b02-a853-5616-b437-e759109b7b3a", "m1": "wi-56482b02-a853-561'
    '6-b437-e759109b7b3a"}, "item_of_reference": {"ALK120044": "wi-56482b02-a853-5616-b437-e759109b7b3a"}, "i'
    'tems": {"wi-56482b02-a853-5616-b437-e759109b7b3a": {"category": "order_status", "channel": "email", "cha'
    'nnels_seen": ["chat", "email"], "conversation_key": "m1", "customer": "email:a@x.com", "id": "wi-56482b0'
    '2-a853-5616-b437-e759109b7b3a", "last_seen": "2026-11-24T10:30:00+01:00", "message_ids": ["56482b02-a853'
    '-5616-b437-e759109b7b3a", "30df9cc7-308b-50fb-b837-16c3d8fa535d"], "opened_at": "2026-11-24T10:00:00+01:'
    '00", "priority": "normal", "queue": "orders", "references": ["ALK120044"], "repeat_count": 1, "sla": {"c'
    'alendar": "working_days", "clock": "business", "escalate_to": "escalations", "first_response_due": "2026'
    '-11-27T10:00:00+01:00", "first_response_warn_at": "2026-11-26T10:00:08.640000+01:00", "resolution_clock"'
    ': null, "resolution_due": null, "resolution_warn_at": null, "rule": "order_payment_delivery", "started_a'
    't": "2026-11-24T10:00:00+01:00", "timezone": "Africa/Lagos"}, "tokens": ["120044", "alk", "order"]}}, "i'
    'tems_of_customer": {"email:a@x.com": ["wi-56482b02-a853-5616-b437-e759109b7b3a"]}, "last_contact": {"ema'
    'il:a@x.com": "2026-11-24T10:30:00+01:00"}, "recent": {"chat:v2": ["2026-11-24T10:40:00+01:00"], "email:a'
    '@x.com": ["2026-11-24T10:30:00+01:00"]}, "seen": {"chat\\u001fm2\\u001f": ["30df9cc7-308b-50fb-b837-16c3d8'
    'fa535d", "2026-11-24T10:30:00+01:00", "wi-56482b02-a853-5616-b437-e759109b7b3a"], "chat\\u001fm3\\u001f": '
    '["04b4999f-bbe7-5ee9-8ad8-2ed62659e3bf", "2026-11-24T10:40:00+01:00", null], "email\\u001fm1\\u001f": ["56'
    '482b02-a853-5616-b437-e759109b7b3a", "2026-11-24T10:00:00+01:00", "wi-56482b02-a853-5616-b437-e759109b7b'
    '3a"]}, "strikes": {"chat:v2": 1}, "suspended_until": {}, "v": 1}'
)


def _stream() -> Stream:
    s = Stream("alkonect")
    s(msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"))
    s(msg("alkonect", "chat", "Where is my order ALK-120044? still nothing", sender="v1", email="a@x.com",
          provider_id="m2", at="2026-11-24T10:30:00"))
    s(msg("alkonect", "chat", "you idiots", sender="v2", provider_id="m3", at="2026-11-24T10:40:00"))
    return s


def test_the_snapshot_format_is_unchanged_and_earlier_snapshots_restore() -> None:
    s = _stream()
    assert snapshot(s.state) == _STREAM_SNAPSHOT
    restored = restore(_STREAM_SNAPSHOT)
    assert restored == s.state and snapshot(restored) == _STREAM_SNAPSHOT


def test_a_restored_state_shares_strings_and_instants_across_tables() -> None:
    """As a state built live does: one object per customer id, item id and message time, however many tables."""
    state = restore(json.loads(json.dumps(_STREAM_SNAPSHOT)))
    (item_id, item), = state.items.items()
    customer = item.customer
    assert item.id is item_id is state.items_of_customer[customer][0] is state.item_of_conversation["m1"]
    assert state.customer_of["email:a@x.com"] is customer is next(k for k in state.last_contact)
    assert state.seen["chat\x1fm2\x1f"].work_item_id is item_id
    assert state.seen["chat\x1fm2\x1f"].message_id is item.message_ids[1]
    assert item.last_seen is state.last_contact[customer] is state.recent[customer][0]


def test_items_alike_share_their_kind_and_changing_one_leaves_the_other() -> None:
    a, b = _item(None), _item(None)
    assert a._kind is b._kind
    a.priority, a.repeat_count = Priority.urgent, 2
    a.add_references(["ALK1"])
    a.channels_seen = {ChannelKind.email}
    assert (b.priority, b.repeat_count, b.references, b.channels_seen) == (Priority.normal, 0, frozenset(), frozenset())
    assert (a.priority, a.repeat_count, a.references, a.channels_seen) == (
        Priority.urgent, 2, {"ALK1"}, {ChannelKind.email})
    assert isinstance(a.channels_seen, frozenset) and a.category is None and a.queue == "q"
    assert a != b and repr(a).startswith("OpenItem(id='wi-1', customer='c', category=None, queue='q'")


def test_plain_strings_for_enum_fields_become_members() -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    item = OpenItem(id="x", customer="c", category=None, queue="q", priority="high", channel="chat",
                    conversation_key="k", opened_at=at, last_seen=at, tokens=(), channels_seen=["email"])
    assert type(item.priority) is Priority and type(item.channel) is ChannelKind
    assert [type(c) for c in item.channels_seen] == [ChannelKind]
    assert item.priority.rank == Priority.high.rank


def test_an_sla_with_a_named_fixed_offset_keeps_its_zone() -> None:
    named = timezone(timedelta(hours=1), "CET-ish")
    plain = timezone(timedelta(hours=1))
    a = SlaTargets(timezone="x", clock="calendar", calendar="c", rule="r",
                   started_at=datetime(2026, 1, 1, tzinfo=plain))
    b = a.model_copy(update={"started_at": datetime(2026, 1, 1, tzinfo=named)})
    assert _item(a).sla.started_at.tzinfo is plain and _item(b).sla.started_at.tzinfo is named


# wall clocks that happen twice (or never) in Berlin or St John's, where the fold decides the offset
_TURNS = [datetime(2026, 10, 25, 2, 30), datetime(2026, 3, 29, 2, 30, 0, 5), datetime(2026, 11, 1, 1, 30),
          datetime(2027, 3, 14, 2, 30)]
_ZONES = [ZoneInfo("Europe/Berlin"), ZoneInfo("Africa/Lagos"), ZoneInfo("Africa/Johannesburg"), ZoneInfo("UTC"),
          ZoneInfo("America/St_Johns"), timezone.utc, timezone(timedelta(hours=-3, minutes=-30)),
          timezone(timedelta(hours=5, minutes=30, seconds=15)), timezone(timedelta(hours=1), "CET-ish")]


@settings(max_examples=300, deadline=None)
@given(moments=st.lists(st.tuples(st.sampled_from(_TURNS) | st.datetimes(min_value=datetime(1971, 1, 1),
                                                                        max_value=datetime(2200, 1, 1)),
                                  st.sampled_from(_ZONES), st.integers(0, 1)), min_size=1, max_size=5),
       escalate_to=st.none() | st.just("supervisors"), resolution_rule=st.none() | st.just("disputes"))
def test_an_items_sla_json_is_the_models_dump(moments, escalate_to, resolution_rule) -> None:
    """The snapshot writes an item's SLA from its packed form: byte for byte what pydantic dumps, in every zone,
    either fold (ambiguous and skipped wall clocks included), with microseconds and offsets pydantic rounds."""
    names = ["started_at", "first_response_due", "first_response_warn_at", "resolution_due", "resolution_warn_at"]
    instants = {name: wall.replace(tzinfo=tz, fold=fold) for name, (wall, tz, fold) in zip(names, moments)}
    sla = SlaTargets(timezone="Europe/Berlin", clock="business", calendar="support", rule="r",
                     escalate_to=escalate_to, resolution_rule=resolution_rule, **instants)
    for _ in range(2):  # the first dump of a shared form becomes its template; the second is written from it
        assert json.dumps(_item(sla).sla_json()) == json.dumps(sla.model_dump(mode="json"))


def test_the_sla_json_of_every_decision_in_a_mixed_stream_is_the_models_dump() -> None:
    for tenant in ("alkonect", "izonie", "conek"):
        s = Stream(tenant)
        for i, text in enumerate(["Where is my order 120044?", "I was charged twice", "cannot log in",
                                  "I want a refund for the damaged blender", "you people are useless"] * 4):
            s(msg(tenant, "email", text, sender=f"c{i}@x.com", provider_id=f"m{i}",
                  at=f"2026-11-2{i % 7}T{(5 * i) % 24:02d}:17:00"))
        assert s.state.items
        for item in s.state.items.values():
            assert json.dumps(item.sla_json()) == json.dumps(item.sla.model_dump(mode="json") if item.sla else None)


def test_the_message_that_opened_an_item_is_read_from_the_items_id() -> None:
    """`wi-` + the message id: neither the item nor the message's Seen holds the message id again."""
    s = _stream()
    item = s.state.items["wi-56482b02-a853-5616-b437-e759109b7b3a"]
    assert item._message_ids == ("56482b02-a853-5616-b437-e759109b7b3a", "30df9cc7-308b-50fb-b837-16c3d8fa535d")
    opened = s.state.seen["email\x1fm1\x1f"]
    assert opened._message_id is None and opened.message_id == "56482b02-a853-5616-b437-e759109b7b3a"
    assert s.state.seen["chat\x1fm2\x1f"]._message_id == "30df9cc7-308b-50fb-b837-16c3d8fa535d"  # a merge
    one = OpenItem(id="wi-m1", customer="c", category=None, queue="q", priority=Priority.normal,
                   channel=ChannelKind.chat, conversation_key="k", opened_at=_AT, last_seen=_AT, tokens=(),
                   message_ids=["m1"])
    assert one._message_ids is None and one.message_ids == ("m1",)
    one.add_message("m2")
    assert one.message_ids == ("m1", "m2")
    one.message_ids = ["other"]
    assert one._message_ids == "other" and one.message_ids == ("other",)


def test_seen_reads_as_the_dataclass_it_replaced() -> None:
    a = Seen(message_id="m1", at=_AT, work_item_id="wi-m1")
    assert a == Seen(message_id="m1", at=_AT, work_item_id="wi-m1") != Seen(message_id="m1", at=_AT, work_item_id=None)
    assert repr(a) == f"Seen(message_id='m1', at={_AT!r}, work_item_id='wi-m1')"
    a.work_item_id = "wi-other"
    assert (a.message_id, a.work_item_id) == ("m1", "wi-other")
    a.work_item_id = None
    assert (a.message_id, a.work_item_id) == ("m1", None)
    assert ENCODERS["seen"](Seen(message_id="m2", at=_AT, work_item_id="wi-m2")) == ["m2", _AT.isoformat(), "wi-m2"]


def test_customer_tables_read_and_write_as_dicts_over_one_record_per_customer() -> None:
    later = _AT + timedelta(minutes=1)
    state = MemoryState(items_of_customer={"a": ("wi-1",), "b": ()}, recent={"a": (_AT, later)},
                        last_contact={"c": _AT, "d": None})
    assert set(state._customers) == {"a", "b", "c", "d"}
    assert state.items_of_customer == {"a": ("wi-1",), "b": ()} and state.items_of_customer["b"] == ()
    assert state.recent == {"a": (_AT, later)} and state.last_contact == {"c": _AT, "d": None}
    assert len(state.recent) == 1 and "b" not in state.recent and state.recent.get("b", "none") == "none"
    state.items_of_customer["c"] = ["wi-2", "wi-3"]
    assert state.items_of_customer["c"] == ("wi-2", "wi-3")
    del state.last_contact["c"], state.items_of_customer["c"]
    assert "c" not in state._customers  # nothing left of it
    assert restore(snapshot(state)) == state and snapshot(restore(snapshot(state))) == snapshot(state)
    state.note_message("e", _AT, _AT - timedelta(hours=1))
    state.note_message("e", later, _AT)  # the first one falls out of the window
    state.note_contact("e", later)
    assert state.recent["e"] == (later,) and state.messages_since("e", _AT) == 1
    assert state.contacted_before("e", later) is later and state.contacted_before("d", later) is None
    state.forget_customers({"a", "e"})
    assert set(state._customers) == {"b", "d"} and state.changed["recent"] == {"a", "e"}


def test_items_with_the_same_content_words_share_one_tuple() -> None:
    kw = dict(category=None, queue="q", priority=Priority.normal, channel=ChannelKind.chat, conversation_key="k",
              opened_at=_AT, last_seen=_AT)
    a = OpenItem(id="a", customer="x", tokens=frozenset({"order", "late"}), **kw)
    b = OpenItem(id="b", customer="y", tokens=a.tokens, **kw)
    assert a.tokens is b.tokens and sorted(a.tokens) == ["late", "order"]
