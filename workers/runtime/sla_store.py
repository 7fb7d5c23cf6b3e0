"""SLA clocks, the index of SLA deadlines and the event outbox in Redis (scripts and layout in sla_lua)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
from redis.asyncio import Redis

from channels.sinks.redis_keys import escape, items_tag
from contracts.decision import SlaTargets
from contracts.workitem import AgentActionKind, SlaClockKind, SlaEvent, SlaEventKind
from workers.runtime import sla_lua


DECISION_MEMORY_S = 30 * 24 * 3600  # longer than any item stays open; a re-published decision comes within minutes


def _epoch(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


def _when(epoch: str) -> datetime:
    return datetime.fromtimestamp(float(epoch), timezone.utc)


@dataclass(frozen=True)
class OutboxEntry:
    """An event claimed in Redis and not yet acknowledged by Kafka; `id` is the same on every attempt."""

    id: str
    seq: int
    event: SlaEvent
    cause: str  # "breach" or "agent": move the work item to event.escalate_to before publishing; "" otherwise

    @classmethod
    def from_json(cls, raw: bytes) -> OutboxEntry:
        data = orjson.loads(raw)
        event = SlaEvent(event_id=data["id"], kind=SlaEventKind(data["kind"]), work_item_id=data["item"],
                         tenant=data["tenant"], clock=SlaClockKind(data["clock"]), at=_when(data["at"]),
                         due_at=_when(data["due"]), escalate_to=data["escalate_to"] or None)
        return cls(id=data["id"], seq=int(data["seq"]), event=event, cause=data["cause"])


@dataclass(frozen=True)
class PausedClock:
    kind: str
    clock: str  # business | calendar
    paused_at: datetime
    due: datetime  # as it was when paused
    warn: datetime | None  # None when already warned or without a warning


def clocks_of(sla: SlaTargets) -> list[tuple[SlaClockKind, str, datetime, datetime | None]]:
    """(kind, clock type, due, warn) for each deadline the targets set."""
    out = []
    if sla.first_response_due is not None:
        out.append((SlaClockKind.first_response, sla.clock, sla.first_response_due, sla.first_response_warn_at))
    if sla.resolution_due is not None:
        out.append((SlaClockKind.resolution, sla.resolution_clock or sla.clock, sla.resolution_due,
                    sla.resolution_warn_at))
    return out


class SlaStore:
    """Atomic clock transitions; each event is written to the outbox in the same step that decides it."""

    def __init__(self, redis: Redis, *, prefix: str = "omniroute") -> None:
        self._redis = redis
        self._prefix = prefix
        self._start = redis.register_script(sla_lua.START)
        self._resume = redis.register_script(sla_lua.RESUME)
        self._action = redis.register_script(sla_lua.ACTION)
        self._claim_due = redis.register_script(sla_lua.CLAIM_DUE)
        self._base = f"{prefix}:sla:{items_tag(prefix)}:"

    def item_key(self, item_id: str) -> str:
        return f"{self._base}item:{escape(item_id)}"

    @property
    def index_key(self) -> str:
        return f"{self._base}due"

    @property
    def outbox_key(self) -> str:
        return f"{self._base}outbox"

    def _keys(self, *item_ids: str) -> list[str]:
        """KEYS of a script: the index, outbox and sequence, then the items it works on."""
        return [self.index_key, self.outbox_key, f"{self._base}seq", *map(self.item_key, item_ids)]

    async def start(self, item_id: str, tenant: str, sla: SlaTargets | None, source: str = "",
                    offset: int = 0) -> int:
        """Start the clocks the item does not have yet; returns how many started (0 for a redelivery).

        Without targets only the item's record is made, so agents' escalations still go through the outbox.
        """
        escalate_to = sla.escalate_to if sla else None
        args: list[str] = [self._prefix, item_id, tenant, escalate_to or "", source, str(offset)]
        for kind, clock, due, warn in clocks_of(sla) if sla else []:
            args += [kind.value, clock, _epoch(due), _epoch(warn) if warn else ""]
        return int(await self._start(keys=self._keys(item_id), args=args))

    async def resume(self, item_id: str, now: datetime, source: str = "", offset: int = 0,
                     given: dict[str, tuple[datetime, datetime | None]] | None = None) -> int:
        """Run paused clocks again with the time they had left; returns how many resumed.

        `given`: clock kind -> (due, warn) computed by the caller (business time); other clocks get calendar time.
        """
        args = [self._prefix, item_id, source, str(offset), _epoch(now)]
        for kind, (due, warn) in (given or {}).items():
            args += [kind, _epoch(due), _epoch(warn) if warn else ""]
        return int(await self._resume(keys=self._keys(item_id), args=args))

    def _decision_key(self, message_id: str) -> str:
        return f"{self._prefix}:sla:decided:{escape(message_id)}"

    async def decision_applied(self, message_id: str) -> bool:
        """True when a decision about this inbound message was applied already (decisions are re-published on
        every route-worker rebalance, at new offsets that the per-source offsets cannot recognise)."""
        return bool(await self._redis.exists(self._decision_key(message_id)))

    async def mark_decision(self, message_id: str) -> None:
        await self._redis.set(self._decision_key(message_id), b"1", ex=DECISION_MEMORY_S)

    async def paused_clocks(self, item_id: str) -> list[PausedClock]:
        """The item's paused clocks as they were when paused."""
        fields = await self.clock_fields(item_id)
        out = []
        for kind in SlaClockKind:
            k = kind.value
            if fields.get(f"{k}:state") != "paused":
                continue
            warn = fields.get(f"{k}:warn")
            out.append(PausedClock(kind=k, clock=fields.get(f"{k}:clock", "calendar"),
                                   paused_at=_when(fields[f"{k}:paused_at"]), due=_when(fields[f"{k}:due"]),
                                   warn=_when(warn) if warn and fields.get(f"{k}:warned") != "1" else None))
        return out

    async def act(self, item_id: str, kind: AgentActionKind, now: datetime, *, source: str = "", offset: int = 0,
                  event_id: str = "", escalate_to: str | None = None, pause: bool = False) -> int:
        """Apply reply / resolve / wait_customer / escalate / request_info (`pause`: it pauses the clocks too) to
        the clocks; returns events put in the outbox."""
        args = [self._prefix, item_id, source, str(offset), _epoch(now), kind.value, event_id, escalate_to or "",
                "1" if pause else ""]
        return int(await self._action(keys=self._keys(item_id), args=args))

    async def has_clocks(self, item_id: str) -> bool:
        return bool(await self._redis.exists(self.item_key(item_id)))

    async def claim_due(self, now: datetime, limit: int = 500) -> int:
        """Move deadlines due by `now` from the index into the outbox; returns how many were taken."""
        taken = [m.decode() for m in await self._redis.zrangebyscore(self.index_key, "-inf", _epoch(now), 0, limit)]
        if not taken:
            return 0
        ids = [m.split("|", 2)[2] for m in taken]
        return int(await self._claim_due(keys=self._keys(*ids), args=[self._prefix, _epoch(now), *taken]))

    async def outbox(self) -> list[OutboxEntry]:
        """Events not yet acknowledged, in the order they were decided."""
        raw = await self._redis.hvals(self.outbox_key)
        return sorted((OutboxEntry.from_json(r) for r in raw), key=lambda e: e.seq)

    async def mark_published(self, ids: list[str]) -> None:
        if ids:
            await self._redis.hdel(self.outbox_key, *ids)

    async def clock_fields(self, item_id: str) -> dict[str, str]:
        """The raw clock hash of one item (for views and tests)."""
        raw = await self._redis.hgetall(self.item_key(item_id))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def next_deadlines(self, limit: int = 20) -> list[tuple[str, str, str, datetime]]:
        """(item id, clock, warning|breach, when) for the soonest entries of the index."""
        rows = await self._redis.zrange(self.index_key, 0, limit - 1, withscores=True)
        out = []
        for member, score in rows:
            clock, event, item_id = member.decode().split("|", 2)
            out.append((item_id, clock, event, datetime.fromtimestamp(score, timezone.utc)))
        return out
