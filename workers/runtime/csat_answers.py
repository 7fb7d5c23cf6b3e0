"""The edge's catch of CSAT answers: a customer's lone 1–5 digit answering a pending survey becomes a CsatRating.

Only a customer message whose whole text is one digit from 1 to 5 costs a Redis call (one GETDEL of the survey
pending for its tenant, channel and sender); anything else, or a digit nobody asked for, is an ordinary message.
A quick-reply or button whose title is the digit arrives as that text, so it is caught the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.exceptions import RedisError

from contracts.csat import RATINGS, CsatRating
from contracts.inbound import InboundMessage, MessageKind
from contracts.ports import Clock
from workers.runtime.csat_store import CsatStore, PendingSurvey

log = logging.getLogger("omniroute.csat")
_DIGITS = {str(r) for r in RATINGS}


def rating_in(message: InboundMessage) -> int | None:
    """The 1–5 rating a message could be (its whole text is that digit), else None; no I/O."""
    if message.kind != MessageKind.customer_message or message.attachments:
        return None
    text = message.text.strip()
    return int(text) if len(text) == 1 and text in _DIGITS else None


class CsatAnswers:
    def __init__(self, store: CsatStore, clock: Clock) -> None:
        self.store, self.clock = store, clock

    async def catch(self, messages: Sequence[InboundMessage]) -> dict[int, tuple[CsatRating, PendingSurvey]]:
        """The ratings among `messages`, by position (their surveys taken: a second digit is a message again).

        Redis unavailable: no rating is caught and the digits go on as ordinary messages (logged).
        """
        caught: dict[int, tuple[CsatRating, PendingSurvey]] = {}
        for index, message in enumerate(messages):
            rating = rating_in(message)
            if rating is None:
                continue
            try:
                survey = await self.store.take_pending(message.tenant, message.channel, message.sender.platform_id)
            except (RedisError, OSError) as exc:
                log.warning("CSAT surveys unavailable (%s): a %d from %s goes on as a message", exc, rating,
                            message.channel.value)
                continue
            if survey is not None:
                caught[index] = (CsatRating(tenant=message.tenant, work_item_id=survey.work_item_id,
                                            queue=survey.queue, channel=message.channel,
                                            customer=message.sender.platform_id, rating=rating,
                                            message_id=message.id, surveyed_at=survey.sent_at,
                                            rated_at=message.received_at), survey)
        return caught

    async def give_back(self, caught: dict[int, tuple[CsatRating, PendingSurvey]]) -> None:
        """Surveys taken for answers Kafka did not acknowledge: pending again, so the platform's retry counts."""
        now = self.clock.now()
        for _, survey in caught.values():
            try:
                await self.store.give_back(survey, now)
            except (RedisError, OSError) as exc:
                log.warning("CSAT survey for %s not put back (%s): the retried answer will be a message",
                            survey.work_item_id, exc)
