"""Real mail servers on loopback for the demo and the tests: pymap (IMAP, a subprocess) and an aiosmtpd catcher."""

from __future__ import annotations

import importlib.util
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

from workers.stack.procs import free_port, spawn

IMAP_USER, IMAP_PASSWORD = "demouser", "demopass"  # pymap's dict backend: one user, its defaults
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret"
LOOPBACK = "127.0.0.1"


def pymap_path() -> Path:
    """The `pymap` script installed next to this interpreter (the dev extra installs it)."""
    return Path(sys.executable).with_name("pymap")


def missing_packages() -> list[str]:
    """The dev packages a local mail server needs that are not installed (pymap, aiosmtpd)."""
    missing = [] if pymap_path().is_file() else ["pymap"]
    return missing + ([] if importlib.util.find_spec("aiosmtpd") else ["aiosmtpd"])


def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    """Block until something accepts on the loopback port; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not port_open(port):
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on {LOOPBACK}:{port} after {timeout_s:g} s")
        time.sleep(0.05)


class ImapServer:
    """`pymap --no-tls dict` (in memory) on a free loopback port, user demouser/demopass; `start()` then use."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Spawn pymap (it dies with the thread that spawned it); it listens about half a second later (`ready()`,
        `wait_for_port`)."""
        self.proc = spawn([pymap_path(), "--host", LOOPBACK, "--port", str(self.port), "--no-tls", "dict"],
                          self.log_path)

    def ready(self) -> bool:
        """True once pymap accepts connections; raises RuntimeError if it exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"pymap exited with rc={self.proc.returncode}; log {self.log_path}")
        return port_open(self.port)

    def url(self, folder: str, *, password: str = IMAP_PASSWORD, port: int | None = None, query: str = "") -> str:
        return f"imap://{IMAP_USER}:{password}@{LOOPBACK}:{port or self.port}/{folder}{query}"

    def client(self) -> IMAPClient:
        """A logged-in connection (a login costs pymap ~0.5 s of password hashing: keep one for many commands).
        TCP_NODELAY: imaplib sends an APPEND's literal and its CRLF apart, else each waits out a delayed ACK."""
        client = IMAPClient(LOOPBACK, port=self.port, ssl=False, timeout=10)
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    def create_folder(self, folder: str, *, client: IMAPClient | None = None) -> None:
        with self.client() if client is None else nullcontext(client) as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)

    def append(self, folder: str, raw: bytes, *, seen: bool = False, when: datetime | None = None,
               client: IMAPClient | None = None) -> int:
        """APPEND one mail (INTERNALDATE `when`, else now) over `client` or a new connection; returns its UID
        (pymap answers APPENDUID)."""
        with self.client() if client is None else nullcontext(client) as c:
            answer = c.append(folder, raw, flags=[b"\\Seen"] if seen else [], msg_time=when)
        return int(answer.split(b"APPENDUID", 1)[1].split()[1].rstrip(b"]"))

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SmtpCatcher:
    """aiosmtpd on loopback with AUTH (in its own thread); records what it accepted and calls `on_mail` with it
    (from that thread). `refuse` maps a recipient to an SMTP answer, and `on_data` may replace the DATA answer (or
    drop the connection) for the next message."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    on_data: list[Callable[[object], Awaitable[str | None]]] = field(default_factory=list)
    on_mail: Callable[[Received], None] | None = None
    port: int = 0
    controller: object | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.on_data:
            answer = await self.on_data.pop(0)(server)
            if answer is not None:
                return answer
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.on_mail is not None:
            self.on_mail(self.received[-1])
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller  # a dev dependency: imported only when a catcher is wanted
        from aiosmtpd.smtp import AuthResult

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

        logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation notice on every AUTH
        self.port = free_port()
        self.controller = Controller(self, hostname=LOOPBACK, port=self.port, authenticator=authenticate,
                                     auth_require_tls=False)
        self.controller.start()

    def url(self, *, password: str = SMTP_PASSWORD) -> str:
        return f"smtp://{SMTP_USER}:{password}@{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
