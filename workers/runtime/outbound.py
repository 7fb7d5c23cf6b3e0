"""The outbound processor: an agent's reply (or request for information) and the policy's automatic answers ->
the customer's own channel -> delivery events.

A reply is planned against the channel's rules (customer-service window, text limit), each part is sent once
through the channel's sender and the one platform client, and every outcome becomes a DeliveryEvent. A part is
claimed in Redis before it is sent and marked with the platform's message id after: a redelivered action (the
processor is at-least-once) finds its parts sent and sends nothing. Only a crash between the platform's
acceptance and the mark can repeat a part, once the short claim has expired.

A transport may ask for copies on another channel once every part went out (chat: a mail to a visitor who is
not connected). Copies are sent the same way, with their own ids and delivery events, when the tenant has that
channel's credentials; without them they are skipped quietly (the original reached its channel).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis

from channels import registry
from channels.reply_plan import Refusal, plan_reply
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.adapters import ReplyTransport
from contracts.outbound import (
    DeliveryEvent,
    DeliveryStatus,
    OutboundKind,
    OutboundMessage,
    ReplyTarget,
)
from contracts.ports import Clock
from contracts.workitem import AgentAction, AgentActionKind, WorkItem
from workers.channel_secrets import ChannelSecrets
from workers.runtime.codec import encode
from workers.runtime.delivery_index import DeliveryIndex

log = logging.getLogger("omniroute.outbound")
SENT = (AgentActionKind.reply, AgentActionKind.request_info)  # an internal note is never sent
CLAIM = timedelta(seconds=60)
KEEP = timedelta(days=30)


class ReplyCopies(Protocol):
    """Copies of a reply on other channels, asked for by the transport that carried it (after all its parts)."""

    async def copies(self, text: str, parts: Sequence[OutboundMessage]) -> list[OutboundMessage]: ...


class OutboundProcessor:
    def __init__(self, redis: Redis, queue: RedisWorkQueue, transports: Mapping[str, ReplyTransport],
                 secrets: ChannelSecrets, clock: Clock, *, prefix: str,
                 copies: Mapping[str, ReplyCopies] | None = None) -> None:
        self.redis, self.queue, self.transports, self.secrets, self.clock = redis, queue, transports, secrets, clock
        self.prefix, self.copies = prefix, copies or {}
        self.index = DeliveryIndex(redis, prefix=prefix)

    async def handle(self, action: AgentAction) -> list[DeliveryEvent]:
        """Send a reply's or a request for information's text; other actions (notes above all) are not this
        processor's business (no events)."""
        if action.kind not in SENT or not (action.text or "").strip():
            return []
        item = await self.queue.get(action.work_item_id)
        if item is None:
            return [self._event(action.tenant, action.work_item_id, None, DeliveryStatus.failed, self.clock.now(),
                                code="no_target", error="unknown work item")]
        source = hashlib.sha256(encode(action)).hexdigest()[:32]
        return await self.send_text(item, action.text or "", kind=OutboundKind.agent_reply, source=source)

    async def send_text(self, item: WorkItem, text: str, *, kind: OutboundKind, source: str,
                        choices: Sequence[str] = ()) -> list[DeliveryEvent]:
        """Send `text` on the item's `reply_to` (the customer's latest message), once per `source`."""
        if item.reply_to is None:
            return [self._event(item.tenant, item.id, None, DeliveryStatus.failed, self.clock.now(), code="no_target",
                                error="the item has no customer message to reply to")]
        return await self.send(item.tenant, item.id, item.reply_to, text, source=source, kind=kind, choices=choices)

    def can_send(self, tenant: str, target: ReplyTarget) -> bool:
        """Whether the tenant has a sender and its credential for the target's channel (no I/O)."""
        adapter = registry.adapter_for(target.channel)
        return (adapter.sender is not None and adapter.sender.transport in self.transports
                and bool(self.secrets.for_tenant(adapter.name, tenant).get(adapter.sender.token_role)))

    async def send(self, tenant: str, work_item_id: str, target: ReplyTarget, text: str, *, source: str,
                   kind: OutboundKind, choices: Sequence[str] = ()) -> list[DeliveryEvent]:
        """Send `text` to `target` once per `source` (an action's hash, a decision's message id): parts already
        sent for it are not sent again; every outcome is a DeliveryEvent. `choices` are offered as buttons where
        the channel's sender has them."""
        now = self.clock.now()
        adapter = registry.adapter_for(target.channel)
        if adapter.sender is None or adapter.sender.transport not in self.transports:
            return [self._event(tenant, work_item_id, None, DeliveryStatus.failed, now, code="no_sender",
                                channel=target.channel,
                                error=f"replies on {target.channel.value} are not built yet; answer in the tenant's "
                                      "own tool for that channel")]
        token = self._token(adapter, tenant)
        if not token:
            variable = self.secrets.variable(adapter.name, tenant, adapter.sender.token_role)
            return [self._event(tenant, work_item_id, None, DeliveryStatus.failed, now, code="no_token",
                                channel=target.channel, error=f"cannot send on {target.channel.value}: set {variable}")]
        plan = plan_reply(text, target, tenant=tenant, work_item_id=work_item_id, source=source, kind=kind, now=now,
                          choices=choices)
        if isinstance(plan, Refusal):
            return [self._event(tenant, work_item_id, None, DeliveryStatus.failed, now, code=plan.code,
                                error=plan.reason, channel=target.channel)]
        events = await self._send_parts(plan, token)
        if all(e.status == DeliveryStatus.sent for e in events) and adapter.sender.transport in self.copies:
            for copy in await self.copies[adapter.sender.transport].copies(text, plan):
                events += await self._send_copy(tenant, work_item_id, copy)
        return events

    async def _send_copy(self, tenant: str, work_item_id: str, copy: OutboundMessage) -> list[DeliveryEvent]:
        adapter = registry.adapter_for(copy.target.channel)
        token = self._token(adapter, tenant) if adapter.sender is not None else None
        if not token or adapter.sender.transport not in self.transports:
            log.debug("copy %s of a reply on %s skipped: %s is not configured for %s", copy.id, work_item_id,
                      copy.target.channel.value, tenant)
            return []
        return await self._send_parts([copy], token)

    def _token(self, adapter, tenant: str) -> str | None:  # noqa: ANN001 - a ChannelAdapter with a sender
        return self.secrets.for_tenant(adapter.name, tenant).get(adapter.sender.token_role)

    async def _send_parts(self, parts: Sequence[OutboundMessage], token: str) -> list[DeliveryEvent]:
        events = []
        sender = registry.adapter_for(parts[0].target.channel).sender
        for part in parts:
            if not await self.redis.set(self._key(part.id), b"sending", nx=True, px=_ms(CLAIM)):
                continue  # sent already (or being sent by a redelivery in flight)
            sent = await self.transports[sender.transport].send(sender, part, token)
            status = DeliveryStatus.sent if sent.result.ok else DeliveryStatus.failed
            events.append(self._event(part.tenant, part.work_item_id, part, status, self.clock.now(),
                                      attempts=sent.attempts, provider_id=sent.result.provider_message_id,
                                      code=sent.result.error_code, error=sent.result.error))
            await self.redis.set(self._key(part.id), f"{status.value}:{sent.result.provider_message_id or ''}",
                                 px=_ms(KEEP))
            if sent.result.ok and sent.result.provider_message_id:
                await self.index.remember(part, sent.result.provider_message_id)
            if not sent.result.ok:
                log.warning("outbound %s (%s) for %s failed after %d attempt(s): %s %s", part.id, part.kind.value,
                            part.work_item_id or "-", sent.attempts, sent.result.error_code, sent.result.error)
                break  # later parts would read as a reply with its beginning missing
        return events

    def _key(self, outbound_id: str) -> str:
        return f"{self.prefix}:outbound:{outbound_id}"

    @staticmethod
    def _event(tenant: str, work_item_id: str, part: OutboundMessage | None, status: DeliveryStatus, at: datetime, *,
               channel=None, attempts: int = 0, provider_id: str | None = None, code: str | None = None,
               error: str | None = None) -> DeliveryEvent:
        return DeliveryEvent(outbound_id=part.id if part else None, tenant=tenant,
                             work_item_id=work_item_id or None, channel=part.target.channel if part else channel,
                             status=status, at=at, provider_message_id=provider_id, attempts=attempts,
                             error_code=None if status == DeliveryStatus.sent else code,
                             error=None if status == DeliveryStatus.sent else error)


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
