"""The SLA worker on a real broker and Redis: clocks start, warn, breach, escalate, stop, pause, survive a crash."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.decision import MergeDecision, RouteDecision
from contracts.topics import AGENT_ACTIONS, ALL_TOPICS, ROUTED, SLA_EVENTS
from contracts.workitem import AgentAction, AgentActionKind, SlaEvent, WorkItem, WorkItemState
from polling import until
from routing.decide import decide
from routing.state import MemoryState
from routing.work_items import opened_item
from conftest import ROOT
from routing_helpers import msg, policy
from sla_app import serve_sla
from workers.policy_files import load_policy
from workers.runtime.actions_api import add_action_routes
from workers.runtime.codec import encode
from workers.runtime.publisher import new_producer
from workers.runtime.sla_escalation import ESCALATION_RULE
from workers.runtime.sla_store import SlaStore
from workers.runtime.sla_processor import EVENT_ID_HEADER, SlaProcessor
from workers.stack import statefile
from workers.stack.broker import EmbeddedBroker
from workers.stack.kafka_compat import apply_tansu_leave_group_fix
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "agent-t0ken"
EXE = str(Path(sys.executable).with_name("omniroute"))


class ManualClock:
    """The test moves time; the worker reads it on every tick."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("sla-broker"))
    address = await broker.start()
    apply_tansu_leave_group_fix()
    await ensure_topics(address, ALL_TOPICS)
    yield address
    await broker.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def env(bootstrap: str, redis_url: str) -> AsyncIterator[Env]:
    e = Env(bootstrap, redis_url)
    await e.start()
    yield e
    await e.close()


class Env:
    """A unique Redis prefix and consumer group, a producer, and a log of SLA events read back from Kafka."""

    def __init__(self, bootstrap: str, redis_url: str) -> None:
        self.bootstrap, self.redis_url = bootstrap, redis_url
        self.prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
        self.events: list[tuple[str, SlaEvent]] = []
        self.tasks: list[asyncio.Task] = []
        self.stops: list[asyncio.Event] = []

    async def start(self) -> None:
        self.redis = Redis.from_url(self.redis_url)
        self.queue = RedisWorkQueue(self.redis, prefix=self.prefix)
        self.store = SlaStore(self.redis, prefix=self.prefix)
        self.producer = new_producer(self.bootstrap)
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(SLA_EVENTS.name, bootstrap_servers=self.bootstrap, group_id=None,
                                         auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=100)
        await self.consumer.start()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for r in records:
                    event_id = dict(r.headers)[EVENT_ID_HEADER].decode()
                    event = SlaEvent.model_validate_json(r.value)
                    assert event.event_id == event_id  # the payload carries the id too
                    self.events.append((event_id, event))

    def worker(self, clock: ManualClock, policies: dict | None = None) -> tuple[SlaProcessor, asyncio.Event]:
        return SlaProcessor(self.redis, prefix=self.prefix, clock=clock, policies=policies), asyncio.Event()

    async def run(self, worker: SlaProcessor, stop: asyncio.Event) -> asyncio.Task:
        task = asyncio.create_task(serve_sla(self.bootstrap, worker, f"sla-{self.prefix}", stop))
        self.tasks.append(task)
        self.stops.append(stop)
        await asyncio.wait_for(worker.ready.wait(), 30)
        return task

    async def route(self, text: str, sender: str, at: str = "2026-11-24T10:00:00") -> tuple[RouteDecision, WorkItem]:
        """What the route worker does for a new request: the decision on support.routed.v1, the item in Redis."""
        message = msg("izonie", "messenger", text, sender=f"{sender}-{self.prefix}", at=at)
        decision = decide(message, MemoryState(), message.received_at, policy("izonie"))
        assert isinstance(decision, RouteDecision) and decision.sla and decision.sla.escalate_to == "supervisors"
        item = opened_item(message, decision)
        await self.queue.upsert_many([item])
        await self.producer.send_and_wait(ROUTED.name, value=encode(decision),
                                          key=f"{decision.tenant}:{decision.customer}".encode())
        return decision, item

    async def act(self, item: WorkItem, kind: AgentActionKind, at: datetime) -> None:
        action = AgentAction(kind=kind, work_item_id=item.id, tenant=item.tenant, agent_id="ann", at=at)
        await self.producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action),
                                          key=f"{item.tenant}:{item.id}".encode())

    def of(self, item: WorkItem) -> list[tuple[str, str, str]]:
        """(event id, kind, clock) of the item's events, in the order they were read."""
        return [(eid, e.kind.value, e.clock.value) for eid, e in self.events if e.work_item_id == item.id]

    async def close(self) -> None:
        for stop in self.stops:  # faust Apps stop in order: cancelled inside App.stop, a consumer thread stays
            stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=60)
        for task in [*self.tasks, self.reader]:
            task.cancel()
        await asyncio.gather(*self.tasks, self.reader, return_exceptions=True)
        await self.consumer.stop()
        await self.producer.stop()
        keys = [k async for k in self.redis.scan_iter(f"{self.prefix}*", count=1000)]
        if keys:
            await self.redis.delete(*keys)
        await self.redis.aclose()


async def test_warn_breach_escalate_reply_resolve_pause_and_resume(env: Env) -> None:
    a_dec, a = await env.route("Where is my order IZ-10001? It has not arrived yet", "late")
    _, b = await env.route("My package IZ-10002 is late", "answered")
    _, c = await env.route("Where is my order IZ-10003?", "resolved")
    _, d = await env.route("Where is my order IZ-10004? still nothing", "waiting")
    sla = a_dec.sla
    t0 = a_dec.decided_at
    clock = ManualClock(t0)
    worker, stop = env.worker(clock)
    await env.run(worker, stop)
    await until(lambda: env.store.has_clocks(d.id), what="clocks started")

    # b is answered through the HTTP API, as an agent would; c and d through the topic directly
    app = web.Application()
    add_action_routes(app, env.producer, {"izonie"}, TOKEN)
    async with TestClient(TestServer(app)) as http:
        answer = await http.post(f"/v1/izonie/work-items/{b.id}/actions", json={"kind": "reply", "agent_id": "ann"},
                                 headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status == 202
    await env.act(c, AgentActionKind.resolve, t0)
    await env.act(d, AgentActionKind.wait_customer, t0)
    await until(lambda: len(env.of(b)) == 1 and len(env.of(c)) == 1, what="met events")
    assert env.of(b) == [(f"izonie:{b.id}:first_response:met", "met", "first_response")]
    assert [k for _, k, _ in env.of(c)] == ["met"]
    assert c.id not in {i.id for i in await env.queue.list_open("izonie")}
    assert (await env.queue.get(c.id)).state == WorkItemState.resolved
    await until(lambda: _state(env, d, "paused"), what="d paused")
    await until(lambda: _queue_state(env, d, WorkItemState.waiting_customer), what="d waiting in its queue")
    assert await env.queue.claim_item(d.id, "someone") is None  # a waiting item is not up for claiming

    clock.at = sla.first_response_warn_at + timedelta(minutes=1)
    await until(lambda: env.of(a), what="warning")
    assert env.of(a) == [(f"izonie:{a.id}:first_response:warning", "warning", "first_response")]
    warning = next(e for _, e in env.events if e.work_item_id == a.id)
    assert warning.at == sla.first_response_warn_at and warning.due_at == sla.first_response_due

    clock.at = sla.first_response_due + timedelta(minutes=1)
    await until(lambda: len(env.of(a)) == 3, what="breach and escalation")
    assert [k for _, k, _ in env.of(a)] == ["warning", "breach", "escalated"]
    escalated = [e for _, e in env.events if e.work_item_id == a.id][-1]
    assert escalated.escalate_to == "supervisors"
    moved = await env.queue.get(a.id)
    assert (moved.queue, moved.state) == ("supervisors", WorkItemState.escalated)
    assert moved.priority.rank == a.priority.rank + 1
    assert a.id in {i.id for i in await env.queue.list_open("izonie", "supervisors")}
    await asyncio.sleep(0.5)  # several ticks past the deadline
    assert len(env.of(b)) == 1 and len(env.of(c)) == 1 and env.of(d) == []  # stopped and paused clocks stay quiet

    # the customer answers d (a merge): the clock runs again with the time it had left when paused
    resumed_at = clock.at
    merge = MergeDecision(message_id=f"m-{env.prefix}", tenant="izonie", channel=d.channel, customer=d.customer,
                          work_item_id=d.id, repeat_count=1, decided_at=resumed_at)
    await env.producer.send_and_wait(ROUTED.name, value=encode(merge), key=f"izonie:{d.customer}".encode())
    await until(lambda: _state(env, d, "running"), what="d resumed")
    await until(lambda: _queue_state(env, d, WorkItemState.open), what="d open again in its queue")
    new_due = resumed_at + (d.sla.first_response_due - t0)
    assert [(i, k) for i, _, k, _ in await env.store.next_deadlines(50) if i == d.id] == [
        (d.id, "warning"), (d.id, "breach")]
    clock.at = new_due - timedelta(minutes=1)
    await asyncio.sleep(0.4)
    assert [k for _, k, _ in env.of(d)] == ["warning"]
    clock.at = new_due + timedelta(minutes=1)
    await until(lambda: len(env.of(d)) == 3, what="d breach")
    breach = [e for _, e in env.events if e.work_item_id == d.id][1]
    assert breach.kind == "breach" and abs((breach.due_at - new_due).total_seconds()) < 0.01

    ids = [eid for eid, _ in env.events if eid.split(":")[1] in {a.id, b.id, c.id, d.id}]
    assert len(ids) == len(set(ids)) == 8  # nothing fired twice
    stop.set()


async def _queue_state(env: Env, item: WorkItem, state: WorkItemState) -> bool:
    stored = await env.queue.get(item.id)
    return stored is not None and stored.state == state


async def _state(env: Env, item: WorkItem, state: str) -> bool:
    return (await env.store.clock_fields(item.id)).get("first_response:state") == state


async def test_a_crash_between_publishing_and_marking_neither_loses_nor_renames_events(env: Env) -> None:
    e_dec, e = await env.route("Where is my order IZ-20001?", "crash-e")
    f_dec, f = await env.route("Where is my order IZ-20002?", "crash-f", at="2026-11-25T12:00:00")
    clock = ManualClock(e_dec.decided_at)
    first, stop = env.worker(clock)
    published = asyncio.Event()

    async def hang() -> None:  # the crash point: Kafka acknowledged the events, the outbox is not cleared yet
        published.set()
        await asyncio.Event().wait()

    first.after_publish = hang
    task = await env.run(first, stop)
    await until(lambda: env.store.has_clocks(f.id), what="clocks started")
    clock.at = e_dec.sla.first_response_due + timedelta(minutes=1)
    await asyncio.wait_for(published.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pending = {entry.id for entry in await env.store.outbox()}
    assert {f"izonie:{e.id}:first_response:{k}" for k in ("warning", "breach", "escalated")} <= pending
    # a second replica claimed f's deadlines and died before publishing anything
    later = f_dec.sla.first_response_due + timedelta(minutes=1)
    assert await env.store.claim_due(later) >= 2
    clock.at = later

    second, stop2 = env.worker(clock)
    await env.run(second, stop2)
    await until(lambda: len(env.of(f)) == 3, what="f's events after the restart")
    await until(lambda: _outbox_empty(env), what="outbox drained")
    await asyncio.sleep(0.4)
    for item in (e, f):
        assert {eid for eid, _, _ in env.of(item)} == {f"izonie:{item.id}:first_response:{k}"
                                                      for k in ("warning", "breach", "escalated")}
    # e's events were acknowledged but not marked: re-published once, under the same ids, with the same content
    copies = [(eid, ev) for eid, ev in env.events if ev.work_item_id == e.id]
    assert len(copies) == 6 and all(copies[i] == copies[i + 3] for i in range(3))
    assert len(env.of(f)) == 3  # f's were claimed but never published before the restart: published exactly once
    moved = await env.queue.get(e.id)
    assert moved.priority.rank == e.priority.rank + 1  # the re-fired escalation did not raise it again
    assert [s.detail for s in moved.trace if s.rule == ESCALATION_RULE] == [f"izonie:{e.id}:first_response:escalated"]
    stop2.set()


async def _outbox_empty(env: Env) -> bool:
    return not await env.store.outbox()


async def test_actions_endpoint_checks_token_tenant_and_body(env: Env) -> None:
    app = web.Application()
    add_action_routes(app, env.producer, {"izonie"}, TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = "/v1/izonie/work-items/wi-api-1/actions"
    async with TestClient(TestServer(app)) as http:
        assert (await http.post(url, json={"kind": "reply", "agent_id": "ann"})).status == 401
        wrong = await http.post(url, json={"kind": "reply", "agent_id": "ann"}, headers={"Authorization": "Bearer x"})
        assert wrong.status == 401
        nobody = await http.post("/v1/nobody/work-items/wi-api-1/actions", json={"kind": "reply", "agent_id": "a"},
                                 headers=auth)
        assert nobody.status == 404
        bad = await http.post(url, json={"kind": "shout", "text": 3}, headers=auth)
        assert bad.status == 422
        assert {f["field"] for f in (await bad.json())["fields"]} == {"kind", "agent_id", "text"}
        mixed = await http.post(url, json={"kind": "reply", "agent_id": "a", "escalate_to": "x"}, headers=auth)
        assert mixed.status == 422
        ok = await http.post(url, json={"kind": "escalate", "agent_id": "ann", "escalate_to": "supervisors"},
                             headers=auth)
        assert ok.status == 202
        where = await ok.json()
    consumer = AIOKafkaConsumer(bootstrap_servers=env.bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(AGENT_ACTIONS.name, where["partition"])
        consumer.assign([tp])
        consumer.seek(tp, where["offset"])
        record = (await consumer.getmany(tp, timeout_ms=5000, max_records=1))[tp][0]
    finally:
        await consumer.stop()
    assert record.key == b"izonie:wi-api-1"
    action = AgentAction.model_validate_json(record.value)
    assert (action.kind, action.work_item_id, action.tenant, action.agent_id, action.escalate_to) == (
        AgentActionKind.escalate, "wi-api-1", "izonie", "ann", "supervisors")


async def test_act_command_posts_to_the_running_stack(env: Env, tmp_path: Path) -> None:
    app = web.Application()
    add_action_routes(app, env.producer, {"izonie"}, TOKEN)
    server = TestServer(app)
    await server.start_server()
    state_file = tmp_path / "dev-stack.json"
    base = {**os.environ, "OMNIROUTE_STATE_FILE": str(state_file), "OMNIROUTE_API_TOKEN": TOKEN}

    async def act(*args: str, env_vars: dict = base) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(EXE, "act", *args, env=env_vars, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        return proc.returncode, out.decode(), err.decode()

    try:
        code, _, err = await act("wi-1", "--tenant", "izonie", "--kind", "reply", "--agent", "ann")
        assert code == 1 and "no running dev stack" in err and err.count("\n") == 1
        statefile.write(state_file, statefile.StackState(bootstrap=env.bootstrap, redis_url=env.redis_url,
                                                         http_url=str(server.make_url("")).rstrip("/")))
        code, out, _ = await act("wi-1", "--tenant", "izonie", "--kind", "reply", "--agent", "ann", "--text", "hi")
        assert code == 0 and out.startswith("accepted: reply on wi-1 (support.agent-actions.v1[")
        code, _, err = await act("wi-1", "--tenant", "izonie", "--kind", "dance", "--agent", "ann")
        assert code == 1 and "HTTP 422" in err and "kind" in err and "Traceback" not in err
        code, _, err = await act("wi-1", "--tenant", "nobody", "--kind", "reply", "--agent", "ann")
        assert code == 1 and "HTTP 404" in err
        no_token = {k: v for k, v in base.items() if k != "OMNIROUTE_API_TOKEN"}
        code, _, err = await act("wi-1", "--tenant", "izonie", "--kind", "reply", "--agent", "a", env_vars=no_token)
        assert code == 1 and "OMNIROUTE_API_TOKEN" in err
    finally:
        await server.close()
    assert json.loads(state_file.read_text())["http_url"].startswith("http://")


async def test_store_skips_redeliveries_and_a_late_reply_is_not_met(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    store = SlaStore(redis, prefix=prefix)
    decision = decide(message := msg("izonie", "messenger", "IZ-30001 refund please", sender=f"s-{prefix}"),
                      MemoryState(), message.received_at, policy("izonie"))
    sla, item = decision.sla, decision.work_item_id
    try:
        assert await store.start(item, "izonie", sla, "routed:3", 7) == 1
        assert await store.start(item, "izonie", sla, "routed:3", 7) == 0  # redelivered: nothing restarts
        assert await store.claim_due(sla.first_response_due) == 2  # warning and breach
        kinds = [(e.event.kind.value, e.cause) for e in await store.outbox()]
        assert kinds == [("warning", ""), ("breach", ""), ("escalated", "breach")]
        after = sla.first_response_due + timedelta(hours=1)
        assert await store.act(item, AgentActionKind.reply, after, source="actions:1", offset=4) == 0  # no "met"
        assert await store.act(item, AgentActionKind.resolve, after, source="actions:1", offset=4) == -1
        assert (await store.clock_fields(item))["first_response:state"] == "stopped"
        assert await store.claim_due(after + timedelta(days=9)) == 0
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_a_business_hours_clock_resumes_with_the_open_time_it_had_left(env: Env) -> None:
    """Live chat (Mon-Sat 08:00-20:00 Lagos, 5 business minutes): paused with 4 minutes left, resumed at 19:58."""
    lagos = ZoneInfo("Africa/Lagos")
    message = msg("izonie", "chat", "Where is my order IZ-10005?", sender=f"biz-{env.prefix}", at="2026-11-24T10:00:00")
    decision = decide(message, MemoryState(), message.received_at, policy("izonie"))
    assert isinstance(decision, RouteDecision) and decision.sla and decision.sla.clock == "business"
    assert decision.sla.first_response_due == datetime(2026, 11, 24, 10, 5, tzinfo=lagos)
    item = opened_item(message, decision)
    await env.queue.upsert_many([item])
    clock = ManualClock(datetime(2026, 11, 24, 10, 0, 30, tzinfo=lagos))
    worker, stop = env.worker(clock, policies={"izonie": policy("izonie")})
    await env.run(worker, stop)
    await env.producer.send_and_wait(ROUTED.name, value=encode(decision), key=b"izonie:biz")
    await until(lambda: _state(env, item, "running"), what="clock started")
    clock.at = datetime(2026, 11, 24, 10, 1, tzinfo=lagos)
    await env.act(item, AgentActionKind.wait_customer, clock.at)
    await until(lambda: _state(env, item, "paused"), what="paused")
    clock.at = datetime(2026, 11, 24, 19, 58, tzinfo=lagos)  # two open minutes left today
    merge = MergeDecision(message_id=f"m2-{env.prefix}", tenant="izonie", channel=item.channel,
                          customer=item.customer, work_item_id=item.id, repeat_count=1, decided_at=clock.at)
    await env.producer.send_and_wait(ROUTED.name, value=encode(merge), key=b"izonie:biz")
    await until(lambda: _state(env, item, "running"), what="resumed")
    deadlines = {(k, c): at for i, c, k, at in await env.store.next_deadlines(200) if i == item.id}
    # 4 open minutes were left: 2 tonight, 2 on Wednesday from 08:00; the warning (1 minute left) tonight
    assert deadlines[("breach", "first_response")] == datetime(2026, 11, 25, 8, 2, tzinfo=lagos)
    assert deadlines[("warning", "first_response")] == datetime(2026, 11, 24, 19, 59, tzinfo=lagos)
    stop.set()


async def test_a_calendar_clock_resumes_with_its_time_left_and_never_falls_due_while_closed(env: Env,
                                                                                           tmp_path: Path) -> None:
    """A calendar-time clock (24 h) on a calendar closed at weekends: paused with 22 h left, resumed Friday 15:00.

    No shipped policy has such a clock today (Izonie's calendar clocks use the always-open calendar), so the policy
    is Izonie's file with its `always` calendar made Monday-Friday 08:00-20:00: the mechanism is under test here.
    """
    text = (ROOT / "deploy" / "policies" / "izonie.yaml").read_text()
    always = text.index("  always:\n")
    closed_weekends = ("  always:\n    weekly: {mon: [\"08:00-20:00\"], tue: [\"08:00-20:00\"], wed: [\"08:00-20:00\"], "
                       "thu: [\"08:00-20:00\"], fri: [\"08:00-20:00\"]}\n    closed_on_public_holidays: false\n")
    text = text[:always] + closed_weekends + text[text.index("  business_days:\n"):]
    (tmp_path / "izonie.yaml").write_text(text)
    weekdays = load_policy(tmp_path / "izonie.yaml")
    lagos = ZoneInfo("Africa/Lagos")
    message = msg("izonie", "messenger", "Where is my order IZ-10007?", sender=f"cal-{env.prefix}",
                  at="2026-11-26T10:00:00")
    decision = decide(message, MemoryState(), message.received_at, weekdays)
    assert isinstance(decision, RouteDecision) and decision.sla and decision.sla.clock == "calendar"
    assert decision.sla.first_response_due == datetime(2026, 11, 27, 10, 0, tzinfo=lagos)  # open: kept
    item = opened_item(message, decision)
    await env.queue.upsert_many([item])
    clock = ManualClock(datetime(2026, 11, 26, 10, 0, 30, tzinfo=lagos))
    worker, stop = env.worker(clock, policies={"izonie": weekdays})
    await env.run(worker, stop)
    await env.producer.send_and_wait(ROUTED.name, value=encode(decision), key=b"izonie:cal")
    await until(lambda: _state(env, item, "running"), what="clock started")
    clock.at = datetime(2026, 11, 26, 12, 0, tzinfo=lagos)  # 22 hours left
    await env.act(item, AgentActionKind.wait_customer, clock.at)
    await until(lambda: _state(env, item, "paused"), what="paused")
    clock.at = datetime(2026, 11, 27, 15, 0, tzinfo=lagos)  # Friday 15:00 + 22 h = Saturday 13:00, closed
    merge = MergeDecision(message_id=f"m3-{env.prefix}", tenant="izonie", channel=item.channel,
                          customer=item.customer, work_item_id=item.id, repeat_count=1, decided_at=clock.at)
    await env.producer.send_and_wait(ROUTED.name, value=encode(merge), key=b"izonie:cal")
    await until(lambda: _state(env, item, "running"), what="resumed")
    deadlines = {(k, c): at for i, c, k, at in await env.store.next_deadlines(200) if i == item.id}
    assert deadlines[("breach", "first_response")] == datetime(2026, 11, 30, 8, 0, tzinfo=lagos)  # Monday's opening
    stop.set()


async def test_a_merge_re_published_after_a_rebalance_does_not_end_a_later_wait(env: Env) -> None:
    """Route workers re-publish decisions when partitions move; the SLA worker dedupes them on message_id."""
    decision, item = await env.route("Where is my parcel IZ-20001?", "republished")
    clock = ManualClock(datetime(2026, 11, 24, 10, 1, tzinfo=UTC))
    worker, stop = env.worker(clock)
    await env.run(worker, stop)
    await until(lambda: _state(env, item, "running"), what="clock started")
    merge = MergeDecision(message_id=f"m3-{env.prefix}", tenant="izonie", channel=item.channel,
                          customer=item.customer, work_item_id=item.id, repeat_count=1, decided_at=clock.at)
    await env.producer.send_and_wait(ROUTED.name, value=encode(merge), key=b"izonie:republished")
    await until(lambda: env.store.decision_applied(merge.message_id), what="the merge applied")
    await env.act(item, AgentActionKind.wait_customer, clock.at)  # then the agent waits for the customer
    await until(lambda: _state(env, item, "paused"), what="paused")
    await env.producer.send_and_wait(ROUTED.name, value=encode(merge), key=b"izonie:republished")  # re-published
    await env.producer.send_and_wait(ROUTED.name, value=encode(decision), key=b"izonie:republished")
    marker, marker_item = await env.route("Another question about IZ-20002", "republished-marker")
    await until(lambda: _state(env, marker_item, "running"), what="the records after them handled")
    assert await _state(env, item, "paused") and await _queue_state(env, item, WorkItemState.waiting_customer)
    stop.set()
