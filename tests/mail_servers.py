"""Real mail servers on loopback for tests: pymap (IMAP, a subprocess), aiosmtpd (SMTP), and a TCP proxy to cut."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from imapclient import IMAPClient

IMAP_USER, IMAP_PASSWORD = "demouser", "demopass"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:g} s")


class PymapServer:
    """`pymap --no-tls dict` on a free loopback port, user demouser/demopass, stopped by its pid."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log = log_path.open("wb")
        pymap = Path(sys.executable).with_name("pymap")
        self.proc = subprocess.Popen([str(pymap), "--host", "127.0.0.1", "--port", str(self.port), "--no-tls", "dict"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def url(self, folder: str, *, password: str = IMAP_PASSWORD, port: int | None = None, query: str = "") -> str:
        return f"imap://{IMAP_USER}:{password}@127.0.0.1:{port or self.port}/{folder}{query}"

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


class Mailbox:
    """A folder of the test server, seen through a second IMAP connection (as a person or the MTA would)."""

    def __init__(self, server: PymapServer, folder: str | None = None) -> None:
        self.server = server
        self.folder = folder or f"T{uuid.uuid4().hex[:10]}"
        with server.client() as c:
            if not c.folder_exists(self.folder):
                c.create_folder(self.folder)

    def url(self, **kwargs) -> str:
        return self.server.url(self.folder, **kwargs)

    def append(self, raw: bytes, *, seen: bool = False) -> int:
        with self.server.client() as c:
            answer = c.append(self.folder, raw, flags=[b"\\Seen"] if seen else [])
        return int(answer.split(b"APPENDUID", 1)[1].split()[1].rstrip(b"]"))

    def flags(self, uid: int) -> tuple[bytes, ...]:
        with self.server.client() as c:
            c.select_folder(self.folder, readonly=True)
            return c.get_flags([uid]).get(uid, ())

    def uids(self) -> list[int]:
        with self.server.client() as c:
            c.select_folder(self.folder, readonly=True)
            return sorted(c.search(["ALL"]))

    def recreate(self) -> None:
        """Delete and create the folder again: a new UIDVALIDITY, as after a server-side restore."""
        with self.server.client() as c:
            c.delete_folder(self.folder)
            c.create_folder(self.folder)


def mail(subject: str = "My order never arrived", *, sender: str = "ada@example.net",
         to: str = "support@alkonect.com", message_id: str | None = None,
         body: str = "Order 12345 is late, please help.", extra: str = "") -> bytes:
    message_id = message_id or f"<{uuid.uuid4().hex}@example.net>"
    return (f"From: Ada Obi <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            f"Date: {format_datetime(datetime.now(UTC))}\r\n{extra}MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


class TcpProxy:
    """Forwards 127.0.0.1:port to a target port; `drop()` cuts every open connection (a network failure)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def drop(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SmtpCatcher:
    """aiosmtpd on loopback with AUTH; records what it accepted. `refuse` maps a recipient to an SMTP answer, and
    `on_data` may replace the DATA answer (or drop the connection) for the next message."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    on_data: list[Callable[[object], Awaitable[str | None]]] = field(default_factory=list)
    port: int = 0
    controller: Controller | None = None

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
        return "250 OK"

    def start(self) -> None:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, authenticator=authenticate,
                                     auth_require_tls=False)
        self.controller.start()

    def url(self, *, password: str = SMTP_PASSWORD) -> str:
        return f"smtp://{SMTP_USER}:{password}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
