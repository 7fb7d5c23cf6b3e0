"""Mail loops stop here: automatic mail is capped per recipient, and never goes to robots or to ourselves."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from channels.sinks.redis_queue_lua import escape

AUTO_MAIL_LIMIT = 5  # automatic mails to one recipient ...
AUTO_MAIL_WINDOW = timedelta(hours=24)  # ... within this window; a loop with an auto-responder ends at the limit
_ROBOT_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply",
                               "bounce", "bounces", "auto-reply", "autoreply"})


def robot_address(address: str) -> bool:
    """Addresses no automatic mail may go to (RFC 3834 §2: daemons, no-reply senders, bounce handlers)."""
    local = address.strip().lower().split("@", 1)[0].split("+", 1)[0]
    return local in _ROBOT_LOCALPARTS


class AutoMailCap:
    """Counts automatic mail per tenant and recipient in Redis; `allow` says whether one more may go."""

    def __init__(self, redis: Redis, *, prefix: str, limit: int = AUTO_MAIL_LIMIT,
                 window: timedelta = AUTO_MAIL_WINDOW) -> None:
        self.redis, self.prefix, self.limit, self.window = redis, prefix, limit, window

    async def allow(self, tenant: str, recipient: str) -> bool:
        key = f"{self.prefix}:email:automail:{escape(tenant)}:{escape(recipient.strip().lower())}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, nx=True, px=int(self.window.total_seconds() * 1000))  # the window starts at the first
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count) <= self.limit
