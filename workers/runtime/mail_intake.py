"""Mail from a mailbox -> normalized -> edge dedupe and flood limit -> Kafka keyed by customer, or dead letters."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from channels.email.attachments import Keep
from channels.email.normalize import normalize_email
from channels.email.poller import FetchedMail
from contracts.inbound import InboundMessage
from contracts.topics import DEAD_LETTER
from routing.policy import TenantPolicy
from workers.runtime.csat_answers import CsatAnswers
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.delivery_index import DeliveryIndex
from workers.runtime.edge_guard import Admission, EdgeGuard
from workers.runtime.mail_threads import thread_answers
from workers.runtime.publisher import BrokerUnavailable, publish_within
from workers.runtime.webhook_gates import edge_limit

log = logging.getLogger("omniroute.email.intake")
KEEP = timedelta(days=30)  # mail ids are remembered as long as a UIDVALIDITY resync reaches back
DEAD_LETTER_MAX_BYTES = 512 * 1024  # a dead-lettered mail's bytes are cut here (Kafka's default record limit is 1 MiB)


class MailDeferred(BrokerUnavailable):
    """A copy of this mail is still being published by another process (or one that died): take it again later."""


@dataclass
class IntakeCounts:
    published: int = 0
    duplicates: int = 0
    rate_limited: int = 0
    dead_lettered: int = 0
    attachments_kept: int = 0
    attachments_dropped: int = 0  # over the attachment size limit: metadata only, `dropped` says why


class MailIntake:
    """The poller's `deliver`: returns only when Kafka acknowledged every mail or its dead letter, else raises."""

    def __init__(self, producer: AIOKafkaProducer, policies: dict[str, TenantPolicy], guard: EdgeGuard | None,
                 customers: CustomerKeys | None, *, ack_timeout_s: float, keep: Keep | None = None,
                 index: DeliveryIndex | None = None, answers: CsatAnswers | None = None) -> None:
        """`keep` stores attachments' bytes in the content store (`AttachmentKeeper`); None: metadata only.
        `index` (our sends) threads an answer whose only reference is our Message-ID onto its conversation.
        `answers` turns a lone 1-5 digit answering a pending CSAT survey into a rating."""
        self.producer, self.policies, self.guard, self.customers = producer, policies, guard, customers
        self.ack_timeout_s, self.keep, self.index, self.answers = ack_timeout_s, keep, index, answers
        self.counts = IntakeCounts()

    async def __call__(self, tenant: str, source: str, mails: Sequence[FetchedMail]) -> None:
        # parsing and writing attachments (tens of MB) run in a thread: the event loop goes on meanwhile
        messages, dead = await asyncio.to_thread(self._normalize, tenant, source, mails)
        if self.index is not None:
            messages = await thread_answers(self.index, messages)
        new = await self._admit(tenant, messages)
        try:
            await publish_within(self.producer, new, self.customers, self.ack_timeout_s, answers=self.answers)
            await self._dead_letters(tenant, source, dead)
        except BrokerUnavailable:
            if self.guard is not None:
                await self.guard.release(new)  # the poller takes the same mail again
            raise
        if self.guard is not None:
            await self.guard.confirm(new, KEEP)
        self.counts.published += len(new)
        self.counts.dead_lettered += len(dead)
        if dead:
            log.warning("email %s: %d mail(s) of %s dead-lettered (unreadable or too large)", tenant, len(dead), source)
        kept = [a for m in new for a in m.attachments]
        self.counts.attachments_kept += sum(a.sha256 is not None for a in kept)
        for attachment in (a for a in kept if a.dropped):
            self.counts.attachments_dropped += 1
            log.warning("email %s: attachment %s of a mail from %s: %s", tenant, attachment.filename, source,
                        attachment.dropped)

    def _normalize(self, tenant: str, source: str,
                   mails: Sequence[FetchedMail]) -> tuple[list[InboundMessage], list[bytes]]:
        """The mails as messages (attachments kept by `keep`), and dead letters for those that cannot be read."""
        messages: list[InboundMessage] = []
        dead: list[bytes] = []
        for mail in mails:
            if mail.raw is None:
                dead.append(_dead_letter(tenant, source, mail, mail.problem or "not downloaded", "MailTooLarge"))
                continue
            try:
                messages.append(normalize_email(mail.raw, tenant=tenant, received_at=mail.internal_date,
                                                keep=self.keep))
            except Exception as exc:  # noqa: BLE001 - any mail the parser cannot read is dead-lettered; the poller goes on
                dead.append(_dead_letter(tenant, source, mail, str(exc), type(exc).__name__))
        return messages, dead

    async def _admit(self, tenant: str, messages: list[InboundMessage]) -> list[InboundMessage]:
        """The messages to publish: copies taken before are dropped, a sender over the edge flood limit too."""
        if self.guard is None or not messages:
            return messages
        policy = self.policies[tenant]
        admissions = await self.guard.admit(messages, window=policy.flood.window.as_timedelta(),
                                            limit=edge_limit(policy), keep=KEEP)
        new = [m for m, a in zip(messages, admissions) if a == Admission.new]
        if Admission.in_flight in admissions:
            await self.guard.release(new)
            raise MailDeferred("a copy of this mail is being published elsewhere (or its publisher died less than "
                               "2 minutes ago); taken again later")
        self.counts.duplicates += admissions.count(Admission.duplicate)
        self.counts.rate_limited += admissions.count(Admission.rate_limited)
        return new

    async def _dead_letters(self, tenant: str, source: str, records: list[bytes]) -> None:
        if not records:
            return
        key = f"{tenant}:{source}".encode()
        try:
            sends = [await self.producer.send(DEAD_LETTER.name, key=key, value=r) for r in records]
            await asyncio.wait_for(asyncio.gather(*sends), self.ack_timeout_s)
        except (TimeoutError, KafkaError) as exc:
            raise BrokerUnavailable(f"Kafka did not acknowledge dead letters within {self.ack_timeout_s:g} s "
                                    f"({type(exc).__name__})") from None


def _dead_letter(tenant: str, source: str, mail: FetchedMail, error: str, error_type: str) -> bytes:
    raw = mail.raw or b""
    return orjson.dumps({
        "error": error[:2000], "error_type": error_type,
        "source": {"tenant": tenant, "mailbox": source, "uid": mail.uid, "size": mail.size},
        "value_b64": base64.b64encode(raw[:DEAD_LETTER_MAX_BYTES]).decode(),
        "truncated": len(raw) > DEAD_LETTER_MAX_BYTES,
        "at": datetime.now(UTC).isoformat(),
    })
