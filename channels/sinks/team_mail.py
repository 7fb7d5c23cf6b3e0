"""The team email sink: one mail per event to the queue's team mailbox, threaded per work item, over SMTP.

The item's `work_item.created` mail has the stable Message-ID `<omniroute.item.<item id>@<domain>>`; every later
event's mail has its own stable `<omniroute.<event id>@<domain>>` and `In-Reply-To`/`References` to the first, so a
mail client shows one thread per item and a redelivered event repeats its Message-ID (receivers dedupe on it). Sent
with the email channel's SMTP code (`channels/email/smtp.send_mail`) under the sinks' retry budget: 4xx answers and
lost connections are retried, 5xx fail at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from channels.email.classify import NOTIFICATION_HEADER
from channels.email.config import MailServerUrl
from channels.email.send import UnsendableMail, mail_address
from channels.email.smtp import send_mail
from channels.sinks.http import Outcome, SinkAttempt, SinkClient
from channels.sinks.redis_queue import sla_due
from contracts.sinks import SinkEvent, SinkEventType
from contracts.workitem import WorkItem

_TITLES = {SinkEventType.created: "New", SinkEventType.updated: "Updated", SinkEventType.resolved: "Resolved",
           SinkEventType.sla_warning: "SLA warning", SinkEventType.sla_breach: "SLA breached"}


def thread_id(item: WorkItem, domain: str) -> str:
    """The Message-ID (without <>) of an item's first mail, which every later mail of the item refers to."""
    return f"omniroute.item.{item.id}@{domain}"


def event_message_id(event: SinkEvent, domain: str) -> str:
    if event.type == SinkEventType.created:
        return thread_id(event.item, domain)
    return f"omniroute.{event.id}@{domain}"


def base_subject(item: WorkItem) -> str:
    """The subject every mail of an item shares (what it is, from whom, which item): mail clients thread on it too."""
    what = " ".join((item.subject or item.category or "uncategorised").split())[:120]
    return f"[{item.tenant}] {what} from {' '.join(item.customer.split())[:80]} ({item.id})"


def body(event: SinkEvent) -> str:
    item, due = event.item, sla_due(event.item)
    change = f" ({event.change})" if event.change else ""
    lines = [f"{_TITLES[event.type]}{change}: work item {item.id}",
             f"Queue: {item.queue} · category: {item.category or 'uncategorised'} · priority: {item.priority.value}",
             f"State: {item.state.value}" + (f" · assignee: {item.assignee}" if item.assignee else ""),
             f"Customer: {item.customer} on {item.channel.value}",
             f"SLA due: {due.isoformat(timespec='minutes') if due else 'no SLA'}"]
    if event.type in (SinkEventType.sla_warning, SinkEventType.sla_breach):
        clock_due = event.sla_due.isoformat(timespec="minutes") if event.sla_due else "?"
        lines.append(f"Clock: {event.sla_clock} due {clock_due}")
    if event.agent_id:
        lines.append(f"By: {event.agent_id}")
    text = (item.subject + "\n" if item.subject else "") + (item.text or "(no text)")
    trace = " → ".join(f"{s.rule}: {s.outcome}" for s in item.trace) or "none recorded"
    return "\n".join([*lines, "", text, "", f"Decision trace: {trace}", "", f"Event {event.id}"]) + "\n"


def compose_team_mail(event: SinkEvent, from_address: str, to_address: str, now: datetime) -> EmailMessage:
    """The mail for one event; raises UnsendableMail when an address is not one."""
    sender = mail_address(from_address, "sender", name="omniroute")
    mail = EmailMessage(policy=SMTP)
    mail["From"] = sender
    mail["To"] = mail_address(to_address, "team mailbox")
    subject = base_subject(event.item)
    mail["Subject"] = subject if event.type == SinkEventType.created else f"Re: {subject}"
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{event_message_id(event, sender.domain)}>"
    if event.type != SinkEventType.created:
        root = f"<{thread_id(event.item, sender.domain)}>"
        mail["In-Reply-To"] = root
        mail["References"] = root
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    mail["X-Auto-Response-Suppress"] = "All"
    mail[NOTIFICATION_HEADER] = event.id  # our own mail, should the team mailbox be one we poll
    mail.set_content(body(event))
    return mail


@dataclass(frozen=True)
class TeamMailSink:
    name: str
    tenant: str
    queues: frozenset[str] | None
    url: MailServerUrl
    mailboxes: Mapping[str, str]  # queue (or "*") -> address
    from_address: str
    kind: str = "email"

    def mailbox_for(self, queue: str) -> str | None:
        return self.mailboxes.get(queue) or self.mailboxes.get("*")

    async def deliver(self, event: SinkEvent, client: SinkClient, now: datetime) -> SinkAttempt:
        mailbox = self.mailbox_for(event.item.queue)
        if mailbox is None:
            return SinkAttempt(ok=False, attempts=0, error=f"no mailbox for queue {event.item.queue!r} in sink "
                                                           f"{self.tenant}/{self.name}: add it (or \"*\") to mailboxes")
        try:
            mail = compose_team_mail(event, self.from_address, mailbox, now)
        except UnsendableMail as exc:
            return SinkAttempt(ok=False, attempts=0, error=str(exc))

        async def once(n: int) -> Outcome:
            sent = await send_mail(self.url, mail, envelope_from=self.from_address, timeout_s=client.timeout.total)
            error = f"SMTP {self.url.where}: {sent.error}" if sent.error else None
            return SinkAttempt(ok=sent.ok, attempts=n, error=error), sent.retry, None
        return await client.attempt(once)
