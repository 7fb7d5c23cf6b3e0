"""The "smtp" reply transport: one mail per OutboundMessage through the tenant's `<TENANT>_SMTP_URL` (aiosmtplib)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from email.message import EmailMessage

import aiosmtplib

from channels.email.config import SECRETS, MailServerUrl, parse_smtp_url
from channels.email.loops import AutoMailCap, robot_address
from channels.email.send import UnsendableMail, compose, read_smtp_error, refused_recipients
from channels.platform_client import RetryPolicy
from contracts.adapters import ReplySender, Sent
from contracts.errors import ConfigError
from contracts.outbound import OutboundKind, OutboundMessage, SendResult


class SmtpTransport:
    """Sends as the tenant's official address (`from_addresses`), retrying 4xx answers and lost connections.

    Automatic mail (policy messages) goes with a null envelope sender (RFC 3834 §3.3), never to robot addresses,
    and at most `cap.limit` times per recipient per window: a loop with an auto-responder stops by itself.
    """

    def __init__(self, from_addresses: Mapping[str, str], *, cap: AutoMailCap | None = None,
                 retry: RetryPolicy = RetryPolicy(), timeout_s: float = 30.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.from_addresses, self.cap, self.retry, self.timeout_s, self.sleep = (
            from_addresses, cap, retry, timeout_s, sleep)

    async def send(self, sender: ReplySender, message: OutboundMessage, token: str) -> Sent:
        variable = next(s for s in SECRETS if s.role == sender.token_role).variable_for(message.tenant)
        try:
            url = parse_smtp_url(token, variable)
            from_address = self.from_addresses.get(message.tenant) or url.user or ""
            mail = compose(message, from_address)
        except (ConfigError, UnsendableMail) as exc:
            return Sent(SendResult(ok=False, error_code="unsendable", error=str(exc)), 0)
        automatic = message.kind == OutboundKind.policy_message
        refusal = await self._loop_guard(message, from_address, automatic)
        if refusal is not None:
            return Sent(refusal, 0)
        result = SendResult(ok=False, retry=True, error_code="unreachable", error="no attempt made")
        for attempt in range(1, self.retry.attempts + 1):
            result = await self._once(url, mail, envelope_from="" if automatic else from_address)
            if result.ok or not result.retry or attempt == self.retry.attempts:
                return Sent(result, attempt)
            await self.sleep(self.retry.delay(attempt, None))
        return Sent(result, self.retry.attempts)

    async def _loop_guard(self, message: OutboundMessage, from_address: str, automatic: bool) -> SendResult | None:
        recipient = message.target.recipient.strip().lower()
        if recipient == from_address.strip().lower() or recipient in {a.lower() for a in self.from_addresses.values()}:
            return SendResult(ok=False, error_code="own_address", error=f"{recipient} is our own mailbox: not "
                              "answered (a mail loop)")
        if not automatic:
            return None
        if robot_address(recipient):
            return SendResult(ok=False, error_code="robot_recipient",
                              error=f"{recipient} is an automatic sender: no automatic mail goes to it")
        if self.cap is not None and not await self.cap.allow(message.tenant, recipient):
            return SendResult(ok=False, error_code="auto_mail_capped",
                              error=f"{recipient} had {self.cap.limit} automatic mails within "
                                    f"{self.cap.window.total_seconds() / 3600:g} h: no more (a loop with an "
                                    "auto-responder stops here)")
        return None

    async def _once(self, url, mail, *, envelope_from: str) -> SendResult:
        return await send_mail(url, mail, envelope_from=envelope_from, timeout_s=self.timeout_s)


async def send_mail(url: MailServerUrl, mail: EmailMessage, *, envelope_from: str, timeout_s: float) -> SendResult:
    """One SMTP submission of `mail` to its To address through `url`; failures as values (4xx: retry)."""
    try:
        errors, _ = await aiosmtplib.send(
            mail, sender=envelope_from, recipients=[mail["To"].addresses[0].addr_spec], hostname=url.host,
            port=url.port, username=url.user if url.password is not None else None, password=url.password,
            use_tls=url.tls, start_tls=url.starttls, timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - read_smtp_error re-raises what is not an SMTP or network fault
        return read_smtp_error(exc)
    return refused_recipients(errors) or SendResult(ok=True, provider_message_id=mail["Message-ID"].strip("<>"))
