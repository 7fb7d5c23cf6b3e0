"""CSAT state in Redis: one survey per item, the survey awaiting each customer's answer, and the ratings kept.

Keys (under the prefix):
  csat:survey:<item>                            claimed once per item (SET NX), so redeliveries send no second survey
  csat:pending:<tenant>:<channel>:<recipient>   the survey awaiting this customer's answer, until the answer window ends
  csat:{<tenant>}:times                         sorted set: item id scored by the time it was rated (one per item)
  csat:{<tenant>}:ratings                       hash: item id -> "<queue>\x1f<rating>"
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis

from contracts.channels import ChannelKind
from contracts.csat import CsatRating

log = logging.getLogger("omniroute.csat")
CSAT_DAYS = 7  # the period `omniroute queues` and GET /v1/{tenant}/queues average over
SURVEY_CLAIM = timedelta(days=30)  # longer than any redelivery; a reopened item resolved after it is surveyed again
_SEP = "\x1f"


@dataclass(frozen=True)
class PendingSurvey:
    """A survey sent and not answered yet: what a 1–5 answer from its recipient rates."""

    tenant: str
    work_item_id: str
    queue: str
    channel: ChannelKind
    recipient: str
    sent_at: datetime
    expires_at: datetime

    def encode(self) -> str:
        return json.dumps({"item": self.work_item_id, "queue": self.queue, "sent_at": self.sent_at.isoformat(),
                           "expires_at": self.expires_at.isoformat()})


@dataclass(frozen=True)
class QueueCsat:
    """A queue's ratings over a period: their average and how many there were."""

    tenant: str
    queue: str
    average: float
    count: int


class CsatStore:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    async def claim_survey(self, work_item_id: str) -> bool:
        """True the first time for an item (within SURVEY_CLAIM), False for every redelivery after."""
        return bool(await self.redis.set(f"{self.prefix}:csat:survey:{work_item_id}", b"1", nx=True,
                                         px=_ms(SURVEY_CLAIM)))

    async def expect_answer(self, survey: PendingSurvey) -> None:
        """Remember the survey until its answer window ends (a newer survey to the same customer replaces it)."""
        await self.redis.set(self.pending_key(survey.tenant, survey.channel, survey.recipient), survey.encode(),
                             px=_ms(survey.expires_at - survey.sent_at))

    async def take_pending(self, tenant: str, channel: ChannelKind, recipient: str) -> PendingSurvey | None:
        """The survey awaiting this customer's answer, removed (GETDEL: only one answer counts); None if none."""
        raw = await self.redis.getdel(self.pending_key(tenant, channel, recipient))
        if raw is None:
            return None
        data = json.loads(raw)
        return PendingSurvey(tenant=tenant, work_item_id=data["item"], queue=data["queue"], channel=channel,
                             recipient=recipient, sent_at=datetime.fromisoformat(data["sent_at"]),
                             expires_at=datetime.fromisoformat(data["expires_at"]))

    async def give_back(self, survey: PendingSurvey, now: datetime) -> None:
        """Put back a survey taken for an answer that could not be published, unless its window ended meanwhile."""
        if survey.expires_at > now:
            await self.redis.set(self.pending_key(survey.tenant, survey.channel, survey.recipient), survey.encode(),
                                 px=_ms(survey.expires_at - now), nx=True)

    async def record(self, rating: CsatRating) -> None:
        """Keep a rating under its tenant, one per item (a redelivered event rewrites the same entry)."""
        await self.redis.sadd(self._tenants(), rating.tenant)
        pipe = self.redis.pipeline(transaction=True)  # both keys carry the tenant's hash tag: one slot
        pipe.zadd(self._times(rating.tenant), {rating.work_item_id: rating.rated_at.timestamp()})
        pipe.hset(self._ratings(rating.tenant), rating.work_item_id, f"{rating.queue}{_SEP}{rating.rating}")
        await pipe.execute()

    async def by_queue(self, since: datetime, tenant: str | None = None) -> list[QueueCsat]:
        """Each (tenant, queue)'s average rating and count since `since`, sorted by tenant and queue."""
        if tenant is None:
            tenants = sorted(_text(t) for t in await self.redis.smembers(self._tenants()))
        else:
            tenants = [tenant]
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        for name in tenants:
            items = await self.redis.zrangebyscore(self._times(name), since.timestamp(), "+inf")
            if not items:
                continue
            for value in await self.redis.hmget(self._ratings(name), items):
                if value is not None:
                    queue, _, rating = _text(value).rpartition(_SEP)
                    found[(name, queue)].append(int(rating))
        return [QueueCsat(t, q, round(sum(r) / len(r), 2), len(r)) for (t, q), r in sorted(found.items())]

    def pending_key(self, tenant: str, channel: ChannelKind, recipient: str) -> str:
        return f"{self.prefix}:csat:pending:{tenant}:{channel.value}:{recipient}"

    def _times(self, tenant: str) -> str:
        return f"{self.prefix}:csat:{{{tenant}}}:times"

    def _ratings(self, tenant: str) -> str:
        return f"{self.prefix}:csat:{{{tenant}}}:ratings"

    def _tenants(self) -> str:
        return f"{self.prefix}:csat:tenants"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() * 1000))
