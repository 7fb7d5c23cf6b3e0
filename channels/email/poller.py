"""The IMAP poller: one tenant mailbox, IDLE or polling, checkpointed in Redis, marked taken only after delivery.

imapclient is blocking, so every IMAP command runs in a worker thread (`asyncio.to_thread`), one at a time per
mailbox. A cycle selects the folder, finds the mail after the checkpoint (UIDVALIDITY + highest UID taken in),
fetches it with BODY.PEEK[] (nothing is marked read as a side effect) and hands it to `deliver`, which returns
only once Kafka acknowledged. Only then is the mail flagged \\Seen (or moved to the processed folder) and the
checkpoint advanced: a crash in between brings the same mail again, and the edge dedupe drops the copy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import select
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from redis.asyncio import Redis

from channels.email.config import MailServerUrl
from channels.sinks.redis_queue_lua import escape
from contracts.errors import OmnirouteError

log = logging.getLogger("omniroute.email.poller")
_NEWS = (b"EXISTS", b"RECENT")


@dataclass(frozen=True)
class PollerOptions:
    """Timings and limits of one poller; tests shorten the intervals."""

    poll_interval_s: float = 30.0  # servers without IDLE (or use_idle False)
    use_idle: bool = True  # IDLE where the server offers it
    # Re-issue IDLE (leave it, look at the folder, go back) this often: well before RFC 2177's 29 minutes, and
    # short enough to bound the wait for mail that landed between the last look and the IDLE command, which a
    # server that announces changes on events only (pymap) never announces.
    idle_renew_s: float = 60.0
    idle_check_s: float = 1.0  # how often a waiting IDLE looks at the stop flag
    batch: int = 50  # mails fetched, delivered and marked together
    max_message_bytes: int = 50 * 2**20  # larger mail is not downloaded; it is dead-lettered with its size
    backoff_s: float = 1.0  # first reconnect delay, doubled per failure
    max_backoff_s: float = 60.0
    timeout_s: float = 30.0  # socket timeout of every command
    resync_days: int = 30  # after a UIDVALIDITY change, mail of the last N days is taken again (deduped)


@dataclass(frozen=True)
class FetchedMail:
    """One mail as the server holds it; `raw` is None when it was not downloaded (`problem` says why)."""

    uid: int
    raw: bytes | None
    internal_date: datetime | None
    size: int
    problem: str | None = None


# deliver(tenant, source, mails): returns once Kafka acknowledged every mail (or its dead letter); raising means
# nothing was taken, and the same mail comes again.
Deliver = Callable[[str, str, Sequence[FetchedMail]], Awaitable[None]]


@dataclass(frozen=True)
class Selected:
    uidvalidity: int
    uidnext: int | None
    idle: bool


@dataclass(frozen=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


class Checkpoints:
    """Per mailbox in Redis: the folder's UIDVALIDITY and the highest UID taken in."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    def key(self, tenant: str, url: MailServerUrl) -> str:
        return f"{self.prefix}:email:checkpoint:{escape(tenant)}:{escape(url.where)}:{escape(url.path)}"

    async def load(self, key: str) -> Checkpoint | None:
        found = await self.redis.hmget(key, ["uidvalidity", "last_uid"])
        if None in found:
            return None
        return Checkpoint(int(found[0]), int(found[1]))

    async def save(self, key: str, checkpoint: Checkpoint) -> None:
        await self.redis.hset(key, mapping={"uidvalidity": checkpoint.uidvalidity, "last_uid": checkpoint.last_uid})


@dataclass
class PollerStats:
    """What a poller did, for logs and tests."""

    connects: int = 0
    cycles: int = 0  # syncs
    waits: int = 0  # IDLE commands issued (each renewal is one) or poll intervals waited
    taken: int = 0
    resyncs: int = 0
    failures: int = 0
    idle: bool | None = None
    idling: bool = False  # in IDLE now (the server acknowledged it), waiting for news
    last_error: str | None = None


class ImapSession:
    """One blocking IMAP connection to the mailbox's folder; every method runs in a worker thread."""

    def __init__(self, url: MailServerUrl, variable: str, options: PollerOptions) -> None:
        self.url, self.variable, self.options = url, variable, options
        self.processed = url.options.get("processed") or None
        self.client: IMAPClient | None = None

    def open(self) -> Selected:
        url = self.url
        client = IMAPClient(url.host, port=url.port, ssl=url.tls, timeout=self.options.timeout_s)
        self.client = client
        client.normalise_times = False  # INTERNALDATE with its zone, not naive local time
        if url.starttls:
            client.starttls(ssl.create_default_context())
        try:
            client.login(url.user, url.password)
        except LoginError as exc:
            raise MailboxError(f"login refused for {url.where} ({_said(exc)}): check the user and password in "
                               f"{self.variable}") from None
        if self.processed and not client.folder_exists(self.processed):
            client.create_folder(self.processed)
        return self.select()

    def select(self) -> Selected:
        assert self.client is not None
        info = self.client.select_folder(self.url.path)
        uidnext = info.get(b"UIDNEXT")
        return Selected(uidvalidity=int(info[b"UIDVALIDITY"]), uidnext=int(uidnext) if uidnext is not None else None,
                        idle=self.client.has_capability("IDLE"))

    def uids_after(self, last_uid: int) -> list[int]:
        # `UID n:*` always contains the highest UID, even when it is below n (RFC 3501 §6.4.8): filter.
        return sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)

    def unseen(self) -> list[int]:
        return sorted(self.client.search(["UNSEEN"]))

    def since(self, day: date) -> list[int]:
        return sorted(self.client.search(["SINCE", day]))

    def fetch(self, uids: Sequence[int]) -> list[FetchedMail]:
        limit = self.options.max_message_bytes
        heads = self.client.fetch(list(uids), ["RFC822.SIZE", "INTERNALDATE"])
        small = [u for u in uids if u in heads and int(heads[u].get(b"RFC822.SIZE", 0)) <= limit]
        bodies = self.client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        out = []
        for uid in uids:
            if uid not in heads:
                continue  # expunged meanwhile
            size = int(heads[uid].get(b"RFC822.SIZE", 0))
            when = heads[uid].get(b"INTERNALDATE")
            when = when.astimezone(UTC) if isinstance(when, datetime) and when.tzinfo else None
            raw = bodies.get(uid, {}).get(b"BODY[]")
            problem = None
            if size > limit:
                problem = f"message of {size:,} bytes is larger than the {limit:,}-byte limit"
            elif raw is None:
                problem = "the server returned no body"
            out.append(FetchedMail(uid=uid, raw=raw if problem is None else None, internal_date=when, size=size,
                                   problem=problem))
        return out

    def mark_taken(self, uids: Sequence[int]) -> None:
        """\\Seen, or a move to the processed folder (MOVE where offered, else copy + delete + expunge)."""
        client = self.client
        if not self.processed:
            client.add_flags(list(uids), [b"\\Seen"])
        elif client.has_capability("MOVE"):
            client.move(list(uids), self.processed)
        else:
            client.copy(list(uids), self.processed)
            client.add_flags(list(uids), [b"\\Deleted"])
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(list(uids))
            else:
                client.expunge()

    def idle_start(self) -> None:
        self.client.idle()

    def idle_wait(self, timeout_s: float) -> bool:
        """True when the server announced new mail within `timeout_s`.

        Responses are read as whole lines from the blocking socket: imapclient's idle_check reads them from a
        non-blocking one and loses a response the server sent in two TCP segments (pymap does: `* 9 FETCH (` then
        `FLAGS (\\Recent))`), after which the connection is out of step. A closed connection raises (EOF).
        """
        imap = self.client._imap  # noqa: SLF001 - imaplib's line reader, to read whole lines
        if not self._pending() and not select.select([self.client.socket()], [], [], timeout_s)[0]:
            return False
        news = False
        while True:
            parts = imap._get_line().split(b" ", 3)  # noqa: SLF001 - blocking, bounded by the socket timeout
            news = news or (len(parts) >= 3 and parts[0] == b"*" and parts[2].upper() in _NEWS)
            if not self._pending():
                return news

    def _pending(self) -> bool:
        """Whether response bytes are buffered or waiting on the socket, without blocking."""
        sock = self.client.socket()
        sock.setblocking(False)
        try:
            return bool(self.client._imap.file.peek(1))  # noqa: SLF001 - a non-blocking peek never waits
        except (BlockingIOError, InterruptedError):
            return False
        finally:
            sock.settimeout(self.options.timeout_s)

    def idle_stop(self) -> None:
        self.client.idle_done()

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may be gone already; closing is best effort
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass


class MailboxError(OmnirouteError):
    """A mailbox problem a person must fix (the login); the poller logs it in one line and retries."""


_RETRIED = (MailboxError, IMAPClientError, OSError, socket.timeout, ssl.SSLError, EOFError, TimeoutError)


class MailboxPoller:
    """Takes a tenant's mail in until `stop` is set; reconnects with capped backoff on any failure."""

    def __init__(self, tenant: str, url: MailServerUrl, variable: str, *, checkpoints: Checkpoints,
                 deliver: Deliver, options: PollerOptions = PollerOptions()) -> None:
        self.tenant, self.url, self.variable = tenant, url, variable
        self.checkpoints, self.deliver, self.options = checkpoints, deliver, options
        self.key = checkpoints.key(tenant, url)
        self.source = f"imap://{url.where}/{url.path}"
        self.stats = PollerStats()

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            session = ImapSession(self.url, self.variable, self.options)
            try:
                await self._serve(session, stop)
            except _RETRIED as exc:  # the poller goes on; nothing else stops
                failures += 1
                self.stats.failures += 1
                self.stats.last_error = str(exc) if isinstance(exc, MailboxError) else f"{type(exc).__name__}: {exc}"
                delay = min(self.options.max_backoff_s, self.options.backoff_s * 2 ** (failures - 1))
                delay *= random.uniform(0.75, 1.0)
                log.warning("email %s: %s; retrying in %.1f s", self.tenant, self.stats.last_error, delay)
                await _wait(stop, delay)
            else:
                failures = 0
            finally:
                await asyncio.to_thread(session.close)

    async def _serve(self, session: ImapSession, stop: asyncio.Event) -> None:
        box = await asyncio.to_thread(session.open)
        idle = box.idle and self.options.use_idle
        self.stats.connects += 1
        self.stats.idle = idle
        log.info("email %s: connected to %s (%s)", self.tenant, self.source,
                 "IDLE" if idle else f"polling every {self.options.poll_interval_s:g} s")
        synced: Checkpoint | None = None
        while not stop.is_set():
            if synced is None or _news(box, synced):
                synced = await self._sync(session, box)
                self.stats.cycles += 1
                box = await asyncio.to_thread(session.select)
                if box.uidnext is not None:
                    continue  # look again before waiting: mail that came during the sync is not announced later
            self.stats.waits += 1
            if idle:
                await self._idle(session, stop)
            else:
                await _wait(stop, self.options.poll_interval_s)
            if not stop.is_set():
                box = await asyncio.to_thread(session.select)

    async def _sync(self, session: ImapSession, box: Selected) -> Checkpoint:
        """Take in what is new since the checkpoint; returns the checkpoint it leaves."""
        saved = await self.checkpoints.load(self.key)
        if saved is None:
            uids, last = await asyncio.to_thread(session.unseen), 0  # first sync: what nobody has read yet
        elif saved.uidvalidity != box.uidvalidity:
            self.stats.resyncs += 1
            since = datetime.now(UTC).date() - timedelta(days=self.options.resync_days)
            log.warning("email %s: UIDVALIDITY of %s changed (%d -> %d): resyncing mail since %s, deduplicated",
                        self.tenant, self.source, saved.uidvalidity, box.uidvalidity, since)
            uids, last = await asyncio.to_thread(session.since, since), 0
        elif box.uidnext is not None and box.uidnext <= saved.last_uid + 1:
            uids, last = [], saved.last_uid  # nothing new: do not search (the `n:*` trap)
        else:
            uids, last = await asyncio.to_thread(session.uids_after, saved.last_uid), saved.last_uid
        for start in range(0, len(uids), self.options.batch):
            batch = uids[start:start + self.options.batch]
            fetched = await asyncio.to_thread(session.fetch, batch)
            await self.deliver(self.tenant, self.source, fetched)  # raises: nothing marked, nothing checkpointed
            await asyncio.to_thread(session.mark_taken, batch)
            last = max(last, *batch)
            await self.checkpoints.save(self.key, Checkpoint(box.uidvalidity, last))
            self.stats.taken += len(batch)
        # Everything below UIDNEXT at select time was found by the search or is not to be taken (already read at
        # the first sync, older than the resync horizon): the watermark moves up to it.
        done = Checkpoint(box.uidvalidity, max(last, (box.uidnext or 1) - 1))
        if saved != done:
            await self.checkpoints.save(self.key, done)
        return done

    async def _idle(self, session: ImapSession, stop: asyncio.Event) -> None:
        """Wait in IDLE until new mail, the renewal time, or stop; then leave IDLE so commands can be sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.idle_renew_s
        await asyncio.to_thread(session.idle_start)
        self.stats.idling = True
        try:
            while not stop.is_set() and loop.time() < deadline:
                if await asyncio.to_thread(session.idle_wait, self.options.idle_check_s):
                    break
        finally:
            self.stats.idling = False
            await asyncio.to_thread(session.idle_stop)


def _news(box: Selected, synced: Checkpoint) -> bool:
    """Whether the folder may hold mail after the checkpoint (always, when the server gives no UIDNEXT)."""
    return box.uidvalidity != synced.uidvalidity or box.uidnext is None or box.uidnext > synced.last_uid + 1


def _said(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"server said: {text.strip()[:200]}"


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
