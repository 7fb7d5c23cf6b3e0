"""The one HTTP client of the sinks: a request with retries (backoff and jitter, Retry-After), as a value."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp

from channels.platform_client import RetryPolicy

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SinkRequest:
    """One HTTP call, built by a sink from an event (pure: no I/O in building it)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class SinkAttempt:
    """What the call came to after its retries: ok, or the last error and whether it was worth retrying."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    body: dict | list | None = field(default=None, compare=False)


Outcome = tuple[SinkAttempt, bool, float | None]  # one try: what it came to, worth retrying, Retry-After seconds


class SinkClient:
    """Sends SinkRequests through one aiohttp session; 408/425/429/5xx and network faults are retried."""

    def __init__(self, session: aiohttp.ClientSession, *, retry: RetryPolicy = RetryPolicy(),
                 timeout_s: float = 10.0, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.session, self.retry, self.sleep = session, retry, sleep
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, request: SinkRequest) -> SinkAttempt:
        return await self.attempt(lambda n: self._once(request, n))

    async def attempt(self, once: Callable[[int], Awaitable[Outcome]]) -> SinkAttempt:
        """Any sink call (an SDK's too) under the same retry budget: `once(n)` says how try n went and whether
        another try is worth it (and after how long the far end asked for, if it did)."""
        attempt = SinkAttempt(ok=False, attempts=0, error="no attempt made")
        for n in range(1, self.retry.attempts + 1):
            attempt, retry, asked = await once(n)
            if attempt.ok or not retry or n == self.retry.attempts:
                return attempt
            await self.sleep(self.retry.delay(n, asked))
        return attempt

    async def _once(self, request: SinkRequest, n: int) -> Outcome:
        try:
            async with self.session.request(request.method, request.url, data=request.body,
                                            headers=dict(request.headers), timeout=self.timeout) as answer:
                raw = await answer.read()
                try:
                    body = await answer.json(content_type=None) if raw else None
                except ValueError:
                    body = None
                if 200 <= answer.status < 300:
                    return SinkAttempt(ok=True, attempts=n, status=answer.status, body=body), False, None
                error = f"HTTP {answer.status}: {raw[:200].decode(errors='replace')}"
                return (SinkAttempt(ok=False, attempts=n, status=answer.status, error=error, body=body),
                        answer.status in RETRY_STATUSES, retry_after(answer.headers.get("Retry-After")))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return SinkAttempt(ok=False, attempts=n, error=f"{type(exc).__name__}: {exc}"[:300]), True, None


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (an HTTP date is ignored: the backoff decides)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
