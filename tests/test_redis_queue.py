"""RedisWorkQueue against a real Redis (the `redis_url` stack fixture), and the `omniroute queues` views."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import redis
import redis.asyncio as aioredis

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets
from contracts.workitem import WorkItem, WorkItemState
from workers.queues_view import format_queue_table, queue_rows_json

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def run(redis_url: str):
    """Runs `body(queue, client)` in a fresh event loop against a unique key prefix, deleted afterwards."""
    prefix = f"omniroute-test-{uuid4().hex}"

    def runner(body, *, decode_responses: bool = False):
        async def main():
            client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2, decode_responses=decode_responses)
            try:
                try:
                    await client.ping()
                except redis.RedisError as exc:
                    pytest.fail(f"Redis at {redis_url} did not answer ({exc}); start one or set REDIS_URL")
                return await body(RedisWorkQueue(client, prefix=prefix), client)
            finally:
                await client.aclose()

        return asyncio.run(main())

    runner.prefix = prefix
    yield runner
    with redis.Redis.from_url(redis_url, socket_connect_timeout=2) as client:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


def make_item(item_id: str, *, tenant: str = "acme", queue: str = "billing", due_min: int | None = 60,
              resolution_only: bool = False, **extra) -> WorkItem:
    sla = None
    if due_min is not None:
        due = T0 + timedelta(minutes=due_min)
        sla = SlaTargets(timezone="Europe/Berlin", clock="business", calendar="de", started_at=T0, rule="default",
                         first_response_due=None if resolution_only else due,
                         resolution_due=due if resolution_only else due + timedelta(days=2))
    fields = dict(id=item_id, tenant=tenant, queue=queue, category="refund", priority=Priority.normal,
                  channel=ChannelKind.email, customer=f"cust-{item_id}@example.com", conversation_key=f"conv-{item_id}",
                  opened_at=T0, sla=sla, message_ids=[f"m-{item_id}"])
    return WorkItem(**(fields | extra))


def due_of(item: WorkItem) -> datetime:
    if item.sla is None:
        return item.opened_at + timedelta(days=3650)
    return item.sla.first_response_due or item.sla.resolution_due


def mixed_items() -> list[WorkItem]:
    items = [make_item(f"w{n}", tenant=tenant, queue=queue, due_min=due)
             for n, (tenant, queue, due) in enumerate([
                 ("acme", "billing", 300), ("acme", "tech", 30), ("acme", "billing", 90), ("acme", "tech", 600),
                 ("globex", "billing", 45), ("globex", "vip", 5), ("globex", "billing", 240)])]
    items.append(make_item("w-res", tenant="acme", queue="tech", due_min=120, resolution_only=True))
    items.append(make_item("w-nosla", tenant="acme", queue="billing", due_min=None))
    random.Random(7).shuffle(items)
    return items


async def snapshot(client: aioredis.Redis, prefix: str) -> dict:
    state = {}
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        kind = (await client.type(key)).decode()
        if kind == "hash":
            state[key] = await client.hgetall(key)
        elif kind == "zset":
            state[key] = await client.zrange(key, 0, -1, withscores=True)
        else:
            state[key] = sorted(await client.smembers(key))
        state[key, "ttl"] = await client.ttl(key)
    return state


def test_list_open_orders_by_sla_due_across_queues_and_tenants(run) -> None:
    items = mixed_items()

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        return await q.list_open(), await q.list_open(tenant="acme"), await q.list_open(limit=3)

    everything, acme, first3 = run(body)
    by_due = sorted(items, key=due_of)
    assert [i.id for i in everything] == [i.id for i in by_due]
    assert [i.id for i in acme] == [i.id for i in by_due if i.tenant == "acme"]
    assert acme[-1].id == "w-nosla" and [i.id for i in first3] == [i.id for i in by_due[:3]]
    assert {i.id: i for i in everything} == {i.id: i for i in items}  # stored items round-trip unchanged


def test_upsert_is_idempotent(run) -> None:
    items = mixed_items()

    async def body(q: RedisWorkQueue, client):
        await q.upsert_many(items)
        before = await snapshot(client, run.prefix)
        await q.upsert_many(items)
        return before, await snapshot(client, run.prefix), await q.list_open()

    before, after, listed = run(body)
    assert before and before == after
    assert len(listed) == len(items)


def test_upsert_after_claim_keeps_the_claim_but_refreshes_content(run) -> None:
    items = [make_item("a", due_min=10), make_item("b", due_min=20)]

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        claimed = await q.claim("acme", "billing", "agent-1")
        refreshed = [items[0].model_copy(update={"repeat_count": 2}), items[1]]
        await q.upsert_many(refreshed)
        again = await q.claim("acme", "billing", "agent-2")
        resolved = await q.resolve("b", "agent-2")
        await q.upsert_many(refreshed)
        return claimed, again, resolved, await q.get("a"), await q.get("b"), await q.list_open()

    claimed, again, resolved, a, b, listed = run(body)
    assert claimed.id == "a" and claimed.state is WorkItemState.claimed and claimed.assignee == "agent-1"
    assert again.id == "b" and resolved
    assert (a.state, a.assignee, a.repeat_count) == (WorkItemState.claimed, "agent-1", 2)
    assert (b.state, b.assignee) == (WorkItemState.resolved, "agent-2")
    assert [i.id for i in listed] == ["a"]


def test_concurrent_claimers_never_share_an_item(run) -> None:
    items = [make_item(f"r{n}", due_min=n) for n in range(5)]

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        results = await asyncio.gather(*(q.claim("acme", "billing", f"agent-{n}") for n in range(20)))
        stored = [await q.get(i.id) for i in items]
        return results, stored

    results, stored = run(body)
    won = [r for r in results if r is not None]
    assert sorted(r.id for r in won) == sorted(i.id for i in items)
    assert results.count(None) == 15
    assert {s.id: s.assignee for s in stored} == {r.id: r.assignee for r in won}
    assert all(s.state is WorkItemState.claimed for s in stored)


def test_claim_item_release_and_claim_order(run) -> None:
    items = [make_item("early", due_min=5), make_item("late", due_min=50)]

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        got = await q.claim_item("late", "agent-1")
        twice = await q.claim_item("late", "agent-2")
        unknown = await q.claim_item("nope", "agent-2")
        wrong_release = await q.release("late", "agent-2")
        right_release = await q.release("late", "agent-1")
        first = await q.claim("acme", "billing", "agent-3")
        second = await q.claim("acme", "billing", "agent-3")
        third = await q.claim("acme", "billing", "agent-3")
        return got, twice, unknown, wrong_release, right_release, first, second, third

    got, twice, unknown, wrong_release, right_release, first, second, third = run(body)
    assert got.id == "late" and got.assignee == "agent-1" and twice is None and unknown is None
    assert not wrong_release and right_release
    assert (first.id, second.id, third) == ("early", "late", None)


def test_resolve_removes_from_listing_and_expires_later(run) -> None:
    items = [make_item("x", due_min=5), make_item("y", due_min=6), make_item("z", queue="tech", due_min=7)]

    async def body(q: RedisWorkQueue, client):
        await q.upsert_many(items)
        await q.claim_item("y", "agent-1")
        refused = await q.resolve("y", "agent-2")
        done_claimed = await q.resolve("y", "agent-1")
        done_open = await q.resolve("z", "agent-2")
        twice = await q.resolve("z", "agent-2")
        ttl = await client.ttl(q.item_key("y"))
        return refused, done_claimed, done_open, twice, ttl, await q.list_open(), await q.get("y"), \
            await q.queue_depths(), await q.claim("acme", "tech", "agent-3")

    refused, done_claimed, done_open, twice, ttl, listed, y, depths, claim_tech = run(body)
    assert not refused and done_claimed and done_open and not twice
    assert [i.id for i in listed] == ["x"]
    assert y.state is WorkItemState.resolved and y.assignee == "agent-1"
    assert 7 * 24 * 3600 < ttl <= 400 * 24 * 3600  # the retention job deletes it on the tenant's schedule first
    assert depths == {("acme", "billing"): 1, ("acme", "tech"): 0}
    assert claim_tech is None


def test_list_filters_by_tenant_and_queue_and_depths_count_unresolved(run) -> None:
    items = mixed_items()

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        await q.claim("globex", "billing", "agent-1")
        return (await q.list_open(tenant="acme", queue="billing"), await q.list_open(queue="billing"),
                await q.list_open(tenant="initech"), await q.queue_depths(), await q.queue_depths(tenant="globex"))

    acme_billing, billing, nobody, depths, globex = run(body)
    by_due = sorted(items, key=due_of)
    assert [i.id for i in acme_billing] == [i.id for i in by_due if (i.tenant, i.queue) == ("acme", "billing")]
    assert [i.id for i in billing] == [i.id for i in by_due if i.queue == "billing"]
    assert sum(i.state is WorkItemState.claimed for i in billing) == 1
    assert nobody == []
    expected: dict[tuple[str, str], int] = {}
    for i in items:
        expected[i.tenant, i.queue] = expected.get((i.tenant, i.queue), 0) + 1
    assert depths == expected
    assert globex == {k: v for k, v in expected.items() if k[0] == "globex"}


def test_requeued_item_moves_and_separators_do_not_collide(run) -> None:
    items = [make_item("p", tenant="a:b", queue="c"), make_item("q", tenant="a", queue="b:c"),
             make_item("m", tenant="a", queue="billing")]

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        await q.upsert_many([items[2].model_copy(update={"queue": "escalations"})])
        return (await q.list_open(tenant="a:b", queue="c"), await q.list_open(tenant="a"),
                await q.queue_depths(), await q.claim("a", "billing", "agent"))

    ab_c, tenant_a, depths, from_old_queue = run(body)
    assert [i.id for i in ab_c] == ["p"]
    assert sorted(i.id for i in tenant_a) == ["m", "q"]
    assert depths == {("a:b", "c"): 1, ("a", "b:c"): 1, ("a", "billing"): 0, ("a", "escalations"): 1}
    assert from_old_queue is None


def test_an_item_moved_twice_in_one_write_leaves_only_its_last_queue(run) -> None:
    m = make_item("m", tenant="a", queue="billing")

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many([m])
        await q.upsert_many([m.model_copy(update={"queue": "tech"}), m.model_copy(update={"queue": "vip"})])
        return await q.queue_depths()

    assert run(body) == {("a", "billing"): 0, ("a", "tech"): 0, ("a", "vip"): 1}


def test_a_script_changes_nothing_when_the_item_moved_since_it_was_read(run) -> None:
    """The index keys a script declares are named from what the caller read; a concurrent move makes it refuse."""
    m = make_item("m", tenant="a", queue="billing")

    async def body(q: RedisWorkQueue, client):
        await q.upsert_many([m])
        stale = ["a", "tech"]  # read before someone moved it to billing
        answer = await q._claim_item(keys=[q.item_key("m"), q.ready_key(*stale), q.queue_key(*stale),
                                           q.tenant_key("a")], args=["m", *stale, "ada"])
        return answer, await client.hget(q.item_key("m"), "state"), await q.claim_item("m", "ada")

    answer, state, claimed = run(body)
    assert (answer, state) == (b"MOVED", b"open")
    assert claimed is not None and claimed.assignee == "ada"  # the queue reads again and goes through


def test_works_with_a_decoding_client(run) -> None:
    items = mixed_items()

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        claimed = await q.claim("acme", "tech", "agent-1")
        return claimed, await q.list_open(tenant="acme"), await q.queue_depths("acme")

    claimed, listed, depths = run(body, decode_responses=True)
    assert claimed.id == min((i for i in items if (i.tenant, i.queue) == ("acme", "tech")), key=due_of).id
    assert len(listed) == sum(i.tenant == "acme" for i in items)
    assert set(depths) == {("acme", "billing"), ("acme", "tech")}


def test_queue_views_show_due_in_tenant_time_with_countdown() -> None:
    now = T0 + timedelta(minutes=30)
    soon = make_item("soon", due_min=30 + 3 * 60 + 12, priority=Priority.high, repeat_count=2)
    late = make_item("late", queue="tech", due_min=25, channel=ChannelKind.whatsapp,
                     state=WorkItemState.claimed, assignee="agent-1")
    far = make_item("far", due_min=30 + 2 * 24 * 60 + 5 * 60)
    none = make_item("none", due_min=None, category=None)
    table = format_queue_table([soon, late, far, none], now).splitlines()
    assert table[0].split() == ["ITEM", "TENANT", "QUEUE", "CATEGORY", "CHANNEL", "CUSTOMER", "SLA", "DUE", "STATE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows["soon"] == ["soon", "acme", "billing", "refund", "email", "cust-soon@example.com",
                            "2024-05-06T14:42+02:00", "(in", "3h12m)", "open"]
    assert rows["late"][-4:] == ["2024-05-06T11:25+02:00", "(overdue", "5m)", "claimed"]
    assert "(in 2d5h)" in table[3]
    assert rows["none"] == ["none", "acme", "billing", "-", "email", "cust-none@example.com", "-", "open"]
    column = table[0].index("SLA DUE")
    assert all(line[column - 2:column] == "  " and line[column] in "2-" for line in table[1:])

    json_rows = queue_rows_json([soon, late, none])
    assert [set(r) for r in json_rows] == [{"item_id", "tenant", "queue", "category", "channel", "customer", "sla_due",
                                            "state", "priority", "repeat_count"}] * 3
    assert json_rows[0] == {"item_id": "soon", "tenant": "acme", "queue": "billing", "category": "refund",
                            "channel": "email", "customer": "cust-soon@example.com",
                            "sla_due": "2024-05-06T14:42:00+02:00", "state": "open", "priority": "high",
                            "repeat_count": 2}
    assert (json_rows[1]["channel"], json_rows[1]["state"], json_rows[2]["sla_due"]) == ("whatsapp", "claimed", None)
    assert datetime.fromisoformat(json_rows[0]["sla_due"]) == due_of(soon)


def test_get_many_returns_stored_items_with_agent_state_in_one_call(run) -> None:
    items = [make_item("a"), make_item("b", queue="returns")]

    async def body(q: RedisWorkQueue, client):
        await q.upsert_many(items)
        await q.claim_item("b", "agent-7")
        return await q.get_many(["a", "missing", "b"])

    got = run(body)
    assert set(got) == {"a", "b"}
    assert got["b"].state.value == "claimed" and got["b"].assignee == "agent-7"
    assert got["a"].queue == "billing"


def test_escalated_items_can_be_claimed_in_their_new_queue(run) -> None:
    escalated = make_item("e", queue="supervisors", state=WorkItemState.escalated)

    async def body(q: RedisWorkQueue, client):
        await q.upsert_many([escalated])
        first = await q.claim("acme", "supervisors", "lead-1")
        second = await q.claim("acme", "supervisors", "lead-2")
        return first, second

    first, second = run(body)
    assert first is not None and first.id == "e" and first.assignee == "lead-1"
    assert second is None


def test_create_many_leaves_existing_items_as_they_are(run) -> None:
    escalated = make_item("x", queue="supervisors", state=WorkItemState.escalated)

    async def body(q: RedisWorkQueue, client):
        await q.upsert_many([escalated])
        existed = await q.create_many([make_item("x"), make_item("y")])  # a replayed route decision, and a new one
        return existed, await q.get_many(["x", "y"])

    existed, got = run(body)
    assert existed == {"x"}
    assert got["x"].queue == "supervisors" and got["x"].state == WorkItemState.escalated
    assert got["y"].queue == "billing"


def test_replace_many_is_a_compare_and_set_on_the_revision(run) -> None:
    async def body(q: RedisWorkQueue, client):
        await q.upsert_many([make_item("r")])
        (item, rev), = (await q.get_many_versioned(["r"])).values()
        await q.upsert_many([item])  # the same write again: no new revision
        same_rev = (await q.get_many_versioned(["r"]))["r"][1]
        first = await q.replace_many([(item.model_copy(update={"repeat_count": 1}), rev)])
        stale = await q.replace_many([(item.model_copy(update={"repeat_count": 9}), rev)])
        return rev, same_rev, first, stale, (await q.get_many_versioned(["r"]))["r"]

    rev, same_rev, first, stale, (final, final_rev) = run(body)
    assert same_rev == rev and first == set() and stale == {"r"}
    assert final.repeat_count == 1 and final_rev == rev + 1


def test_a_merge_racing_an_escalation_keeps_both(run) -> None:
    """The route worker read the item, the SLA worker escalated it, then the merge was written: nothing lost."""
    from routing_helpers import Stream, msg

    from routing.work_items import opened_item, reply_target
    from workers.runtime.route_processor import Outcome
    from workers.runtime.route_worker import RouteWorker, RouteWorkerConfig
    from workers.runtime.sla_escalation import escalate_item

    s = Stream("alkonect")
    first = msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1")
    again = msg("alkonect", "email", "Still waiting for order ALK-120044", sender="a@x.com", provider_id="m2",
                at="2026-11-24T12:00:00")
    routed, merged = s(first), s(again)
    assert merged.action.value == "merge"

    async def body(q: RedisWorkQueue, client):
        await q.create_many([opened_item(first, routed)])
        worker = RouteWorker(RouteWorkerConfig(bootstrap="unused", redis_url="unused"), {})
        worker.queue = q
        read = q.get_many_versioned
        escalated = []

        async def read_then_escalate(ids):
            found = await read(ids)
            if not escalated:  # the SLA worker gets in between this read and the merge's write
                escalated.append(ids)
                await escalate_item(q, routed.work_item_id, "supervisors", "ev-1", "breach")
            return found

        q.get_many_versioned = read_then_escalate
        await worker._apply_work_items([Outcome(merged=(merged, s.state.items.get(merged.work_item_id),
                                                        reply_target(again)))])
        return await q.get(routed.work_item_id)

    item = run(body)
    assert item.queue == "supervisors" and item.state == WorkItemState.escalated  # the escalation stayed
    assert item.reply_to.provider_message_id == "m2"  # and the merge moved the reply target to the newest message
    assert item.message_ids == [first.id, again.id]  # and the merge landed


def test_waiting_for_the_customer_takes_an_item_off_the_claimable_set_until_they_write(run) -> None:
    async def body(q: RedisWorkQueue, client):
        await q.upsert_many([make_item("o"), make_item("c", queue="tech")])
        await q.claim_item("c", "agent-1")
        waited = [await q.wait_customer("o"), await q.wait_customer("c"), await q.wait_customer("o")]
        during = await q.get_many(["o", "c"])
        claim_during = await q.claim("acme", "billing", "agent-2")
        ended = [await q.end_wait("o"), await q.end_wait("c"), await q.end_wait("o")]
        after = await q.get_many(["o", "c"])
        claim_after = await q.claim("acme", "billing", "agent-2")
        return waited, during, claim_during, ended, after, claim_after

    waited, during, claim_during, ended, after, claim_after = run(body)
    assert waited == [True, True, False] and ended == [True, True, False]
    assert {i.state for i in during.values()} == {WorkItemState.waiting_customer}
    assert during["c"].assignee == "agent-1" and claim_during is None
    assert after["o"].state == WorkItemState.open
    assert (after["c"].state, after["c"].assignee) == (WorkItemState.claimed, "agent-1")  # back with its agent
    assert claim_after is not None and claim_after.id == "o"


def many_items(n: int) -> list[WorkItem]:
    """`n` items over two tenants and three queues, due one minute apart in a shuffled order."""
    places = [("acme", "billing"), ("acme", "tech"), ("globex", "billing")]
    items = [make_item(f"m{k:05d}", tenant=places[k % 3][0], queue=places[k % 3][1], due_min=k) for k in range(n)]
    random.Random(11).shuffle(items)
    return items


def test_list_open_lists_past_a_thousand_items_and_counts_them(run) -> None:
    items = many_items(1500)

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)
        return (await q.list_open(), await q.list_open(limit=1200), await q.list_open(tenant="globex"),
                await q.count_open(), await q.count_open(tenant="acme"), await q.count_open(tenant="acme", queue="tech"))

    everything, first, globex, total, acme, tech = run(body)
    by_due = [i.id for i in sorted(items, key=due_of)]
    assert [i.id for i in everything] == by_due
    assert [i.id for i in first] == by_due[:1200]
    assert len(globex) == 500 and (total, acme, tech) == (1500, 1000, 500)


def test_queues_command_pages_and_says_how_many_more(run, redis_url: str) -> None:
    import json
    import os
    import subprocess
    import sys

    from conftest import ROOT

    items = many_items(1234)

    async def body(q: RedisWorkQueue, _):
        await q.upsert_many(items)

    run(body)
    env = {**os.environ, "REDIS_URL": redis_url, "OMNIROUTE_REDIS_PREFIX": run.prefix, "PYTHONPATH": str(ROOT)}

    def queues(*args: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "workers.cli", "queues", *args], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out

    def items_table(*args: str) -> list[str]:
        """The item rows (and the "more" line); the CSAT table follows a blank line."""
        table, _, csat = queues(*args).stdout.partition("\n\n")
        assert csat.strip() == "no CSAT ratings in the last 7 days"
        return table.splitlines()

    by_due = [i.id for i in sorted(items, key=due_of)]
    table = items_table()
    assert [line.split()[0] for line in table[1:51]] == by_due[:50]
    assert table[51:] == ["… and 1,184 more; --all or --limit to see them"]
    table = items_table("--limit", "1100", "--tenant", "acme")
    assert len(table) == 1 + 823 and "more" not in table[-1]  # acme holds 823: all of them fit

    rows = queues("--json")
    assert [r["item_id"] for r in json.loads(rows.stdout)] == by_due[:1000]
    assert rows.stderr.strip() == "… and 234 more; --all or --limit to see them"
    everything = queues("--json", "--all")
    assert [r["item_id"] for r in json.loads(everything.stdout)] == by_due and everything.stderr == ""
    few = queues("--json", "--limit", "3")
    assert len(json.loads(few.stdout)) == 3 and "1,231 more" in few.stderr
    both = subprocess.run([sys.executable, "-m", "workers.cli", "queues", "--all", "--limit", "3"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert both.returncode == 2 and "exclude each other" in both.stderr
