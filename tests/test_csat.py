"""CSAT without the whole stack: which messages can be a rating, the edge's catch in `publish_within` (real broker
and Redis), one survey per item under redelivery, and the per-queue averages (real Redis, a recording transport)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis
from routing_helpers import msg, policy

from channels import registry
from channels.meta.send import MetaSender
from channels.reply_plan import plan_reply
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.adapters import Sent
from contracts.channels import ChannelKind
from contracts.csat import CsatRating
from contracts.decision import Priority
from contracts.inbound import Attachment, MessageKind
from contracts.outbound import DeliveryStatus, OutboundKind, OutboundMessage, ReplyTarget, SendResult
from contracts.topics import CSAT, INBOUND
from contracts.workitem import AgentAction, AgentActionKind, WorkItem
from workers.channel_secrets import ChannelSecrets
from workers.runtime.codec import encode
from workers.runtime.csat import CHOICES, CsatProcessor
from workers.runtime.csat_answers import CsatAnswers, rating_in
from workers.runtime.csat_store import CsatStore, PendingSurvey
from workers.runtime.outbound import OutboundProcessor
from workers.runtime.publisher import new_producer, publish_within
from workers.stack.broker import EmbeddedBroker

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
async_test = pytest.mark.asyncio(loop_scope="module")  # the module's broker and producer live in one loop


class FixedClock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Recording:
    """A reply transport that records what it was asked to send and accepts it."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, sender, message: OutboundMessage, token: str) -> Sent:  # noqa: ANN001 - a ChannelSender
        self.sent.append(message)
        return Sent(SendResult(ok=True, provider_message_id=f"mid-{len(self.sent)}"), 1)


@pytest_asyncio.fixture(loop_scope="module")
async def store(redis_url: str) -> AsyncIterator[CsatStore]:
    redis = Redis.from_url(redis_url)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    yield CsatStore(redis, prefix=prefix)
    keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def survey(recipient: str, item_id: str = "wi-1", queue: str = "orders", sent_at: datetime = NOW) -> PendingSurvey:
    return PendingSurvey(tenant="izonie", work_item_id=item_id, queue=queue, channel=ChannelKind.messenger,
                         recipient=recipient, sent_at=sent_at, expires_at=sent_at + timedelta(days=3650))


@pytest.mark.parametrize(("text", "rating"), [("4", 4), (" 5\n", 5), ("1", 1), ("0", None), ("6", None),
                                              ("45", None), ("4 stars", None), ("four", None), ("", None)])
def test_only_a_lone_digit_from_1_to_5_can_be_a_rating(text: str, rating: int | None) -> None:
    assert rating_in(msg("izonie", "messenger", text)) == rating


def test_a_digit_with_an_attachment_or_from_a_robot_is_no_rating() -> None:
    photo = Attachment(filename="photo.jpg", content_type="image/jpeg")
    assert rating_in(msg("izonie", "messenger", "3", attachments=[photo])) is None
    assert rating_in(msg("izonie", "messenger", "3", kind=MessageKind.auto_reply)) is None


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def producer(module_broker: EmbeddedBroker) -> AsyncIterator:
    started = new_producer(module_broker.bootstrap)
    await started.start()
    yield started
    await started.stop()


@async_test
async def test_the_edge_turns_only_an_answer_to_a_pending_survey_into_a_rating(
        module_broker: EmbeddedBroker, producer, store: CsatStore) -> None:  # noqa: ANN001 - an AIOKafkaProducer
    answers = CsatAnswers(store, FixedClock())
    before = msg("izonie", "messenger", "5", sender="psid-csat-1")  # nobody asked yet: an ordinary message
    metas = [await publish_within(producer, [before], None, 10.0, answers=answers)]
    await store.expect_answer(survey("psid-csat-1"))
    other = msg("izonie", "messenger", "2", sender="psid-csat-2")  # a survey was sent to someone else
    answer = msg("izonie", "messenger", "4", sender="psid-csat-1")
    again = msg("izonie", "messenger", "3", sender="psid-csat-1")  # the survey was answered: a message again
    metas += [await publish_within(producer, [other], None, 10.0, answers=answers)]
    metas += [await publish_within(producer, [answer, again], None, 10.0, answers=answers)]
    topics = [meta.topic for batch in metas for meta in batch]
    assert topics == [INBOUND.name, INBOUND.name, CSAT.name, INBOUND.name]

    written = metas[2][0]
    consumer = AIOKafkaConsumer(bootstrap_servers=module_broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(CSAT.name, written.partition)
        consumer.assign([partition])
        consumer.seek(partition, written.offset)
        record = (await consumer.getmany(partition, timeout_ms=10_000, max_records=1))[partition][0]
    finally:
        await consumer.stop()
    rating = CsatRating.model_validate_json(record.value)
    assert (rating.tenant, rating.work_item_id, rating.queue, rating.rating) == ("izonie", "wi-1", "orders", 4)
    assert rating.message_id == answer.id and rating.surveyed_at == NOW and record.key == b"izonie:wi-1"


@async_test
async def test_a_survey_taken_for_an_unpublished_answer_is_given_back(store: CsatStore) -> None:
    answers = CsatAnswers(store, FixedClock())
    await store.expect_answer(survey("psid-csat-3"))
    caught = await answers.catch([msg("izonie", "messenger", "4", sender="psid-csat-3")])
    assert list(caught) == [0]
    assert await answers.catch([msg("izonie", "messenger", "4", sender="psid-csat-3")]) == {}
    await answers.give_back(caught)  # Kafka did not acknowledge: the platform's retry must count
    assert list(await answers.catch([msg("izonie", "messenger", "4", sender="psid-csat-3")])) == [0]


def resolved_item(item_id: str, recipient: str) -> WorkItem:
    target = ReplyTarget(channel=ChannelKind.messenger, recipient=recipient, conversation_key=f"conv-{recipient}",
                         endpoint="110200300400500", provider_message_id=f"m_{item_id}", received_at=NOW)
    return WorkItem(id=item_id, tenant="izonie", queue="orders", category="order_status", priority=Priority.normal,
                    channel=ChannelKind.messenger, customer=f"messenger:{recipient}", conversation_key=target.conversation_key,
                    text="Where is my order IZ-30021?", opened_at=NOW, reply_to=target)


def resolve(item_id: str, tenant: str = "izonie", agent: str = "ann") -> bytes:
    return encode(AgentAction(kind=AgentActionKind.resolve, work_item_id=item_id, tenant=tenant, agent_id=agent,
                              at=NOW))


@async_test
async def test_one_survey_per_item_however_often_its_resolution_arrives(store: CsatStore) -> None:
    policies = {"izonie": policy("izonie"), "conek": policy("conek")}
    secrets = ChannelSecrets.from_environ(registry.ADAPTERS, policies, {"IZONIE_META_PAGE_TOKEN": "izonie-page"})
    transport, queue = Recording(), RedisWorkQueue(store.redis, prefix=store.prefix)
    outbound = OutboundProcessor(store.redis, queue, {"graph": transport}, secrets, FixedClock(), prefix=store.prefix)
    processor = CsatProcessor(outbound, store, policies, FixedClock(), answer_window=timedelta(hours=72))
    await queue.upsert_many([resolved_item("wi-csat-1", "psid-csat-4")])

    first = await processor.on_action(resolve("wi-csat-1"))
    again = await processor.on_action(resolve("wi-csat-1"))  # a redelivery
    other_agent = await processor.on_action(resolve("wi-csat-1", agent="bob"))  # resolved again (another record)
    assert [e.status for e in first] == [DeliveryStatus.sent] and again == [] and other_agent == []
    assert len(transport.sent) == 1
    sent = transport.sent[0]
    assert sent.kind == OutboundKind.policy_message and sent.text == policy("izonie").csat_survey
    assert sent.target.recipient == "psid-csat-4"
    pending = await store.take_pending("izonie", ChannelKind.messenger, "psid-csat-4")
    assert pending is not None and (pending.work_item_id, pending.queue) == ("wi-csat-1", "orders")
    assert pending.expires_at == NOW + timedelta(hours=72)

    assert await processor.on_action(resolve("wi-csat-1", tenant="conek")) == []  # Conek asks for no survey
    assert await processor.on_action(encode(AgentAction(kind=AgentActionKind.reply, work_item_id="wi-csat-1",
                                                        tenant="izonie", agent_id="ann", at=NOW, text="Hi"))) == []
    assert len(transport.sent) == 1


@async_test
async def test_resolving_an_item_that_holds_abuse_sends_no_survey(store: CsatStore) -> None:
    """Izonie surveys after every support interaction (§7); an abuse review item (or a threat's) is not one."""
    policies = {"izonie": policy("izonie")}
    secrets = ChannelSecrets.from_environ(registry.ADAPTERS, policies, {"IZONIE_META_PAGE_TOKEN": "izonie-page"})
    transport, queue = Recording(), RedisWorkQueue(store.redis, prefix=store.prefix)
    outbound = OutboundProcessor(store.redis, queue, {"graph": transport}, secrets, FixedClock(), prefix=store.prefix)
    processor = CsatProcessor(outbound, store, policies, FixedClock(), answer_window=timedelta(hours=72))
    review = resolved_item("wi-csat-abuse", "psid-csat-5").model_copy(
        update={"queue": "trust_safety", "flags": ["abusive"], "text": "you useless idiots"})
    await queue.upsert_many([review, resolved_item("wi-csat-civil", "psid-csat-5")])
    assert await processor.on_action(resolve("wi-csat-abuse")) == [] and transport.sent == []
    assert [e.status for e in await processor.on_action(resolve("wi-csat-civil"))] == [DeliveryStatus.sent]
    assert len(transport.sent) == 1


@async_test
async def test_ratings_average_per_queue_over_the_period_one_per_item(store: CsatStore) -> None:
    def rating(item_id: str, queue: str, score: int, days_ago: float) -> CsatRating:
        at = NOW - timedelta(days=days_ago)
        return CsatRating(tenant="izonie", work_item_id=item_id, queue=queue, channel=ChannelKind.messenger,
                          customer="psid", rating=score, message_id=f"m-{item_id}", surveyed_at=at, rated_at=at)

    for r in (rating("a", "orders", 5, 1), rating("b", "orders", 2, 2), rating("b", "orders", 2, 2),  # redelivered
              rating("c", "orders", 1, 8), rating("d", "refunds", 4, 0.5)):  # c: older than 7 days
        await store.record(r)
    found = await store.by_queue(NOW - timedelta(days=7), "izonie")
    assert [(q.queue, q.average, q.count) for q in found] == [("orders", 3.5, 2), ("refunds", 4.0, 1)]
    assert await store.by_queue(NOW - timedelta(days=7), "conek") == []


def test_the_surveys_choices_become_quick_replies_on_the_last_part_only() -> None:
    target = resolved_item("wi-q", "psid-q").reply_to
    parts = plan_reply("How did we do? " * 200, target, tenant="izonie", work_item_id="wi-q", source="csat-survey",
                       kind=OutboundKind.policy_message, now=NOW, choices=CHOICES)
    assert len(parts) == 2 and parts[0].choices == [] and parts[1].choices == ["1", "2", "3", "4", "5"]
    first, last = (MetaSender().request(p, "token", "https://graph.example").json for p in parts)
    assert "quick_replies" not in first["message"]
    assert [(q["title"], q["payload"]) for q in last["message"]["quick_replies"]] == [
        ("1", "CHOICE:1"), ("2", "CHOICE:2"), ("3", "CHOICE:3"), ("4", "CHOICE:4"), ("5", "CHOICE:5")]
