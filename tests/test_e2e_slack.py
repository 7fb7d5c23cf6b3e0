"""End to end on the broker and Redis with a local Slack: a Conek item is posted once to its queue's channel, the
Claim and Resolve buttons (signed as Slack signs) act through the checked action path and edit the message, a
forged or stale click is 401, and of two racing clicks one wins while the other user is told who holds it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from slack_fake import Call, SlackFake, click, signed_interaction
from test_e2e_deliver import eventually, processed, read_decisions
from webhook_payloads import SECRETS, signed, whatsapp_body

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.topics import ALL_TOPICS, ROUTED
from contracts.workitem import WorkItemState
from workers.app import Ingress, build_app
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
BOT_TOKEN = "xoxb-conek-test"
SIGNING = uuid.uuid4().hex
SINK_FILE = """sinks:
  - name: slack
    kind: slack
    channels: {"*": C0CONEK}
    agents: {U0ANN: ann, U0BOB: bob}
"""


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    ingress: Ingress
    queue: RedisWorkQueue
    slack: SlackFake
    http: aiohttp.ClientSession

    async def customer_writes(self, sender: str) -> str:
        raw = whatsapp_body(f"wamid.in-{uuid.uuid4().hex}", sender=sender, text="My order never arrived, please help")
        async with self.http.post(self.ingress.url + "/webhooks/whatsapp/conek", data=raw, headers=signed(raw)) as r:
            assert r.status == 200, await r.text()

        async def item_of():
            return next((i for i in await self.queue.list_open("conek") if sender in i.customer), None)
        return (await eventually(item_of)).id

    async def press(self, item_id: str, user: str, action: str = "omniroute_claim", *, secret: str = SIGNING,
                    at: float | None = None, response_url: str | None = None) -> tuple[int, str]:
        body, headers = signed_interaction(secret, click(item_id, user, action, response_url), at)
        async with self.http.post(self.ingress.url + "/slack/conek/interactivity", data=body,
                                  headers=headers) as answer:
            return answer.status, await answer.text()

    async def posted(self, item_id: str) -> Call:
        async def first():
            return next(iter(self.slack.posts(item_id)), None)
        return await eventually(first)

    async def updated(self, item_id: str, showing: str) -> Call:
        async def found():
            return next((c for c in self.slack.updates(item_id) if showing in c.text), None)
        return await eventually(found)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("slack-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    slack = SlackFake(BOT_TOKEN)
    await slack.start()
    sinks_dir: Path = tmp_path_factory.mktemp("sinks")
    (sinks_dir / "conek.yaml").write_text(SINK_FILE)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token="slack-t0ken", sinks_dir=sinks_dir, slack_api_base=slack.api_base)
    app = build_app(settings, environ={**SECRETS, "CONEK_SLACK_BOT_TOKEN": BOT_TOKEN,
                                       "CONEK_SLACK_SIGNING_SECRET": SIGNING})
    assert app.sinks.describe() == ["conek/slack (slack, every queue)"]
    stop = asyncio.Event()
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    tasks = [asyncio.create_task(worker.run(stop))]  # the SLA agent runs on the faust App (start_processors)
    async with AsyncExitStack() as exits:
        await asyncio.wait_for(worker.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
        await app.start_processors(exits)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(bootstrap, prefix, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), slack, http)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    await slack.stop()
    await broker.stop()


async def test_an_item_is_posted_once_and_a_slack_claim_then_resolve_edit_that_message(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830003001")
    post = await stack.posted(item_id)
    assert post.body["channel"] == "C0CONEK" and post.token == BOT_TOKEN
    assert "*Customer*\nwhatsapp:" in post.text and "27830003001" in post.text and "*Channel*\nwhatsapp" in post.text
    assert "Decision trace: " in post.text and "official_channel: official" in post.text and "<!date^" in post.text
    assert post.buttons == ["omniroute_claim", "omniroute_resolve"]
    for raw in await read_decisions(stack.bootstrap, item_id):  # a rebalance re-publishes the decision
        meta = await stack.ingress.producer.send_and_wait(ROUTED.name, value=raw, key=b"conek:replay")
    await processed(stack, meta.partition, meta.offset)

    assert await stack.press(item_id, "U0ANN") == (200, "")
    assert (await stack.queue.get(item_id)).assignee == "ann"  # taken before Slack got its answer
    claimed = await stack.updated(item_id, "Claimed by ann")
    assert claimed.ts == post.ts and claimed.body["channel"] == "C0CONEK" and claimed.buttons == ["omniroute_resolve"]

    assert await stack.press(item_id, "U0ANN", "omniroute_resolve") == (200, "")
    resolved = await stack.updated(item_id, "Resolved by ann")
    assert resolved.ts == post.ts and resolved.buttons == []
    assert (await stack.queue.get(item_id)).state == WorkItemState.resolved
    assert len(stack.slack.posts(item_id)) == 1


async def test_a_forged_or_stale_click_is_401_and_changes_nothing(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830003002")
    await stack.posted(item_id)
    status, body = await stack.press(item_id, "U0ANN", secret="not-the-signing-secret")
    assert status == 401 and "does not match" in body
    status, body = await stack.press(item_id, "U0ANN", at=time.time() - 600)
    assert status == 401 and "stale" in body
    async with stack.http.post(stack.ingress.url + "/slack/izonie/interactivity", data=b"payload={}") as answer:
        assert answer.status == 404  # Izonie has no Slack sink
    item = await stack.queue.get(item_id)
    assert item.state == WorkItemState.open and item.assignee is None


async def test_two_racing_claims_one_wins_and_the_other_user_is_told_who_holds_it(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830003003")
    await stack.posted(item_id)
    urls = {"U0ANN": stack.slack.response_url(), "U0BOB": stack.slack.response_url(),
            "U0CAROL": stack.slack.response_url()}
    answers = await asyncio.gather(*(stack.press(item_id, user, response_url=urls[user]) for user in ("U0ANN", "U0BOB")))
    assert answers == [(200, ""), (200, "")]
    holder = (await stack.queue.get(item_id)).assignee
    assert holder in {"ann", "bob"}
    loser = "U0BOB" if holder == "ann" else "U0ANN"

    answer = await eventually(lambda: _first(stack.slack.answers[urls[loser].rsplit("/", 1)[1]]))
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert answer["text"] == f":no_entry: Already claimed by {holder}."
    assert stack.slack.answers[urls["U0ANN" if loser == "U0BOB" else "U0BOB"].rsplit("/", 1)[1]] == []
    await stack.updated(item_id, f"Claimed by {holder}")
    # an unmapped Slack user acts as slack:<user id>, and cannot resolve someone else's claim
    assert await stack.press(item_id, "U0CAROL", "omniroute_resolve", response_url=urls["U0CAROL"]) == (200, "")
    answer = await eventually(lambda: _first(stack.slack.answers[urls["U0CAROL"].rsplit("/", 1)[1]]))
    assert answer["text"] == f":no_entry: Already held by {holder}."
    assert (await stack.queue.get(item_id)).state == WorkItemState.claimed


async def _first(found):
    return next(iter(found), None)

