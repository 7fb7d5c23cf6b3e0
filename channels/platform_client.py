"""The one HTTP client for platforms' send APIs: retries with backoff and jitter, honouring Retry-After."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from contracts.adapters import HttpReplySender, Sent
from contracts.outbound import OutboundMessage, SendResult


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        """The wait before the next attempt: the platform's Retry-After if given, else capped jittered backoff."""
        if retry_after_s is not None:
            return min(retry_after_s, self.max_delay_s)
        return random.uniform(0.5, 1.0) * min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))


class PlatformClient:
    """The transport of HTTP senders: base URLs by transport name ("graph", "tiktok").

    Tests give it base URLs of a local fake; production the platforms' own (settings
    OMNIROUTE_GRAPH_API_BASE and OMNIROUTE_TIKTOK_API_BASE).
    """

    def __init__(self, session: aiohttp.ClientSession, base_urls: dict[str, str], *,
                 retry: RetryPolicy = RetryPolicy(), timeout_s: float = 15.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.session, self.base_urls, self.retry, self.sleep = session, base_urls, retry, sleep
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, sender: HttpReplySender, message: OutboundMessage, token: str) -> Sent:
        request = sender.request(message, token, self.base_urls[sender.transport].rstrip("/"))
        result = SendResult(ok=False, retry=True, error_code="unreachable", error="no attempt made")
        for attempt in range(1, self.retry.attempts + 1):
            result = await self._once(sender, request)
            if result.ok or not result.retry or attempt == self.retry.attempts:
                return Sent(result, attempt)
            await self.sleep(self.retry.delay(attempt, result.retry_after_s))
        return Sent(result, self.retry.attempts)

    async def _once(self, sender: HttpReplySender, request) -> SendResult:
        try:
            async with self.session.request(request.method, request.url, json=request.json,
                                            headers=dict(request.headers), timeout=self.timeout) as answer:
                try:
                    body = await answer.json(content_type=None)
                except ValueError:
                    body = None
                return sender.read(answer.status, body, dict(answer.headers))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return SendResult(ok=False, retry=True, error_code="unreachable",
                              error=f"{type(exc).__name__}: {exc}"[:500])
