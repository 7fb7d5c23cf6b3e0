"""Mail servers for tests: the product's local pymap and aiosmtpd (workers/stack/mail_servers.py), folders seen as a
person would, sample mail, and a TCP proxy to cut."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from workers.stack.mail_servers import (  # noqa: F401 - re-exported for the tests
    IMAP_PASSWORD,
    IMAP_USER,
    SMTP_PASSWORD,
    SMTP_USER,
    ImapServer,
    Received,
    SmtpCatcher,
    wait_for_port,
)
from workers.stack.procs import free_port  # noqa: F401 - re-exported for the tests


class PymapServer(ImapServer):
    """The product's local IMAP server, started and listening once constructed."""

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path)
        self.start()
        wait_for_port(self.port)


class Mailbox:
    """A folder of the test server, seen through a second IMAP connection (as a person or the MTA would)."""

    def __init__(self, server: PymapServer, folder: str | None = None) -> None:
        self.server = server
        self.folder = folder or f"T{uuid.uuid4().hex[:10]}"
        server.create_folder(self.folder)

    def url(self, **kwargs) -> str:
        return self.server.url(self.folder, **kwargs)

    def append(self, raw: bytes, *, seen: bool = False) -> int:
        return self.server.append(self.folder, raw, seen=seen)

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
