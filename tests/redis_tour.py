"""One call of every Redis script and transaction the project runs, against any client (standalone or Cluster)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channels.chat.wire import FrameType
from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.slack_messages import SlackMessages
from contracts.channels import ChannelKind, EndpointKind
from contracts.decision import Priority, SlaTargets
from contracts.inbound import Endpoint, InboundMessage, Sender
from contracts.outbound import DeliveryStatus, OutboundKind, OutboundMessage, PlatformStatus, ReplyTarget
from contracts.workitem import AgentActionKind, WorkItem
from routing.policy import Duration, RetentionRule
from routing.state import MemoryState, Seen
from workers.runtime.chat_presence import ChatPresence
from workers.runtime.chat_store import ChatStore
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.delivery_index import DeliveryIndex
from workers.runtime.edge_guard import Admission, EdgeGuard
from workers.runtime.retention_job import RetentionJob
from workers.runtime.sla_store import SlaStore
from workers.runtime.state_store import PartitionStateStore
from workers.runtime.tokens import TokenStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def item(item_id: str, tenant: str, queue: str) -> WorkItem:
    sla = SlaTargets(timezone="UTC", clock="calendar", calendar="default", started_at=T0, rule="default",
                     first_response_due=T0 + timedelta(minutes=30), first_response_warn_at=T0 + timedelta(minutes=20),
                     resolution_due=T0 + timedelta(hours=8), escalate_to="tier2")
    return WorkItem(id=item_id, tenant=tenant, queue=queue, category="refund", priority=Priority.normal,
                    channel=ChannelKind.email, customer=f"email:{item_id}@example.com", conversation_key=item_id,
                    opened_at=T0, sla=sla, message_ids=[f"m-{item_id}"])


def inbound(tenant: str, provider_id: str, sender: str) -> InboundMessage:
    return InboundMessage(tenant=tenant, channel=ChannelKind.whatsapp, provider_message_id=provider_id,
                          conversation_key=sender, sender=Sender(platform_id=sender),
                          addressed_to=[Endpoint(kind=EndpointKind.whatsapp_phone_number_id, value="1")],
                          received_at=T0, text="hello")


async def work_queue_and_sla(redis, prefix: str) -> None:
    queue, sla = RedisWorkQueue(redis, prefix=prefix), SlaStore(redis, prefix=prefix)
    a, b = item("a", "acme", "billing"), item("b", "globex", "vip")
    await queue.upsert_many([a, b])
    assert await queue.create_many([a]) == {"a"}
    assert (await queue.claim("acme", "billing", "ada")).id == "a"
    assert await queue.release("a", "ada")
    assert (await queue.claim_item("a", "ada")) is not None
    moved = a.model_copy(update={"queue": "tech"})
    assert await queue.replace_many([(moved, (await queue.get_many_versioned(["a"]))["a"][1])]) == set()
    assert await queue.count_open("acme", "billing") == 0 and await queue.count_open("acme", "tech") == 1
    assert await queue.wait_customer("a") and await queue.end_wait("a")
    assert await sla.start("a", "acme", a.sla, "routed:0", 1) == 2
    assert await sla.act("a", AgentActionKind.wait_customer, T0 + timedelta(minutes=5)) == 0
    assert await sla.resume("a", T0 + timedelta(minutes=10), "routed:0", 2) == 2
    assert await sla.start("b", "globex", b.sla) == 2
    assert await sla.claim_due(T0 + timedelta(hours=1)) == 4  # a's and b's first-response warning and breach
    assert len(await sla.outbox()) == 6  # two warnings, two breaches, two escalations
    assert await sla.act("a", AgentActionKind.resolve, T0 + timedelta(hours=1)) == 1
    assert await queue.resolve("a", "ada", T0 + timedelta(hours=1))


async def retention(redis, prefix: str) -> None:
    job = RetentionJob(redis, prefix=prefix, rules={"acme": RetentionRule(after_closure=Duration(30, "d"))})
    report = await job.run(T0 + timedelta(days=60))
    assert report.deleted["work_items"] == 1 and report.deleted["sla_clocks"] == 1


async def edge_and_customer_keys(redis, prefix: str) -> None:
    guard, keys = EdgeGuard(redis, prefix=prefix), CustomerKeys(redis, prefix=prefix)
    messages = [inbound("acme", "p1", "2783"), inbound("globex", "p2", "2784"), inbound("acme", "p3", "2783")]
    admitted = await guard.admit(messages, window=timedelta(minutes=1), limit=1, keep=timedelta(days=1))
    assert admitted == [Admission.new, Admission.new, Admission.rate_limited]
    await guard.confirm(messages[:2], timedelta(days=1))
    assert await guard.settle(messages[:2], 1) == [True, True]
    await guard.release(messages[:1])
    assert [k.decode() for k in await keys.keys_for(messages)] == ["acme:whatsapp:2783", "globex:whatsapp:2784",
                                                                    "acme:whatsapp:2783"]


async def delivery_statuses(redis, prefix: str) -> None:
    index = DeliveryIndex(redis, prefix=prefix)
    target = ReplyTarget(channel=ChannelKind.whatsapp, recipient="2783", conversation_key="2783",
                         provider_message_id="p1", received_at=T0)
    sent = [OutboundMessage(id=f"out-{n}", tenant="acme", work_item_id="a", kind=OutboundKind.agent_reply,
                            target=target, text="hi") for n in (1, 2)]
    for message, provider_id in zip(sent, ("wamid.1", "wamid.2")):
        await index.remember(message, provider_id)
    statuses = [PlatformStatus(provider_message_id=p, status=DeliveryStatus.read, at=T0)
                for p in ("wamid.1", "wamid.2")]
    events, unmatched = await index.match(ChannelKind.whatsapp, statuses)
    assert len(events) == 2 and unmatched == 0
    assert (await index.match(ChannelKind.whatsapp, statuses))[0] == []  # never back


async def chat(redis, prefix: str) -> None:
    store = ChatStore(redis, prefix=prefix)
    session = await store.create("acme", "https://acme.example", name=None, email="ada@example.com")
    assert await store.push(session.session_id, FrameType.agent_reply, T0, away="out-1", text="hi") == 1
    assert await store.was_away(session.session_id, "out-1")
    assert await store.pulse(session.session_id, FrameType.typing, T0) == 1
    async with ChatPresence(store).holding(session.session_id):
        assert await ChatPresence(store).connected(session.session_id)
    assert await store.end(session.session_id, "resolved", T0) == 2
    assert not await store.over_limit("sessions", "127.0.0.1", 5, timedelta(minutes=1))


async def routing_state(redis, prefix: str) -> None:
    store = PartitionStateStore(redis, group="route", prefix=prefix)
    states = {}
    for partition in range(3):
        state = MemoryState()
        state.remember(f"k{partition}", Seen(message_id=f"m{partition}", at=T0, work_item_id=None))
        states[("support.inbound.v1", partition)] = (state, 10 + partition)
    await store.save_many(states)
    restored = await store.load("support.inbound.v1", 2)
    assert restored is not None and restored.next_offset == 12


async def slack_messages(redis, prefix: str) -> None:
    messages = SlackMessages(redis, prefix=prefix)
    token = await messages.reserve("acme", "team", "a")
    assert token is not None and await messages.reserve("acme", "team", "a") is None
    await messages.release("acme", "team", "a", token)
    assert await messages.reserve("acme", "team", "a") is not None


async def tokens(redis, prefix: str) -> None:
    store = TokenStore(redis, prefix=prefix)
    principal, token = await store.create("acme", label="tour")
    assert (await store.lookup(token)) == principal
    assert (await store.revoke(principal.id)) == principal


TOUR = [work_queue_and_sla, retention, edge_and_customer_keys, delivery_statuses, chat, routing_state, slack_messages,
        tokens]
