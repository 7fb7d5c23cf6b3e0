"""The IMAP poller against a real IMAP server (pymap on loopback): sync, IDLE, \\Seen after delivery, failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from mail_servers import Mailbox, PymapServer, TcpProxy, mail
from polling import until
from redis.asyncio import Redis

from channels.email.config import parse_imap_url
from channels.email.poller import Checkpoints, FetchedMail, ImapSession, MailboxPoller, PollerOptions
from contracts.errors import ConfigError

pytestmark = pytest.mark.asyncio
FAST = PollerOptions(poll_interval_s=0.05, idle_check_s=0.1, backoff_s=0.05, max_backoff_s=0.2, timeout_s=10)
SEEN = b"\\Seen"


@pytest.fixture(scope="module")
def imap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PymapServer]:
    server = PymapServer(tmp_path_factory.mktemp("pymap") / "pymap.log")
    yield server
    server.stop()


@dataclass
class Recorder:
    """A `deliver` that records mail; `gate` holds delivery (Kafka not yet acknowledged), `fail` raises once each."""

    mails: list[FetchedMail] = field(default_factory=list)
    gate: asyncio.Event | None = None
    waiting: asyncio.Event = field(default_factory=asyncio.Event)
    fail: int = 0

    async def __call__(self, tenant: str, source: str, mails: Sequence[FetchedMail]) -> None:
        self.waiting.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            self.fail -= 1
            raise OSError("Kafka did not acknowledge (simulated)")
        self.mails += mails

    def uids(self) -> list[int]:
        return [m.uid for m in self.mails]


@asynccontextmanager
async def running(url: str, deliver, redis_url: str, options: PollerOptions = FAST,
                  prefix: str | None = None) -> AsyncIterator[MailboxPoller]:
    redis = Redis.from_url(redis_url)
    prefix = prefix or f"omniroute-test-{uuid.uuid4().hex[:8]}"
    poller = MailboxPoller("alkonect", parse_imap_url(url, "ALKONECT_IMAP_URL"), "ALKONECT_IMAP_URL",
                           checkpoints=Checkpoints(redis, prefix=prefix), deliver=deliver, options=options)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        yield poller
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await redis.aclose()


async def test_first_sync_takes_unread_mail_and_marks_it_seen(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    read_before = box.append(mail("read by a person before omniroute"), seen=True)
    first, second = box.append(mail()), box.append(mail("Refund please"))
    deliver = Recorder()
    async with running(box.url(), deliver, redis_url) as poller:
        await until(lambda: poller.stats.cycles >= 1, what="a first cycle")
    assert deliver.uids() == [first, second]
    assert all(m.internal_date is not None and m.raw.startswith(b"From: ") for m in deliver.mails)
    assert SEEN in box.flags(first) and SEEN in box.flags(second) and read_before not in deliver.uids()


async def test_incremental_sync_by_uid_takes_mail_a_person_read_meanwhile_and_never_repeats(
        imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    first = box.append(mail())
    deliver = Recorder()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    options = PollerOptions(**{**FAST.__dict__, "use_idle": False})
    async with running(box.url(), deliver, redis_url, options, prefix) as poller:
        await until(lambda: deliver.uids() == [first], what="the first mail")
    later = box.append(mail("a person opened this one first"), seen=True)
    async with running(box.url(), deliver, redis_url, options, prefix) as poller:
        await until(lambda: len(deliver.mails) == 2, what="the mail after the checkpoint")
        waits = poller.stats.waits
        # UIDNEXT == last UID + 1 now: a `UID n:*` search would return the last mail again (the trap)
        await until(lambda: poller.stats.waits >= waits + 5, what="more polling intervals")
    assert deliver.uids() == [first, later]


async def test_the_uid_range_trap_is_filtered(imap: PymapServer) -> None:
    box = Mailbox(imap)
    last = box.append(mail())
    session = ImapSession(parse_imap_url(box.url(), "X"), "X", FAST)
    try:
        await asyncio.to_thread(session.open)
        assert await asyncio.to_thread(session.client.search, ["UID", f"{last + 1}:*"]) == [last]  # the server's answer
        assert await asyncio.to_thread(session.uids_after, last) == []
    finally:
        session.close()


async def test_mail_stays_unseen_until_delivery_is_acknowledged(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    uid = box.append(mail())
    deliver = Recorder(gate=asyncio.Event())
    async with running(box.url(), deliver, redis_url) as poller:
        await until(deliver.waiting.is_set, what="the fetch")  # BODY.PEEK[] has been fetched by now
        assert SEEN not in box.flags(uid)
        deliver.gate.set()
        await until(lambda: poller.stats.taken == 1, what="the mark")
    assert SEEN in box.flags(uid)


async def test_a_failed_delivery_marks_nothing_and_the_same_mail_comes_again(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    uid = box.append(mail())
    deliver = Recorder(fail=1)
    async with running(box.url(), deliver, redis_url) as poller:
        await until(lambda: deliver.uids() == [uid], what="the second attempt")
        assert poller.stats.failures == 1 and "Kafka did not acknowledge" in poller.stats.last_error
    assert SEEN in box.flags(uid)


async def test_idle_push_takes_new_mail_and_idle_is_renewed(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    deliver = Recorder()
    options = PollerOptions(**{**FAST.__dict__, "idle_renew_s": 0.3})
    async with running(box.url(), deliver, redis_url, options) as poller:
        await until(lambda: poller.stats.waits >= 3, what="IDLE renewals")
        assert poller.stats.idle is True and poller.stats.connects == 1
        uid = box.append(mail())
        await until(lambda: deliver.uids() == [uid], what="the pushed mail")


async def test_idle_reads_a_response_split_across_packets_whole(imap: PymapServer, redis_url: str) -> None:
    """pymap sends `* 3 FETCH (` and `FLAGS (\\Recent))` in two writes when mail comes during IDLE; imapclient's
    idle_check read them from a non-blocking socket, lost the half line and broke the connection (seen in the demo)."""
    box = Mailbox(imap)
    deliver = Recorder()
    async with running(box.url(), deliver, redis_url) as poller:
        await until(lambda: poller.stats.waits >= 1, what="IDLE")
        uids = []
        for n in range(15):  # each APPEND lands while the poller idles, syncs or marks the previous ones
            uids.append(await asyncio.to_thread(box.append, mail(f"Order {n}")))
        await until(lambda: sorted(deliver.uids()) == uids, what="every mail")
        assert poller.stats.failures == 0, poller.stats.last_error
        assert poller.stats.connects == 1


async def test_uidvalidity_change_resyncs_the_folder(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    kept = mail(message_id="<kept-1@example.net>")
    box.append(kept)
    deliver = Recorder()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    async with running(box.url(), deliver, redis_url, prefix=prefix):
        await until(lambda: len(deliver.mails) == 1, what="the first mail")
    box.recreate()
    box.append(kept, seen=True)  # restored from a backup: read, and under a new UID
    fresh = box.append(mail())
    async with running(box.url(), deliver, redis_url, prefix=prefix) as poller:
        await until(lambda: len(deliver.mails) == 3, what="the resync")
        assert poller.stats.resyncs == 1
    assert deliver.mails[1].raw == kept and deliver.mails[2].uid == fresh  # the copy is the intake's to drop


async def test_a_dropped_connection_reconnects_and_goes_on(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    proxy = TcpProxy(imap.port)
    await proxy.start()
    deliver = Recorder()
    try:
        async with running(box.url(port=proxy.port), deliver, redis_url) as poller:
            await until(lambda: poller.stats.waits >= 1, what="IDLE")
            proxy.drop()
            # Mail that comes while the connection is down is found by the sync after the reconnect. (Mail that
            # comes between a sync's last look and the server entering IDLE is pymap's to announce at the next
            # change or the IDLE renewal: it reports changes on events only, so a test must not race that window.)
            uid = box.append(mail())
            await until(lambda: deliver.uids() == [uid], what="mail after the reconnect")
            assert poller.stats.connects >= 2 and poller.stats.failures >= 1
    finally:
        await proxy.stop()


async def test_a_wrong_password_is_named_and_retried_without_printing_it(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    async with running(box.url(password="hunter2-wrong"), Recorder(), redis_url) as poller:
        await until(lambda: poller.stats.failures >= 2, what="two login attempts")
    error = poller.stats.last_error
    assert "login refused for demouser@127.0.0.1" in error and "ALKONECT_IMAP_URL" in error
    assert "hunter2" not in error


async def test_processed_mail_can_be_moved_instead_of_flagged(imap: PymapServer, redis_url: str) -> None:
    box = Mailbox(imap)
    uid = box.append(mail())
    done = f"Done{uuid.uuid4().hex[:6]}"
    deliver = Recorder()
    async with running(box.url(query=f"?processed={done}"), deliver, redis_url) as poller:
        await until(lambda: poller.stats.taken == 1, what="the move")
    assert deliver.uids() == [uid] and box.uids() == [] and len(Mailbox(imap, done).uids()) == 1


@pytest.mark.parametrize("value, fragment", [
    ("imaps//user:pw@host/INBOX", "scheme must be one of imaps://, imap://"),
    ("pop3://user:pw@host/INBOX", "not 'pop3'"),
    ("imaps://user:pw@host:99999/INBOX", "host or port cannot be read"),
    ("imaps://user:pw/secret@host/INBOX", "host or port cannot be read"),
    ("imaps://host/INBOX", "needs a user and password"),
    ("imap://user:pw@host/INBOX?starttls=maybe", "starttls must be 1 or 0"),
    ("imaps://user:pw@host/INBOX?starttls=1", "TLS already"),
])
async def test_a_malformed_url_names_the_variable_never_the_password(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_imap_url(value, "ALKONECT_IMAP_URL")
    text = str(raised.value)
    assert text.startswith("ALKONECT_IMAP_URL") and fragment in text and "\n" not in text and "pw" not in text
    assert "secret" not in text


async def test_a_url_is_read_with_its_defaults() -> None:
    url = parse_imap_url("imap://me%40alkonect.com:p%40ss@mail.example.com/Support%2FIn?starttls=1", "V")
    assert (url.user, url.password, url.port, url.path, url.starttls, url.tls) == (
        "me@alkonect.com", "p@ss", 143, "Support/In", True, False)
    assert "p@ss" not in repr(url)
    assert parse_imap_url("imaps://u:p@h", "V").port == 993 and parse_imap_url("imaps://u:p@h", "V").path == "INBOX"


async def test_pollers_are_configured_per_tenant_from_the_environment_only() -> None:
    from workers.app import build_app
    from workers.runtime.mail_pollers import configured_mailboxes, missing_mailboxes
    from workers.settings import Settings

    app = build_app(Settings(), environ={"CONEK_IMAP_URL": "imaps://info%40gmail.com:app-pass@imap.gmail.com/INBOX"})
    [box] = configured_mailboxes(app)
    assert (box.tenant, box.url.user, box.url.host, box.variable) == ("conek", "info@gmail.com", "imap.gmail.com",
                                                                      "CONEK_IMAP_URL")
    assert missing_mailboxes(app) == ["ALKONECT_IMAP_URL", "IZONIE_IMAP_URL"]
    broken = build_app(Settings(), environ={"IZONIE_IMAP_URL": "imaps://user:s3cret@/INBOX"})
    with pytest.raises(ConfigError, match="^IZONIE_IMAP_URL is malformed: it names no host") as raised:
        configured_mailboxes(broken)
    assert "s3cret" not in str(raised.value)
