"""The data-retention job against a real Redis, with the periods of the shipped deploy/policies/*.yaml."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import redis
import redis.asyncio as aioredis

from channels.chat.wire import FrameType
from channels.sinks.redis_keys import items_tag
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets
from contracts.workitem import AgentAction, AgentActionKind, WorkItem
from conftest import ROOT
from routing.retention import StoredItem, Why, due_at, plan
from routing_helpers import policy
from workers.runtime.action_history import ActionHistory, history_key
from workers.runtime.chat_store import ChatStore
from workers.runtime.customer_keys import ident_key
from workers.runtime.retention_job import RetentionJob
from workers.runtime.sla_store import SlaStore

NOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
EXE = shutil.which("omniroute", path=str(Path(sys.executable).parent)) or "omniroute"
TENANTS = ("alkonect", "izonie", "conek")


def closure(tenant: str) -> timedelta:
    return policy(tenant).retention.after_closure.as_timedelta()


def suspension(tenant: str) -> timedelta:
    period = policy(tenant).retention.after_non_payment_suspension
    assert period is not None, f"{tenant}'s policy gives no non-payment period"
    return period.as_timedelta()


def rules() -> dict:
    return {t: policy(t).retention for t in TENANTS}


# -- the clauses, on the shipped files -------------------------------------------------------------------------

def test_conek_3_4_7_1_7_3_retention_periods() -> None:
    """§3.4: "Account data may be retained for 180 days after cancellation"; §7.3: "Account data is retained for
    180 days before permanent deletion"; §7.1 (suspension for non-payment): "Account data is retained for 30 days
    before permanent deletion"."""
    rule = policy("conek").retention
    assert (str(rule.after_closure), str(rule.after_non_payment_suspension)) == ("180d", "30d")
    resolved = NOW - timedelta(days=100)
    item = StoredItem(id="w1", tenant="conek", customer="email:a@b.co.za", resolved_at=resolved)
    assert due_at(item, rule, None) == (resolved + timedelta(days=180), Why.after_closure)
    suspended = NOW - timedelta(days=10)
    assert due_at(item, rule, suspended) == (suspended + timedelta(days=30), Why.after_non_payment_suspension)
    # a suspension never deletes an item before it was resolved, nor extends the closure period
    assert due_at(item, rule, resolved - timedelta(days=90)) == (resolved, Why.after_non_payment_suspension)
    assert due_at(item, rule, resolved + timedelta(days=170)) == (resolved + timedelta(days=180), Why.after_closure)


@pytest.mark.parametrize("tenant", ["alkonect", "izonie"])
def test_texts_silent_on_retention_keep_closed_conversations_180_days(tenant: str) -> None:
    """The Alkonect and Izonie texts say nothing about keeping conversations; reading: Conek's 180 days after
    closure, and no non-payment suspensions (neither bills subscriptions)."""
    rule = policy(tenant).retention
    assert rule.after_non_payment_suspension is None
    item = StoredItem(id="w", tenant=tenant, customer="email:a@b.ng", resolved_at=NOW - closure(tenant))
    due, kept = plan([item], rules(), {(tenant, "email:a@b.ng"): NOW - timedelta(days=365)}, NOW)
    assert [d.why for d in due] == [Why.after_closure] and kept == []


def test_open_work_is_never_due() -> None:
    items = [StoredItem(id=f"o-{t}", tenant=t, customer="email:x@y.z", resolved_at=None) for t in TENANTS]
    suspensions = {(t, "email:x@y.z"): NOW - timedelta(days=3650) for t in TENANTS}
    due, kept = plan(items, rules(), suspensions, NOW)
    assert due == [] and kept == items


# -- the job against Redis -------------------------------------------------------------------------------------

@pytest.fixture
def prefix(redis_url: str):
    name = f"omniroute-test-retention-{uuid4().hex}"
    yield name
    with redis.Redis.from_url(redis_url, socket_connect_timeout=2) as client:
        keys = list(client.scan_iter(match=f"{name}:*", count=1000))
        if keys:
            client.delete(*keys)


def _item(item_id: str, tenant: str, customer: str, opened: datetime, refs: list[str] | None = None) -> WorkItem:
    sla = SlaTargets(timezone="UTC", clock="calendar", calendar="support", started_at=opened, rule="r",
                     first_response_due=opened + timedelta(hours=4), resolution_due=opened + timedelta(days=3))
    return WorkItem(id=item_id, tenant=tenant, queue="support", category="general", priority=Priority.normal,
                    channel=ChannelKind.chat, customer=customer, conversation_key=f"conv-{item_id}",
                    text=f"the customer's words in {item_id}", opened_at=opened, message_ids=[f"m-{item_id}"],
                    references=refs or [], sla=sla)


class World:
    """Work items with everything omniroute keeps about them, written through the production stores."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self.queue = RedisWorkQueue(client, prefix=prefix)
        self.sla = SlaStore(client, prefix=prefix)
        self.history = ActionHistory(client, prefix=prefix)
        self.chat = ChatStore(client, prefix=prefix)
        self.sessions: dict[str, str] = {}

    async def add(self, item: WorkItem, *, resolved: datetime | None) -> None:
        await self.queue.create_many([item])
        await self.sla.start(item.id, item.tenant, item.sla)
        session = await self.chat.create(item.tenant, "https://alkonect.com", name=None, email=None)
        self.sessions[item.id] = session.session_id
        await self.chat.remember_message(item.message_ids[0], session.session_id)
        await self.chat.push(session.session_id, FrameType.agent_reply, item.opened_at, text="how can we help?")
        await self.client.set(ident_key(self.prefix, item.tenant, item.customer), item.customer)
        for ref in item.references:
            await self.client.set(ident_key(self.prefix, item.tenant, f"ref:{ref}"), item.customer)
        reply = AgentAction(kind=AgentActionKind.reply, work_item_id=item.id, tenant=item.tenant, agent_id="ag",
                            at=item.opened_at + timedelta(hours=1), text="on it")
        await self.history.remember(reply)
        if resolved is not None:
            await self.chat.end(session.session_id, "resolved", resolved)
            assert await self.queue.resolve(item.id, "ag", at=resolved)
            await self.history.remember(reply.model_copy(update={"kind": AgentActionKind.resolve, "at": resolved}))
            await self.sla.act(item.id, AgentActionKind.resolve, resolved)

    async def kept(self, item: WorkItem) -> dict[str, bool]:
        """Which of the item's kinds of data are in Redis."""
        s = self.sessions[item.id]
        keys = {"item": self.queue.item_key(item.id), "history": history_key(self.prefix, item.id),
                "clocks": self.sla.item_key(item.id), "chat_link": self.chat.key("message", item.message_ids[0]),
                "transcript": self.chat.key("frames", s), "session": self.chat.key("session", s),
                "customer_key": ident_key(self.prefix, item.tenant, item.customer)}
        return {kind: bool(await self.client.exists(key)) for kind, key in keys.items()}

    async def snapshot(self) -> dict[bytes, bytes]:
        keys = sorted([k async for k in self.client.scan_iter(match=f"{self.prefix}:*", count=1000)])
        return {k: await self.client.dump(k) for k in keys}


ALL = dict.fromkeys(("item", "history", "clocks", "chat_link", "transcript", "session", "customer_key"), True)
NONE = dict.fromkeys(ALL, False)


def test_the_job_deletes_what_is_due_and_nothing_else(redis_url: str, prefix: str) -> None:
    """Resolved 181 days ago: gone with its actions, clocks, chat transcript and customer key; 179 days ago and
    open work (however old) stay; a non-payment suspension takes a Conek customer's closed items after 30 days.
    A dry run deletes nothing and counts what the real run deletes; a second run deletes nothing more."""
    days = timedelta(days=1)
    old = _item("alk-old", "alkonect", "email:old@example.ng", NOW - closure("alkonect") - 5 * days, ["ALK-900001"])
    recent = _item("alk-recent", "alkonect", "email:recent@example.ng", NOW - closure("alkonect") - 3 * days)
    open_ = _item("alk-open", "alkonect", "email:open@example.ng", NOW - 400 * days)
    shared = _item("izo-shared-old", "izonie", "email:shared@example.ng", NOW - closure("izonie") - 9 * days)
    shared_open = _item("izo-shared-open", "izonie", "email:shared@example.ng", NOW - 2 * days)
    paid_late = _item("cnk-suspended", "conek", "email:late@example.co.za", NOW - 60 * days)
    just_suspended = _item("cnk-suspended-lately", "conek", "email:lately@example.co.za", NOW - 60 * days)
    resolved_at = {old.id: NOW - closure("alkonect") - days, recent.id: NOW - closure("alkonect") + days,
                   open_.id: None, shared.id: NOW - closure("izonie") - days, shared_open.id: None,
                   paid_late.id: NOW - 40 * days, just_suspended.id: NOW - 40 * days}
    items = [old, recent, open_, shared, shared_open, paid_late, just_suspended]

    async def body():
        client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2)
        try:
            world = World(client, prefix)
            for item in items:
                await world.add(item, resolved=resolved_at[item.id])
            job = RetentionJob(client, prefix=prefix, rules=rules(), batch=2)
            await job.suspend("conek", paid_late.customer, NOW - suspension("conek") - days)
            await job.suspend("conek", just_suspended.customer, NOW - suspension("conek") + days)
            before = await world.snapshot()
            dry = await job.run(NOW, dry_run=True)
            after_dry = await world.snapshot()
            real = await job.run(NOW)
            again = await job.run(NOW)
            kept = {item.id: await world.kept(item) for item in items}
            suspensions = await job.suspensions(["conek"])
            return before, after_dry, dry, real, again, kept, suspensions
        finally:
            await client.aclose()

    before, after_dry, dry, real, again, kept, suspensions = asyncio.run(body())
    assert after_dry == before, "the dry run changed Redis"
    assert kept[old.id] == NONE
    assert kept[paid_late.id] == NONE
    for item in (recent, just_suspended):
        assert kept[item.id] == {**ALL, "session": True}, item.id
    for item in (open_, shared_open):
        assert kept[item.id] == ALL, item.id
    # the open item of the same customer keeps the customer key, the due one's own data goes
    assert kept[shared.id] == {**NONE, "customer_key": True}
    assert real.deleted["work_items"] == 3 and real.deleted["action_histories"] == 3
    assert real.deleted["sla_clocks"] == 3 and real.deleted["chat_transcripts"] == 3
    assert real.deleted["customer_keys"] == 3  # old's customer and its order reference, paid_late's customer
    assert real.deleted["suspensions"] == 1 and set(suspensions) == {("conek", just_suspended.customer)}
    assert dry.deleted == real.deleted and (dry.scanned, dry.due) == (real.scanned, real.due) == (7, 3)
    assert sum(again.deleted.values()) == 0 and again.due == 0


def test_an_interrupted_run_is_finished_by_the_next(redis_url: str, prefix: str) -> None:
    """Stopped after its first batch, the job leaves no orphan behind: the next run deletes the rest, customer
    keys of items deleted by the stopped run included."""
    items = [_item(f"alk-{n}", "alkonect", f"email:c{n}@example.ng", NOW - 400 * timedelta(days=1), [f"ALK-90{n:04d}"])
             for n in range(12)]

    class Stop(Exception):
        pass

    def stop(_report) -> None:
        raise Stop

    async def body():
        client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2)
        try:
            world = World(client, prefix)
            for item in items:
                await world.add(item, resolved=NOW - closure("alkonect") - timedelta(days=2))
            job = RetentionJob(client, prefix=prefix, rules=rules(), batch=3)
            with pytest.raises(Stop):
                await job.run(NOW, progress=stop)
            first_left = sum([(await world.kept(i))["item"] for i in items])
            await job.run(NOW)
            return first_left, [await world.kept(i) for i in items], await world.snapshot()
        finally:
            await client.aclose()

    first_left, kept, left = asyncio.run(body())
    assert first_left < len(items), "the stopped run deleted nothing: nothing was interrupted"
    assert all(k == NONE for k in kept)
    # what is left are the shared structures (tenant and queue names, the SLA outbox the SLA worker drains)
    assert not [k for k in left if any(i.id.encode() in k for i in items)]
    tag = items_tag(prefix)
    assert {k.decode().removeprefix(prefix) for k in left} <= {f":wq:{tag}:tenants", f":wq:{tag}:queues:alkonect",
                                                               f":sla:{tag}:outbox", f":sla:{tag}:seq"}


def test_omniroute_retention_run_prints_progress_and_counts(redis_url: str, prefix: str) -> None:
    """The command: the tenant's periods, then the summary by kind; --dry-run deletes nothing, --tenant limits it."""
    item = _item("cnk-cli", "conek", "email:cli@example.co.za", NOW - 400 * timedelta(days=1))

    async def setup():
        client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2)
        try:
            await World(client, prefix).add(item, resolved=NOW - closure("conek") - timedelta(days=1))
        finally:
            await client.aclose()

    asyncio.run(setup())
    env = {**os.environ, "REDIS_URL": redis_url, "OMNIROUTE_REDIS_PREFIX": prefix}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([EXE, "retention", "run", "--at", NOW.isoformat(), *args], capture_output=True,
                              text=True, timeout=120, cwd=ROOT, env=env, check=False)

    other = run("--tenant", "alkonect")
    dry = run("--tenant", "conek", "--dry-run")
    real = run("--tenant", "conek")
    for result in (other, dry, real):
        assert result.returncode == 0, result.stderr
    assert "conek: delete 180d after closure, 30d after a non-payment suspension" in dry.stdout
    assert "scanned 0 work items" in other.stdout
    assert "would delete: work_items 1, action_histories 1, sla_clocks 1" in dry.stdout
    assert "deleted: work_items 1, action_histories 1, sla_clocks 1" in real.stdout
    unknown = run("--tenant", "nosuch")
    assert unknown.returncode == 1 and "unknown tenant 'nosuch'" in unknown.stderr
