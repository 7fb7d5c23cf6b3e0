"""Agents' work queues in Redis: one per (tenant, queue), ordered by SLA due, with atomic claim."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from itertools import islice

import redis.asyncio as aioredis

from channels.sinks import redis_queue_lua as lua
from channels.sinks.redis_keys import items_tag
from contracts.workitem import WorkItem, WorkItemState

# A resolved item is deleted by the retention job on its tenant's schedule (`retention.after_closure`, at most 365
# days); this expiry is only the backstop for a deployment that never runs the job.
RESOLVED_TTL_SECONDS = 400 * 24 * 3600
_NO_SLA_HORIZON = timedelta(days=3652)  # items without an SLA sort after every real deadline
_READ_CHUNK = 1000  # items read per round trip when listing
_CLAIM_HEAD = 8  # items read from the head of a ready set per claim attempt
_UNSTORED = ("", "")  # the stored tenant and queue of an item not stored yet
_ATTEMPTS = 20  # reads again when an item moved between the read and the script (a concurrent writer)


def sla_due(item: WorkItem) -> datetime | None:
    """The deadline an item is worked by: first response, else resolution; None without an SLA."""
    if item.sla is None:
        return None
    return item.sla.first_response_due or item.sla.resolution_due


def due_score(item: WorkItem) -> float:
    due = sla_due(item) or item.opened_at + _NO_SLA_HORIZON
    return due.timestamp()


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisWorkQueue:
    """Work items materialised for agents; see the module docstring of redis_queue_lua for the scripts."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "omniroute",
                 resolved_ttl_seconds: int = RESOLVED_TTL_SECONDS) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = resolved_ttl_seconds
        self._base = f"{prefix}:wq:{items_tag(prefix)}:"
        self._named: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        self._upsert = redis.register_script(lua.UPSERT)
        self._claim_next = redis.register_script(lua.CLAIM_NEXT)
        self._claim_item = redis.register_script(lua.CLAIM_ITEM)
        self._release = redis.register_script(lua.RELEASE)
        self._resolve = redis.register_script(lua.RESOLVE)
        self._wait_customer = redis.register_script(lua.WAIT_CUSTOMER)
        self._end_wait = redis.register_script(lua.END_WAIT)

    # key names (every script gets its keys from these)
    def item_key(self, item_id: str) -> str:
        return f"{self._base}item:{lua.escape(item_id)}"

    def queue_key(self, tenant: str, queue: str) -> str:
        return f"{self._base}queue:{lua.escape(tenant)}:{lua.escape(queue)}"

    def ready_key(self, tenant: str, queue: str) -> str:
        return f"{self._base}ready:{lua.escape(tenant)}:{lua.escape(queue)}"

    def tenant_key(self, tenant: str) -> str:
        return f"{self._base}tenant:{lua.escape(tenant)}"

    def queues_key(self, tenant: str) -> str:
        return f"{self._base}queues:{lua.escape(tenant)}"

    @property
    def tenants_key(self) -> str:
        return f"{self._base}tenants"

    async def upsert_many(self, items: Sequence[WorkItem]) -> None:
        """Store or refresh items in one atomic call; claims and resolutions made in Redis are kept."""
        await self._store([(item, "") for item in items])

    async def create_many(self, items: Sequence[WorkItem]) -> set[str]:
        """Store items that do not exist yet; returns the ids that did (those are left as they are).

        A replayed `route` decision must not undo what happened to its item since (merges, an escalation).
        """
        return await self._store([(item, "new") for item in items])

    async def replace_many(self, versions: Sequence[tuple[WorkItem, int]]) -> set[str]:
        """Write each item only if its revision is still the one it was read at; returns the ids that moved on.

        Callers re-read those and apply their change again (optimistic concurrency between the route worker's
        merges and the SLA worker's escalations, which both rewrite an item).
        """
        return await self._store([(item, str(revision)) for item, revision in versions])

    async def reassign(self, item: WorkItem, revision: int) -> bool:
        """Write the item with its queue, state and assignee as given, if its revision is still `revision`.

        Unlike `replace_many` a claim is not kept: an agent moved the item to another queue or agent.
        """
        return not await self._store([(item, f"!{revision}")])

    async def _store(self, entries: Sequence[tuple[WorkItem, str]]) -> set[str]:
        if not entries:
            return set()
        for _ in range(_ATTEMPTS):
            # a 'new' write never touches a stored item's index keys: only the others need reading first
            stored = await self._stored([item.id for item, expect in entries if expect != "new"])
            keys, args = [self.tenants_key], [self._ttl]
            for item, expect in entries:
                t, q = item.tenant, item.queue
                was_t, was_q = stored.get(item.id, _UNSTORED)
                queue, tenant, ready, queues = self._queue_keys(t, q)
                keys += [self.item_key(item.id), queue, tenant, ready, queues, *self._index_keys(was_t, was_q)]
                # the JSON as bytes: hiredis packs them as they are (a str is encoded again, ~4 us an item)
                args += [item.id, t, q, repr(due_score(item)), item.__pydantic_serializer__.to_json(item),
                         item.state.value, item.assignee or "", expect, was_t, was_q]
            skipped = await self._upsert(keys=keys, args=args)
            if not _moved(skipped):
                return {_text(i) for i in skipped}
        raise RuntimeError(f"work items kept moving while being written: {[item.id for item, _ in entries]}")

    def _index_keys(self, tenant: str, queue: str) -> list[str]:
        """The ready, queue and tenant index keys an item stored with `tenant` and `queue` is in."""
        queue_key, tenant_key, ready_key, _ = self._queue_keys(tenant, queue)
        return [ready_key, queue_key, tenant_key]

    def _queue_keys(self, tenant: str, queue: str) -> tuple[str, str, str, str]:
        """The queue, tenant, ready and queues keys of (tenant, queue), named once: every item of a batch needs them."""
        named = self._named.get((tenant, queue))
        if named is None:
            if len(self._named) >= 10_000:
                self._named.clear()
            named = self._named[(tenant, queue)] = (self.queue_key(tenant, queue), self.tenant_key(tenant),
                                                    self.ready_key(tenant, queue), self.queues_key(tenant))
        return named

    async def _stored(self, item_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """(tenant, queue) each item is stored with; ("", "") for an unknown one."""
        if not item_ids:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for item_id in item_ids:
            pipe.hmget(self.item_key(item_id), "tenant", "queue")
        return {i: (_text(t) or "", _text(q) or "") for i, (t, q) in zip(item_ids, await pipe.execute())}

    async def claim(self, tenant: str, queue: str, agent_id: str) -> WorkItem | None:
        """Take the open item due first in the queue; None when nothing is claimable."""
        ready = self.ready_key(tenant, queue)
        for _ in range(_ATTEMPTS):
            head = [_text(i) for i in await self._redis.zrange(ready, 0, _CLAIM_HEAD - 1)]
            if not head:
                return None
            found = await self._claim_next(keys=[ready, *map(self.item_key, head)], args=[agent_id, *head])
            if not _moved(found):
                return _hydrate(found[1], WorkItemState.claimed.value, agent_id) if found else None
        return None  # other claimers kept taking the head: as if it were empty now

    async def claim_item(self, item_id: str, agent_id: str) -> WorkItem | None:
        """Claim one specific item; None when it is unknown or not open."""
        found = await self._item_script(self._claim_item, item_id, agent_id)
        return _hydrate(found, WorkItemState.claimed.value, agent_id) if found else None

    async def release(self, item_id: str, agent_id: str) -> bool:
        """Give back the agent's claim so the item is claimable again; False if the agent did not hold it."""
        return bool(await self._item_script(self._release, item_id, agent_id))

    async def resolve(self, item_id: str, agent_id: str, at: datetime | None = None) -> bool:
        """Mark resolved `at` (default: now), drop from the queues; refuses others' claims.

        The resolution time is kept with the item (`resolved_at`): the retention job deletes the item that long
        after it; the item also expires by itself after the backstop TTL.
        """
        when = (at or datetime.now(timezone.utc)).timestamp()
        return bool(await self._item_script(self._resolve, item_id, agent_id, self._ttl, f"{when:.6f}"))

    async def wait_customer(self, item_id: str) -> bool:
        """The item waits for the customer: listed as `waiting_customer`, not claimable; False if not open."""
        return bool(await self._item_script(self._wait_customer, item_id))

    async def end_wait(self, item_id: str) -> bool:
        """The customer wrote again: the item goes back to the state it had; False if it was not waiting."""
        return bool(await self._item_script(self._end_wait, item_id))

    async def _item_script(self, script, item_id: str, *args: object):
        """Run one of the single-item scripts (KEYS: the item and its index keys), reading where it is first."""
        for _ in range(_ATTEMPTS):
            tenant, queue = (await self._stored([item_id]))[item_id]
            found = await script(keys=[self.item_key(item_id), *self._index_keys(tenant, queue)],
                                 args=[item_id, tenant, queue, *args])
            if not _moved(found):
                return found
        raise RuntimeError(f"work item {item_id} kept moving while being changed")

    async def get(self, item_id: str) -> WorkItem | None:
        found = await self.get_many_versioned([item_id])
        return found[item_id][0] if found else None

    async def get_many(self, item_ids: Sequence[str]) -> dict[str, WorkItem]:
        """The stored items among `item_ids`, in one round trip; unknown ids are left out."""
        return {i: item for i, (item, _) in (await self.get_many_versioned(item_ids)).items()}

    async def get_many_versioned(self, item_ids: Sequence[str]) -> dict[str, tuple[WorkItem, int]]:
        """The stored items with their revisions (for `replace_many`); unknown ids are left out."""
        pipe = self._redis.pipeline(transaction=False)
        for item_id in item_ids:
            pipe.hmget(self.item_key(item_id), "json", "state", "assignee", "rev")
        rows = await pipe.execute()
        return {i: (_hydrate(*row[:3]), int(row[3] or 0)) for i, row in zip(item_ids, rows) if row[0]}

    async def list_open(self, tenant: str | None = None, queue: str | None = None,
                        limit: int | None = None) -> list[WorkItem]:
        """Unresolved items (open, claimed, waiting, escalated), SLA due first, across the selected queues.

        All of them unless `limit` is given; `count_open` says how many there are in all.
        """
        if limit is not None and limit <= 0:
            return []
        stop = -1 if limit is None else limit - 1
        pipe = self._redis.pipeline(transaction=False)
        for key in await self._sources(tenant, queue):
            pipe.zrange(key, 0, stop, withscores=True)
        ranked = await pipe.execute()
        heads = heapq.merge(*([(score, _text(member)) for member, score in rows] for rows in ranked))
        ids = [item_id for _, item_id in islice(heads, limit)]
        items: list[WorkItem] = []
        for start in range(0, len(ids), _READ_CHUNK):
            pipe = self._redis.pipeline(transaction=False)
            for item_id in ids[start:start + _READ_CHUNK]:
                pipe.hmget(self.item_key(item_id), "json", "state", "assignee")
            items += [_hydrate(*row) for row in await pipe.execute()
                      if row[0] and _text(row[1]) != WorkItemState.resolved.value]
        return items

    async def count_open(self, tenant: str | None = None, queue: str | None = None) -> int:
        """How many unresolved items `list_open` would list without a limit."""
        pipe = self._redis.pipeline(transaction=False)
        for key in await self._sources(tenant, queue):
            pipe.zcard(key)
        return sum(await pipe.execute())

    async def _sources(self, tenant: str | None, queue: str | None) -> list[str]:
        """The sorted sets indexing the selected items: per queue, or per tenant (all of its queues)."""
        tenants = [tenant] if tenant is not None else sorted(await self._tenants())
        return [self.tenant_key(t) if queue is None else self.queue_key(t, queue) for t in tenants]

    async def queue_depths(self, tenant: str | None = None) -> dict[tuple[str, str], int]:
        """Unresolved items per (tenant, queue), including known queues that are empty now."""
        tenants = [tenant] if tenant is not None else sorted(await self._tenants())
        pipe = self._redis.pipeline(transaction=False)
        for t in tenants:
            pipe.smembers(self.queues_key(t))
        pairs = [(t, _text(q)) for t, queues in zip(tenants, await pipe.execute()) for q in sorted(queues)]
        pipe = self._redis.pipeline(transaction=False)
        for t, q in pairs:
            pipe.zcard(self.queue_key(t, q))
        return dict(zip(pairs, await pipe.execute()))

    async def _tenants(self) -> set[str]:
        return {_text(t) for t in await self._redis.smembers(self.tenants_key)}


def _moved(answer: object) -> bool:
    """A script's answer that the item (or the head of the queue) changed since the caller read it."""
    return answer in (b"MOVED", "MOVED")


def _hydrate(json: bytes | str, state: bytes | str | None, assignee: bytes | str | None) -> WorkItem:
    """The stored item with the agent-side fields Redis holds authoritatively."""
    item = WorkItem.model_validate_json(json)
    return item.model_copy(update={"state": WorkItemState(_text(state) or item.state.value),
                                   "assignee": _text(assignee) or None})
