"""The Slack sink: one message per work item in its queue's channel (slack-sdk's AsyncWebClient), edited in place.

The first event of an item posts (chat.postMessage) and keeps the message's channel and ts in Redis
(`slack_messages`); every later event - and a redelivered `work_item.created` - edits that message (chat.update),
so an item never gets two messages. An item escalated to a queue with another channel gets its old message marked
"moved" and a new one there. Calls go through the sinks' retry budget (`SinkClient.attempt`): HTTP 429/5xx,
Slack's transient errors and network faults are retried, honouring Retry-After; the rest fail at once (then the
deliver processor's breaker and dead letters take over).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from channels.sinks.http import RETRY_STATUSES, Outcome, SinkAttempt, SinkClient, retry_after
from channels.sinks.slack_messages import SlackMessage, SlackMessages
from channels.sinks.slack_payload import breach_of, message
from contracts.sinks import SinkEvent
from contracts.workitem import WorkItem

DEFAULT_API_BASE = "https://slack.com/api/"
# Slack's `ok: false` errors worth another try (https://docs.slack.dev/reference/methods/chat.postMessage#errors)
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
GONE = frozenset({"message_not_found", "channel_not_found", "is_archived", "cant_update_message"})


@dataclass(frozen=True)
class SlackSink:
    name: str
    tenant: str
    queues: frozenset[str] | None
    channels: Mapping[str, str]  # queue (or "*") -> Slack channel id
    token: str
    base_url: str = DEFAULT_API_BASE
    agents: Mapping[str, str] = field(default_factory=dict)  # Slack user id -> agent id (the interactivity side)
    signing_secret: str | None = None  # verifies the interactivity endpoint's requests; None: it answers 503
    signing_secret_env: str = ""
    messages: SlackMessages | None = None  # set by `bind` (the deliver processor's Redis)
    wait_s: float = 10.0  # how long to wait for another delivery posting the same item's first message
    kind: str = "slack"

    def bind(self, redis: aioredis.Redis, prefix: str) -> SlackSink:
        """This sink with its message records in `redis`."""
        return replace(self, messages=SlackMessages(redis, prefix=prefix))

    def channel_for(self, queue: str) -> str | None:
        return self.channels.get(queue) or self.channels.get("*")

    async def deliver(self, event: SinkEvent, client: SinkClient, now: datetime) -> SinkAttempt:
        if self.messages is None:
            return SinkAttempt(ok=False, attempts=0, error=f"Slack sink {self.tenant}/{self.name} has no Redis bound")
        item, store = event.item, self.messages
        web = AsyncWebClient(token=self.token, base_url=self.base_url, session=client.session, retry_handlers=[])
        calls = _Calls(web, client)
        found = await store.get(self.tenant, self.name, item.id)
        if found is None:
            reservation = await store.reserve(self.tenant, self.name, item.id)
            if reservation is None:
                found = await store.wait(self.tenant, self.name, item.id, self.wait_s)
                if found is None:
                    return SinkAttempt(ok=False, attempts=0, error=f"another delivery was posting {item.id}'s "
                                                                   f"Slack message and left no ts; try again")
            else:
                try:
                    found = await store.get(self.tenant, self.name, item.id)  # posted between get and reserve
                    if found is None:
                        return await self._post(calls, item, now, breach_of(event))
                finally:
                    await store.release(self.tenant, self.name, item.id, reservation)
        return await self._update(calls, item, now, found, breach_of(event) or found.breach)

    async def _post(self, calls: _Calls, item: WorkItem, now: datetime, breach: str | None) -> SinkAttempt:
        channel = self.channel_for(item.queue)
        if channel is None:
            return SinkAttempt(ok=False, attempts=0, error=f"no Slack channel for queue {item.queue!r} in sink "
                                                           f"{self.tenant}/{self.name}: add it (or \"*\") to channels")
        attempt = await calls.run("chat.postMessage", lambda web: web.chat_postMessage(
            channel=channel, **message(item, now, breach=breach), unfurl_links=False, unfurl_media=False))
        if attempt.ok and isinstance(attempt.body, dict):
            assert self.messages is not None
            await self.messages.put(self.tenant, self.name, item.id, SlackMessage(
                attempt.body.get("channel") or channel, str(attempt.body["ts"]), breach))
        return attempt

    async def _update(self, calls: _Calls, item: WorkItem, now: datetime, found: SlackMessage,
                      breach: str | None) -> SinkAttempt:
        target = self.channel_for(item.queue)
        moved = target is not None and target != found.channel
        attempt = await calls.run("chat.update", lambda web: web.chat_update(
            channel=found.channel, ts=found.ts, **message(item, now, breach=breach,
                                                         moved_to=item.queue if moved else None)))
        if moved or (not attempt.ok and _error_of(attempt) in GONE):
            return await self._post(calls, item, now, breach)  # a new message where the item is worked now
        if attempt.ok and breach != found.breach:
            assert self.messages is not None
            await self.messages.put(self.tenant, self.name, item.id, replace(found, breach=breach))
        return attempt


class _Calls:
    """Slack Web API calls under the sinks' retry budget, each one a SinkAttempt."""

    def __init__(self, web: AsyncWebClient, client: SinkClient) -> None:
        self.web, self.client = web, client

    async def run(self, method: str, call: Callable[[AsyncWebClient], Awaitable[AsyncSlackResponse]]) -> SinkAttempt:
        async def once(n: int) -> Outcome:
            try:
                response = await asyncio.wait_for(call(self.web), self.client.timeout.total)
                return SinkAttempt(ok=True, attempts=n, status=response.status_code, body=_data(response)), False, None
            except SlackApiError as exc:
                data, status = _data(exc.response), exc.response.status_code
                error = data.get("error") if isinstance(data, dict) else None
                text = f"Slack {method}: {error or f'HTTP {status}'}"
                return (SinkAttempt(ok=False, attempts=n, status=status, error=text, body=data),
                        status in RETRY_STATUSES or error in TRANSIENT,
                        retry_after(exc.response.headers.get("Retry-After")))
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                return SinkAttempt(ok=False, attempts=n, error=f"Slack {method}: {type(exc).__name__}: {exc}"[:300]), \
                    True, None
            except SlackClientError as exc:
                return SinkAttempt(ok=False, attempts=n, error=f"Slack {method}: {exc}"[:300]), False, None
        return await self.client.attempt(once)


def _data(response: AsyncSlackResponse) -> Any:
    return response.data if isinstance(response.data, dict) else None


def _error_of(attempt: SinkAttempt) -> str | None:
    return attempt.body.get("error") if isinstance(attempt.body, dict) else None
