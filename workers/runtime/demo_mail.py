"""`omniroute dev --demo`'s mail: a local IMAP server and SMTP catcher for the tenants without a mailbox of their own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

from imapclient import IMAPClient

from channels.email.config import SECRETS
from contracts.channels import EndpointKind
from contracts.errors import OmnirouteError
from routing.policy import TenantPolicy
from workers.stack.mail_servers import LOOPBACK, ImapServer, Received, SmtpCatcher, missing_packages

_IMAP, _SMTP = (next(s for s in SECRETS if s.role == role) for role in ("imap_url", "smtp_url"))
START_TIMEOUT_S = 15.0


class LocalMailError(OmnirouteError):
    """The local IMAP server did not come up; the message says why and where its log is."""


@dataclass
class DemoMail:
    """The running servers; `env` holds the variables set for this stack only (the operator's own win)."""

    imap: ImapServer
    catcher: SmtpCatcher
    tenants: list[str]  # each has a folder of its own name on the IMAP server
    env: dict[str, str] = field(default_factory=dict)
    mta: IMAPClient | None = None  # one kept connection for the folders and the APPENDs, as an MTA delivers

    def takes(self, tenant: str) -> bool:
        """Whether the tenant's demo mail goes through the local IMAP server."""
        return tenant in self.tenants

    def source(self, tenant: str) -> str:
        return f"imap://{LOOPBACK}:{self.imap.port}/{tenant}"

    async def ready(self) -> None:
        """Wait until pymap listens, then create the tenants' folders; LocalMailError when it does not come up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        try:
            while not await asyncio.to_thread(self.imap.ready):
                if loop.time() > deadline:
                    raise LocalMailError(f"pymap did not listen on {LOOPBACK}:{self.imap.port} within "
                                         f"{START_TIMEOUT_S:g} s; log {self.imap.log_path}")
                await asyncio.sleep(0.05)
            self.mta = await asyncio.to_thread(self.imap.client)
            for tenant in self.tenants:
                await asyncio.to_thread(self.imap.create_folder, tenant, client=self.mta)
        except (RuntimeError, OSError) as exc:  # pymap exited, or refused the folder
            raise LocalMailError(f"the local IMAP server failed: {exc}") from None

    async def append(self, tenant: str, raw: bytes, when: datetime) -> int:
        """APPEND one mail to the tenant's folder, as the tenant's mail server would deliver it; its UID."""
        return await asyncio.to_thread(self.imap.append, tenant, raw, when=when, client=self.mta)

    def close(self) -> None:
        if self.mta is not None:
            try:
                self.mta.logout()
            except Exception:  # noqa: BLE001 - pymap may be gone already; closing is best effort
                pass


def mailbox_tenants(policies: Mapping[str, TenantPolicy], environ: Mapping[str, str]) -> list[str]:
    """Tenants with an official mailbox in their policy and no `<TENANT>_IMAP_URL` of their own."""
    return [tenant for tenant, p in sorted(policies.items())
            if any(e.kind == EndpointKind.mailbox for e in p.official_endpoints)
            and not environ.get(_IMAP.variable_for(tenant), "").strip()]


def describe_caught(mail: Received) -> str:
    """One terminal line per mail the catcher accepted: automatic or not, to whom, threaded on what, first words."""
    parsed = message_from_bytes(mail.content, policy=policy.default)
    automatic = parsed.get("Auto-Submitted", "no").strip().lower() != "no"
    body = parsed.get_body(("plain",))
    words = " ".join((body.get_content() if body is not None else "").split())
    words = words if len(words) <= 90 else words[:89] + "…"
    return (f"mail catcher: {'automatic mail' if automatic else 'reply'} to {', '.join(mail.rcpt_tos)} "
            f"(In-Reply-To {parsed.get('In-Reply-To', '-')}): {parsed.get('Subject', '')!r}: {words}")


async def start_demo_mail(stack: AsyncExitStack, policies: Mapping[str, TenantPolicy], run_dir: Path,
                          echo: Callable[[str], None], environ: Mapping[str, str] | None = None) -> DemoMail | None:
    """Spawn pymap and start the catcher (await `ready()` before use); None when no tenant needs them or the dev
    packages are missing (one line says so, and the demo publishes its mail straight to Kafka)."""
    env = os.environ if environ is None else environ
    tenants = mailbox_tenants(policies, env)
    if not tenants:
        return None
    missing = missing_packages()
    if missing:
        echo(f"demo: {' and '.join(missing)} not installed, so the demo mail goes straight to Kafka (no IMAP, no "
             "acknowledgements by mail); `pip install -e '.[dev]'` (as `make run` does) brings the local mail servers")
        return None
    imap = ImapServer(run_dir / "pymap" / "pymap.log")
    imap.start()
    stack.callback(imap.stop)
    loop = asyncio.get_running_loop()

    def caught(mail: Received) -> None:  # in aiosmtpd's thread
        try:
            loop.call_soon_threadsafe(echo, describe_caught(mail))
        except RuntimeError:  # the stack's loop is closing
            pass

    catcher = SmtpCatcher(on_mail=caught)
    await asyncio.to_thread(catcher.start)
    stack.callback(catcher.stop)
    demo = DemoMail(imap, catcher, tenants)
    stack.callback(demo.close)  # before the servers stop
    for tenant in tenants:
        demo.env[_IMAP.variable_for(tenant)] = imap.url(tenant)
        if not env.get(_SMTP.variable_for(tenant), "").strip():
            demo.env[_SMTP.variable_for(tenant)] = catcher.url()
    echo(f"demo: mailboxes of {', '.join(tenants)} on a local IMAP server (pymap, in memory) "
         f"imap://{LOOPBACK}:{imap.port}/<tenant>, their mail sent to a local SMTP catcher on "
         f"smtp://{LOOPBACK}:{catcher.port}; set <TENANT>_IMAP_URL to use your own (log {imap.log_path})")
    return demo
