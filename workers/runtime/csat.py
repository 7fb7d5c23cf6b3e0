"""The `csat` processor: a resolution -> the policy's survey on the customer's channel; a rating -> kept per queue.

Where the tenant's policy sets `csat_after_resolution`, a `resolve` action claims the item's survey in Redis
(one per item, whatever is redelivered), sends the policy's `csat_survey` text on the item's `reply_to` through
the outbound processor (a `policy_message`, with its own per-part claims) and, once it went out, leaves a pending
survey for the customer's answer (the edge turns a lone 1–5 digit into a CsatRating on support.csat.v1: see
`csat_answers`). Ratings read back from support.csat.v1 are kept per tenant, one per item, for `omniroute queues`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

import faust
from pydantic import ValidationError

from contracts.csat import RATINGS, CsatRating
from contracts.decision import DecisionFlag
from contracts.outbound import DeliveryEvent, DeliveryStatus, OutboundKind
from contracts.ports import Clock
from contracts.topics import AGENT_ACTIONS, CSAT, DELIVERY
from contracts.workitem import AgentAction, AgentActionKind, WorkItem
from routing.policy import TenantPolicy
from workers.processors import emit_deliveries
from workers.runtime.csat_store import CsatStore, PendingSurvey
from workers.runtime.outbound import OutboundProcessor
from workers.stack.faust_compat import raw_topic

log = logging.getLogger("omniroute.csat")
SOURCE = "csat-survey"  # the outbound source: the survey's outbound ids are the same on every redelivery
CHOICES = tuple(str(r) for r in RATINGS)  # buttons where the channel has them (Messenger, Instagram quick replies)


class CsatProcessor:
    def __init__(self, outbound: OutboundProcessor, store: CsatStore, policies: Mapping[str, TenantPolicy],
                 clock: Clock, *, answer_window: timedelta) -> None:
        self.outbound, self.store, self.policies, self.clock = outbound, store, policies, clock
        self.answer_window = answer_window

    async def on_action(self, raw: bytes) -> list[DeliveryEvent]:
        """The survey's delivery events for a resolution the policy asks a survey for; none for anything else."""
        action = AgentAction.model_validate_json(raw)
        policy = self.policies.get(action.tenant)
        if action.kind != AgentActionKind.resolve or policy is None or not policy.csat_after_resolution:
            return []
        item = await self.outbound.queue.get(action.work_item_id)
        if item is None or item.reply_to is None:
            why = "unknown work item" if item is None else "the item has no customer message to answer"
            log.warning("csat: no survey for %s: %s", action.work_item_id, why)
            return []
        if DecisionFlag.abusive.value in item.flags:  # a review of abuse or a threat is not a service to rate
            log.info("csat: no survey for %s: it holds an abusive message", item.id)
            return []
        if not await self.store.claim_survey(item.id):
            return []  # surveyed already: a redelivered or repeated resolution
        events = await self.outbound.send_text(item, policy.csat_survey, kind=OutboundKind.policy_message,
                                               source=SOURCE, choices=CHOICES)
        if events and all(e.status == DeliveryStatus.sent for e in events):
            await self.store.expect_answer(self._pending(item))
        return events

    async def on_rating(self, raw: bytes) -> None:
        """Keep a customer's rating (a redelivered one rewrites the same entry)."""
        rating = CsatRating.model_validate_json(raw)
        await self.store.record(rating)
        log.info("csat: %s rated %d in %s/%s", rating.work_item_id, rating.rating, rating.tenant, rating.queue)

    def _pending(self, item: WorkItem) -> PendingSurvey:
        now = self.clock.now()
        return PendingSurvey(tenant=item.tenant, work_item_id=item.id, queue=item.queue,
                             channel=item.reply_to.channel, recipient=item.reply_to.recipient, sent_at=now,
                             expires_at=now + self.answer_window)


def register_csat(app: faust.App, processor: CsatProcessor,
                  on_event: Callable[[DeliveryEvent], None] | None = None) -> None:
    """`csat`: resolutions -> surveys (delivery events on support.delivery.v1); ratings on support.csat.v1 -> Redis."""
    inputs, delivery = raw_topic(app, AGENT_ACTIONS.name, CSAT.name), raw_topic(app, DELIVERY.name)

    @app.agent(inputs, name="csat")
    async def csat(stream) -> None:  # noqa: ANN001 - a faust stream
        async for event in stream.events():
            topic = event.message.topic
            try:
                if topic == CSAT.name:
                    await processor.on_rating(event.value)
                else:
                    await emit_deliveries(delivery, await processor.on_action(event.value), on_event)
            except ValidationError as exc:
                log.warning("csat: a record on %s that is not its contract skipped: %s", topic, exc)
