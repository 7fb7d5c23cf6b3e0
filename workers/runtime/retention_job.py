"""The retention job: delete the conversation data of items due under `routing.retention`, in SCAN batches.

Per due work item, in one atomic script that first checks the item is still resolved at the time it was planned
with: the item, its action history, its SLA clocks (and index entries), all under the items' hash tag (one Redis
Cluster slot). Then, once the script deleted the item, the links of its messages to chat sessions and the ended
sessions' transcripts (session, sequence, frames; other slots): a run interrupted in between leaves those to expire
with the session. The customer-key index entries of its customer and order references go afterwards, once the
whole scan shows no kept item of the tenant still uses them; they are noted in a pending set in the same script,
so an interrupted run leaves nothing behind: the next run finishes them. Running it again deletes nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import orjson
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.redis_keys import escape, items_tag
from channels.sinks.redis_scripts import run_scripts
from contracts.workitem import SlaClockKind, WorkItemState
from routing.policy import RetentionRule
from routing.retention import Due, StoredItem, plan, suspension_expired
from workers.runtime.action_history import history_key
from workers.runtime.chat_store import ChatStore
from workers.runtime.customer_keys import ident_key
from workers.runtime.sla_store import SlaStore

KINDS = ("work_items", "action_histories", "sla_clocks", "chat_links", "chat_transcripts", "customer_keys",
         "suspensions")

# KEYS: the item, the SLA index, the pending set, then the keys to delete (the item first). ARGV[1]: JSON
# {resolved_at, kinds (of the keys to delete, '' for none), members (of the index), idents}. Deletes only while
# the item is still resolved at `resolved_at` (what the plan saw); returns the kinds of the keys it deleted.
_DELETE = """
local spec = cjson.decode(ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'state', 'resolved_at')
if h[1] ~= 'resolved' or h[2] ~= spec.resolved_at then return {} end
local out = {}
for i = 4, #KEYS do
  local kind = spec.kinds[i - 3]
  if redis.call('DEL', KEYS[i]) == 1 and kind ~= '' then out[#out + 1] = kind end
end
for _, m in ipairs(spec.members) do redis.call('ZREM', KEYS[2], m) end
for _, ident in ipairs(spec.idents) do redis.call('SADD', KEYS[3], ident) end
return out
"""


@dataclass
class RetentionReport:
    """What a run saw and deleted (or, dry, would delete), per kind."""

    dry_run: bool
    scanned: int = 0
    kept_open: int = 0
    kept_not_due: int = 0
    due: int = 0
    deleted: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        kinds = ", ".join(f"{kind} {self.deleted.get(kind, 0)}" for kind in KINDS)
        return (f"retention: scanned {self.scanned} work items ({self.kept_open} open, {self.kept_not_due} not due, "
                f"{self.due} due); {verb}: {kinds}")


@dataclass(frozen=True, slots=True)
class _Read:
    item: StoredItem
    key: str
    resolved_at_raw: str
    message_ids: tuple[str, ...]
    references: tuple[str, ...]


class RetentionJob:
    """Plans with `routing.retention.plan` and deletes what is due; `suspend`/`lift` record non-payment suspensions."""

    def __init__(self, redis: Redis, *, prefix: str, rules: Mapping[str, RetentionRule], batch: int = 500) -> None:
        self.redis, self.prefix, self.rules, self.batch = redis, prefix, dict(rules), batch
        self.queue = RedisWorkQueue(redis, prefix=prefix)
        self.sla = SlaStore(redis, prefix=prefix)
        self.chat = ChatStore(redis, prefix=prefix)
        self.pending_key = f"{prefix}:retention:{items_tag(prefix)}:pending-idents"
        self._delete = redis.register_script(_DELETE)

    def suspensions_key(self, tenant: str) -> str:
        return f"{self.prefix}:retention:non-payment:{escape(tenant)}"

    async def suspend(self, tenant: str, customer: str, at: datetime) -> None:
        """Record that the customer's account was suspended for non-payment at `at` (the earliest one counts)."""
        await self.redis.hsetnx(self.suspensions_key(tenant), customer, f"{at.timestamp():.6f}")

    async def lift(self, tenant: str, customer: str) -> bool:
        """The customer paid and was reactivated: their data follows the closure schedule again."""
        return bool(await self.redis.hdel(self.suspensions_key(tenant), customer))

    async def suspensions(self, tenants: Iterable[str]) -> dict[tuple[str, str], datetime]:
        out: dict[tuple[str, str], datetime] = {}
        for tenant in tenants:
            for customer, epoch in (await self.redis.hgetall(self.suspensions_key(tenant))).items():
                out[(tenant, _text(customer))] = datetime.fromtimestamp(float(epoch), timezone.utc)
        return out

    async def run(self, now: datetime, *, tenant: str | None = None, dry_run: bool = False,
                  progress: Callable[[RetentionReport], None] | None = None) -> RetentionReport:
        """One pass over every stored work item (of `tenant`, else of every tenant with a rule)."""
        tenants = {tenant} if tenant is not None else set(self.rules)
        tenants &= set(self.rules)
        suspensions = await self.suspensions(sorted(tenants))
        report = RetentionReport(dry_run=dry_run)
        retained: set[tuple[str, str]] = set()  # (tenant, identity or ref:...) a kept item still uses
        would_go: set[str] = set()  # dry run: idents the deleted items would leave pending
        async for keys in self._scan(f"{self.queue.item_key('')}*"):
            reads = [r for r in await self._read(keys) if r.item.tenant in tenants]
            by_id = {r.item.id: r for r in reads}
            due, kept = plan((r.item for r in reads), self.rules, suspensions, now)
            report.scanned += len(reads)
            report.kept_open += sum(1 for i in kept if i.resolved_at is None)
            report.kept_not_due += sum(1 for i in kept if i.resolved_at is not None)
            report.due += len(due)
            for item in kept:
                retained |= {(item.tenant, ident) for ident in _idents(by_id[item.id])}
            if due:
                await self._delete_due([by_id[d.item.id] for d in due], due, report, would_go)
            if progress is not None:
                progress(report)
        await self._finish_idents(tenants, retained, report, would_go if dry_run else None)
        await self._finish_suspensions(suspensions, retained, now, report)
        return report

    async def _scan(self, match: str):
        """The matching keys in batches (scan_iter: a Cluster client walks every master)."""
        batch: list[str] = []
        async for key in self.redis.scan_iter(match=match, count=self.batch):
            batch.append(_text(key))
            if len(batch) >= self.batch:
                yield batch
                batch = []
        if batch:
            yield batch

    async def _read(self, keys: Sequence[str]) -> list[_Read]:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, "tenant", "state", "resolved_at", "json")
        out = []
        for key, (tenant, state, resolved_at, raw) in zip(keys, await pipe.execute()):
            if tenant is None or raw is None:
                continue  # deleted or expired since the scan saw it
            data = orjson.loads(raw)
            resolved = _text(state) == WorkItemState.resolved.value
            if resolved and resolved_at is None:
                continue  # resolved before resolution times were kept: it expires by itself (7-day TTL then)
            when = datetime.fromtimestamp(float(resolved_at), timezone.utc) if resolved else None
            out.append(_Read(item=StoredItem(id=data["id"], tenant=_text(tenant), customer=data["customer"],
                                             resolved_at=when),
                             key=key, resolved_at_raw=_text(resolved_at) if resolved else "",
                             message_ids=tuple(data.get("message_ids") or ()),
                             references=tuple(data.get("references") or ())))
        return out

    async def _delete_due(self, reads: list[_Read], due: list[Due], report: RetentionReport,
                          would_go: set[str]) -> None:
        sessions = await self._ended_sessions(reads)
        specs = [self._spec(r, sessions) for r in reads]
        if report.dry_run:
            pipe = self.redis.pipeline(transaction=False)
            for spec in specs:
                for _, key in spec["keys"] + spec["chat"]:
                    pipe.exists(key)
            found = iter(await pipe.execute())
            for spec in specs:
                report.deleted.update(kind for kind, _ in spec["keys"] + spec["chat"] if next(found) and kind)
                would_go.update(spec["idents"])
            return
        calls = []
        for spec in specs:
            keys = [spec["item"], self.sla.index_key, self.pending_key, *(key for _, key in spec["keys"])]
            body = {"resolved_at": spec["resolved_at"], "kinds": [kind for kind, _ in spec["keys"]],
                    "members": spec["members"], "idents": spec["idents"]}
            calls.append((self._delete, keys, [orjson.dumps(body).decode()]))
        chat: list[tuple[str, str]] = []
        for spec, kinds in zip(specs, await run_scripts(self.redis, calls)):
            kinds = [_text(k) for k in kinds]
            report.deleted.update(kinds)
            if "work_items" in kinds:  # the item went: its chat keys (other slots) go now
                chat += spec["chat"]
        pipe = self.redis.pipeline(transaction=False)
        for _, key in chat:
            pipe.delete(key)
        gone = await pipe.execute()
        report.deleted.update(kind for (kind, _), went in zip(chat, gone) if went and kind)

    async def _ended_sessions(self, reads: list[_Read]) -> dict[str, str]:
        """message id -> its chat session, for sessions that are no longer open (an open one expires by itself)."""
        mids = [m for r in reads for m in r.message_ids]
        if not mids:
            return {}
        pipe = self.redis.pipeline(transaction=False)  # one GET each: the links sit in different Cluster slots
        for m in mids:
            pipe.get(self.chat.key("message", m))
        linked = await pipe.execute()
        pairs = [(m, _text(s)) for m, s in zip(mids, linked) if s is not None]
        pipe = self.redis.pipeline(transaction=False)
        for _, session in pairs:
            pipe.hget(self.chat.key("session", session), "state")
        states = await pipe.execute() if pairs else []
        return {m: s for (m, s), state in zip(pairs, states) if _text(state) != "open"}

    def _spec(self, read: _Read, sessions: Mapping[str, str]) -> dict:
        item_id = read.item.id
        keys = [("work_items", read.key), ("action_histories", history_key(self.prefix, item_id)),
                ("sla_clocks", self.sla.item_key(item_id))]
        chat = []
        for m in read.message_ids:
            chat.append(("chat_links", self.chat.key("message", m)))
            if m in sessions:
                s = sessions[m]
                chat += [("chat_transcripts", self.chat.key("session", s)), ("", self.chat.key("seq", s)),
                         ("", self.chat.key("frames", s))]
        members = [f"{k.value}|{ev}|{item_id}" for k in SlaClockKind for ev in ("warning", "breach")]
        idents = [orjson.dumps([read.item.tenant, ident]).decode() for ident in _idents(read)]
        return {"item": read.key, "resolved_at": read.resolved_at_raw, "members": members, "keys": keys,
                "chat": chat, "idents": idents}

    async def _finish_idents(self, tenants: set[str], retained: set[tuple[str, str]], report: RetentionReport,
                             dry: set[str] | None) -> None:
        """Delete the pending index entries no kept item uses; forget the pending entries either way."""
        pending = dry if dry is not None else {_text(m) async for m in self.redis.sscan_iter(self.pending_key)}
        for chunk in _chunks(sorted(pending), self.batch):
            entries = [(member, *orjson.loads(member)) for member in chunk]
            entries = [(m, t, ident) for m, t, ident in entries if t in tenants]
            gone = [(m, t, ident) for m, t, ident in entries if (t, ident) not in retained]
            if dry is not None:
                pipe = self.redis.pipeline(transaction=False)
                for _, t, i in gone:
                    pipe.exists(ident_key(self.prefix, t, i))
                report.deleted["customer_keys"] += sum(await pipe.execute()) if gone else 0
                continue
            # not one transaction: the entries are in their tenants' slots; deleting again after a crash is harmless
            pipe = self.redis.pipeline(transaction=False)
            for _, t, ident in gone:
                pipe.delete(ident_key(self.prefix, t, ident))
            if entries:
                pipe.srem(self.pending_key, *[m for m, _, _ in entries])
            results = await pipe.execute()
            report.deleted["customer_keys"] += sum(results[:len(gone)])

    async def _finish_suspensions(self, suspensions: Mapping[tuple[str, str], datetime],
                                  retained: set[tuple[str, str]], now: datetime, report: RetentionReport) -> None:
        """A non-payment suspension whose period passed goes once none of the customer's data is kept."""
        for (tenant, customer), at in suspensions.items():
            if (tenant, customer) in retained or not suspension_expired(at, self.rules.get(tenant), now):
                continue
            if report.dry_run:
                report.deleted["suspensions"] += 1
            else:
                report.deleted["suspensions"] += await self.redis.hdel(self.suspensions_key(tenant), customer)


def _idents(read: _Read) -> list[str]:
    """The customer-key index entries an item's customer and references hold."""
    return [read.item.customer, *(f"ref:{r}" for r in read.references)]


def _chunks(values: list[str], size: int):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
