"""The Slack sink without a broker: message rendering, Slack's request signatures and clicks, sink files, and the
sink itself against a local Slack fake and Redis (posted once, edited in place, retries, dead letters)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from pydantic import ValidationError
from redis.asyncio import Redis
from slack_fake import SlackFake, click, signed_interaction, slack_signature

from channels.platform_client import RetryPolicy
from channels.sinks.breaker import CircuitBreaker
from channels.sinks.config import SinkSpec
from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.slack import SlackSink
from channels.sinks.slack_payload import countdown, escape, message
from channels.sinks.slack_verify import parse_click, verify
from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets, TraceStep
from contracts.errors import ConfigError, PayloadError
from contracts.sinks import SinkDeadLetter, SinkEvent, SinkEventType, SinkReceipt
from contracts.workitem import AgentActionKind, WorkItem, WorkItemState
from workers.runtime.deliver import DeliverProcessor
from workers.sink_files import load_sinks

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TOKEN = "xoxb-test-token"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"


def item(item_id: str = "wi-1", queue: str = "orders", **changes) -> WorkItem:
    sla = SlaTargets(timezone="Africa/Lagos", clock="business", calendar="default", started_at=NOW, rule="std",
                     first_response_due=NOW + timedelta(hours=2, minutes=5))
    found = WorkItem(id=item_id, tenant="izonie", queue=queue, category="order_status", priority=Priority.high,
                     channel=ChannelKind.messenger, customer="messenger:psid-1", conversation_key="c1",
                     text="Where is my order IZ-30021? <@U0BOSS> & <!channel>", opened_at=NOW, sla=sla,
                     trace=[TraceStep(rule="official_channel", outcome="official", detail="page id"),
                            TraceStep(rule="categorize", outcome="order_status")])
    return found.model_copy(update=changes)


def event(found: WorkItem, kind: SinkEventType = SinkEventType.created, source: str | None = None,
          **extra) -> SinkEvent:
    return SinkEvent(id=f"msg_{source or uuid.uuid4().hex}", type=kind, tenant="izonie", at=NOW, item=found, **extra)


def texts(rendered: dict) -> str:
    out = [rendered["text"]]
    for block in rendered["blocks"]:
        out += [block.get("text", {}).get("text", "")] + [f["text"] for f in block.get("fields", [])]
        out += [e["text"] if isinstance(e["text"], str) else e["text"]["text"] for e in block.get("elements", [])]
    return "\n".join(out)


def button_ids(rendered: dict) -> list[str]:
    return [e["action_id"] for b in rendered["blocks"] if b["type"] == "actions" for e in b["elements"]]


# --- rendering

def test_an_open_item_shows_what_agents_need_and_both_buttons() -> None:
    rendered = message(item(), NOW)
    shown = texts(rendered)
    assert "*order_status* in `orders` · high priority · Open" in shown
    assert "*Customer*\nmessenger:psid-1" in shown and "*Channel*\nmessenger" in shown
    due = int((NOW + timedelta(hours=2, minutes=5)).timestamp())
    assert f"<!date^{due}^" in shown and "(in 2h 05m)" in shown
    assert "official_channel: official → categorize: order_status" in shown
    assert "*Item*\n`wi-1`" in shown
    assert button_ids(rendered) == ["omniroute_claim", "omniroute_resolve"]
    actions = next(b for b in rendered["blocks"] if b["type"] == "actions")
    assert actions["block_id"] == "omniroute:wi-1" and {e["value"] for e in actions["elements"]} == {"wi-1"}


def test_customer_text_cannot_mention_or_link() -> None:
    shown = texts(message(item(), NOW))
    assert "<@U0BOSS>" not in shown and "<!channel>" not in shown
    assert "&lt;@U0BOSS&gt; &amp; &lt;!channel&gt;" in shown
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_claimed_resolved_and_breached_items_render_their_state() -> None:
    claimed = message(item(state=WorkItemState.claimed, assignee="ann"), NOW)
    assert "Claimed by ann" in texts(claimed) and button_ids(claimed) == ["omniroute_resolve"]
    resolved = message(item(state=WorkItemState.resolved, assignee="ann"), NOW)
    assert "Resolved by ann" in texts(resolved) and button_ids(resolved) == []
    assert "was due" in texts(resolved) and "in 2h" not in texts(resolved)
    late = NOW + timedelta(hours=3)
    breached = message(item(), late, breach="first_response")
    assert "*breached* (first response)" in texts(breached) and "overdue by 55m" in texts(breached)
    moved = message(item(queue="supervisors"), NOW, moved_to="supervisors")
    assert "moved to `supervisors`" in texts(moved) and button_ids(moved) == []


def test_the_countdown_reads_in_days_hours_and_minutes() -> None:
    assert countdown(NOW + timedelta(minutes=7, seconds=30), NOW) == "in 7m"
    assert countdown(NOW + timedelta(hours=26, minutes=3), NOW) == "in 1d 2h"
    assert countdown(NOW - timedelta(hours=1, minutes=2), NOW) == "overdue by 1h 02m"


def test_long_text_and_traces_stay_within_slacks_limits() -> None:
    long = item(text="x" * 10_000, trace=[TraceStep(rule=f"rule{i}", outcome="y" * 50) for i in range(100)])
    rendered = message(long, NOW)
    for block in rendered["blocks"]:
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                assert len(element["text"]) <= 2000


# --- signatures and clicks

# Slack's published example (https://api.slack.com/authentication/verifying-requests-from-slack)
DOCS_BODY = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
             b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
             b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
             b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
DOCS_HEADERS = {"X-Slack-Request-Timestamp": "1531420618",
                "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}


def test_slacks_published_example_verifies() -> None:
    assert verify(SIGNING, DOCS_BODY, DOCS_HEADERS, now=1531420618 + 3) is None
    assert slack_signature(SIGNING, "1531420618", DOCS_BODY) == DOCS_HEADERS["X-Slack-Signature"]  # the tests' signer
    assert "stale" in verify(SIGNING, DOCS_BODY, DOCS_HEADERS, now=1531420618 + 301)


def test_a_request_signed_with_the_signing_secret_verifies_and_others_do_not() -> None:
    body, headers = signed_interaction(SIGNING, click("wi-1", "U0ANN"), at=1_700_000_000)
    assert verify(SIGNING, body, headers, now=1_700_000_010) is None
    assert "does not match" in verify("another-secret", body, headers, now=1_700_000_010)
    assert "does not match" in verify(SIGNING, body.replace(b"U0ANN", b"U0BOB"), headers, now=1_700_000_010)
    assert "stale" in verify(SIGNING, body, headers, now=1_700_000_000 + 301)
    assert "stale" in verify(SIGNING, body, headers, now=1_700_000_000 - 301)  # from the future, too
    assert "missing" in verify(SIGNING, body, {"X-Slack-Request-Timestamp": "1700000000"}, now=1_700_000_000)
    assert "Unix time" in verify(SIGNING, body, {**headers, "X-Slack-Request-Timestamp": "soon"}, now=0)


def test_a_click_is_parsed_and_other_interactions_are_not_ours() -> None:
    body, _ = signed_interaction(SIGNING, click("wi-9", "U0ANN", "omniroute_resolve", "http://r/1"))
    found = parse_click(body)
    assert (found.kind, found.item_id, found.user_id, found.response_url, found.team_id) == (
        AgentActionKind.resolve, "wi-9", "U0ANN", "http://r/1", "T0TEAM")
    other, _ = signed_interaction(SIGNING, {**click("wi-9", "U0ANN"), "actions": [{"action_id": "vote", "value": "1"}]})
    assert parse_click(other) is None
    shortcut, _ = signed_interaction(SIGNING, {"type": "shortcut", "user": {"id": "U0ANN"}})
    assert parse_click(shortcut) is None
    with pytest.raises(PayloadError, match="payload"):
        parse_click(b"token=abc&text=hello")


# --- sink files

def test_slack_sinks_come_from_the_tenant_file_with_secrets_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "izonie.yaml").write_text(
        "sinks:\n  - {name: slack, kind: slack, channels: {orders: C0ORDERS, supervisors: C0SUP}, agents: {U0ANN: ann}}\n")
    env = {"IZONIE_SLACK_BOT_TOKEN": TOKEN, "IZONIE_SLACK_SIGNING_SECRET": SIGNING}
    sinks = load_sinks(tmp_path, ["izonie"], env)
    assert sinks.describe() == ["izonie/slack (slack, orders, supervisors)"]
    slack, = sinks.slack("izonie")
    assert slack.channel_for("orders") == "C0ORDERS" and slack.channel_for("payments") is None
    assert slack.agents == {"U0ANN": "ann"} and slack.signing_secret == SIGNING
    assert [s.name for s in sinks.for_event(event(item(queue="payments")))] == []
    no_signing = load_sinks(tmp_path, ["izonie"], {"IZONIE_SLACK_BOT_TOKEN": TOKEN})
    assert no_signing.notes == ["izonie/slack: its Claim/Resolve buttons answer 503 until "
                                "IZONIE_SLACK_SIGNING_SECRET is set"]
    off = load_sinks(tmp_path, ["izonie"], {})
    assert off.sinks == [] and off.notes == ["izonie/slack is off until IZONIE_SLACK_BOT_TOKEN is set"]
    (tmp_path / "izonie.yaml").write_text("sinks:\n  - {name: slack, kind: slack, channels: {'*': C0ALL}}\n")
    every, = load_sinks(tmp_path, ["izonie"], env).sinks
    assert every.queues is None and every.channel_for("anything") == "C0ALL"


def test_a_slack_sink_spec_names_its_own_fields_only() -> None:
    with pytest.raises(ValidationError, match="names its channels"):
        SinkSpec(name="s", kind="slack")
    with pytest.raises(ValidationError, match="no url_env"):
        SinkSpec(name="s", kind="slack", channels={"*": "C1"}, url_env="X")
    with pytest.raises(ValidationError, match="channels: only a slack sink"):
        SinkSpec(name="w", kind="webhook", url_env="U", secret_env="S", channels={"*": "C1"})
    with pytest.raises(ValidationError, match="url_env and secret_env"):
        SinkSpec(name="w", kind="webhook", url_env="U")


def test_a_bad_slack_entry_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "izonie.yaml").write_text("sinks:\n  - {name: slack, kind: slack, queues: [orders]}\n")
    with pytest.raises(ConfigError, match="izonie.yaml: sinks.0: .*names its channels"):
        load_sinks(tmp_path, ["izonie"], {})


# --- the sink against the fake and Redis

class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest_asyncio.fixture
async def slack(redis_url: str) -> AsyncIterator[tuple[SlackSink, SinkClient, SlackFake, Redis, str]]:
    fake = SlackFake(TOKEN)
    await fake.start()
    redis = Redis.from_url(redis_url)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    session = aiohttp.ClientSession()
    sink = SlackSink(name="slack", tenant="izonie", queues=None, channels={"orders": "C0ORDERS", "*": "C0ALL"},
                     token=TOKEN, base_url=fake.api_base).bind(redis, prefix)
    client = SinkClient(session, retry=RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02))
    try:
        yield sink, client, fake, redis, prefix
    finally:
        await session.close()
        await fake.stop()
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.mark.asyncio
async def test_an_item_is_posted_once_and_every_later_event_edits_that_message(slack) -> None:
    sink, client, fake, _, _ = slack
    first = await sink.deliver(event(item()), client, NOW)
    assert first.ok and [c.body["channel"] for c in fake.posts("wi-1")] == ["C0ORDERS"]
    again = await sink.deliver(event(item()), client, NOW)  # another `created` for the same item (new event id)
    assert again.ok and len(fake.posts("wi-1")) == 1
    claimed = item(state=WorkItemState.claimed, assignee="ann")
    assert (await sink.deliver(event(claimed, SinkEventType.updated, change="claim"), client, NOW)).ok
    breach = event(claimed, SinkEventType.sla_breach, sla_clock="first_response")
    assert (await sink.deliver(breach, client, NOW + timedelta(hours=3))).ok
    resolved = item(state=WorkItemState.resolved, assignee="ann")
    assert (await sink.deliver(event(resolved, SinkEventType.resolved), client, NOW + timedelta(hours=4))).ok
    ts = fake.posts("wi-1")[0].ts
    updates = fake.updates("wi-1")
    assert len(fake.posts("wi-1")) == 1 and len(updates) == 4 and {u.body["ts"] for u in updates} == {ts}
    assert "Claimed by ann" in updates[1].text and updates[1].buttons == ["omniroute_resolve"]
    assert "*breached* (first response)" in updates[2].text
    assert "Resolved by ann" in updates[3].text and updates[3].buttons == []


@pytest.mark.asyncio
async def test_two_deliveries_racing_on_a_new_item_make_one_message(slack) -> None:
    sink, client, fake, _, _ = slack
    claimed = item("wi-race", state=WorkItemState.claimed, assignee="bob")
    results = await asyncio.gather(sink.deliver(event(item("wi-race")), client, NOW),
                                   sink.deliver(event(claimed, SinkEventType.updated, change="claim"), client, NOW))
    assert all(r.ok for r in results)
    assert len(fake.posts("wi-race")) == 1 and len(fake.updates("wi-race")) == 1


@pytest.mark.asyncio
async def test_slack_down_is_retried_then_an_escalation_moves_the_message(slack) -> None:
    sink, client, fake, _, _ = slack
    fake.refuse(1, 503)
    fake.refuse(1, 429, "ratelimited")
    attempt = await sink.deliver(event(item("wi-2")), client, NOW)
    assert attempt.ok and attempt.attempts == 3 and len(fake.posts("wi-2")) == 1
    moved = item("wi-2", queue="supervisors", state=WorkItemState.escalated)
    assert (await sink.deliver(event(moved, SinkEventType.updated, change="escalation"), client, NOW)).ok
    old, new = fake.updates("wi-2")[0], fake.posts("wi-2")[1]
    assert old.body["channel"] == "C0ORDERS" and "moved to `supervisors`" in old.text and old.buttons == []
    assert new.body["channel"] == "C0ALL" and new.buttons == ["omniroute_claim", "omniroute_resolve"]
    resolved = moved.model_copy(update={"state": WorkItemState.resolved, "assignee": "ann"})
    assert (await sink.deliver(event(resolved, SinkEventType.resolved), client, NOW)).ok
    last = fake.updates("wi-2")[-1]
    assert (last.body["channel"], last.ts) == ("C0ALL", new.ts) and "Resolved by ann" in last.text


@pytest.mark.asyncio
async def test_a_message_deleted_in_slack_is_posted_again(slack) -> None:
    sink, client, fake, _, _ = slack
    assert (await sink.deliver(event(item("wi-3")), client, NOW)).ok
    fake.messages.clear()  # someone deleted it in Slack
    claimed = item("wi-3", state=WorkItemState.claimed, assignee="ann")
    assert (await sink.deliver(event(claimed, SinkEventType.updated, change="claim"), client, NOW)).ok
    assert len(fake.posts("wi-3")) == 2 and "Claimed by ann" in fake.posts("wi-3")[1].text


@pytest.mark.asyncio
async def test_a_refusal_that_is_not_transient_fails_at_once(slack) -> None:
    sink, client, fake, _, _ = slack
    fake.refuse(1, 200, "channel_not_found")
    attempt = await sink.deliver(event(item("wi-4")), client, NOW)
    assert not attempt.ok and attempt.attempts == 1 and attempt.error == "Slack chat.postMessage: channel_not_found"
    assert fake.posts("wi-4") == []


@pytest.mark.asyncio
async def test_the_deliver_processor_dead_letters_a_slack_delivery_and_marks_a_taken_one(slack) -> None:
    sink, client, fake, redis, prefix = slack
    queue = RedisWorkQueue(redis, prefix=prefix)
    await queue.upsert_many([item("wi-5"), item("wi-6")])
    processor = DeliverProcessor(redis, queue, load_sinks(Path("/nonexistent"), [], {}), client, WallClock(),
                                 prefix=prefix, item_wait_s=0.2,
                                 new_breaker=lambda: CircuitBreaker(failures_to_open=5, open_for_s=3600))
    processor.sinks.sinks.append(sink)
    fake.refuse(3, 502)  # the whole retry budget
    dead, = await processor.deliver(event(item("wi-5"), source="e5"))
    assert isinstance(dead.value, SinkDeadLetter) and dead.value.attempts == 3 and "HTTP 502" in dead.value.error
    taken, = await processor.deliver(event(item("wi-6"), source="e6"))
    assert isinstance(taken.value, SinkReceipt) and taken.value.sink == "slack"
    assert await processor.deliver(event(item("wi-6"), source="e6")) == []  # the same event again: nothing sent
    assert len(fake.posts("wi-6")) == 1
