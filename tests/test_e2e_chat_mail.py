"""Chat replies to visitors who are gone also go by mail (real broker, Redis and aiosmtpd); connected ones get none."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import orjson
import pytest
import pytest_asyncio
from chat_stack import ChatStack, chat_stack, eventually
from mail_servers import SmtpCatcher
from test_e2e_chat import connect, next_frame

from contracts.channels import ChannelKind
from contracts.outbound import DeliveryStatus
from contracts.topics import AGENT_ACTIONS
from contracts.workitem import AgentAction, AgentActionKind
from workers.runtime.actions_api import action_key
from workers.runtime.chat_presence import ChatPresence
from workers.runtime.codec import encode

pytestmark = pytest.mark.asyncio(loop_scope="module")
SMTP = SmtpCatcher()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[ChatStack]:
    SMTP.start()
    try:
        async with chat_stack(tmp_path_factory.mktemp("chat-mail-broker"), redis_url,
                              environ={"IZONIE_SMTP_URL": SMTP.url()}) as running:
            yield running
    finally:
        SMTP.stop()


def mails_to(address: str) -> list:
    return [message_from_bytes(r.content, policy=policy.default) for r in SMTP.received if address in r.rcpt_tos]


def body(mail) -> str:  # noqa: ANN001 - an EmailMessage
    return mail.get_content()


async def visitor_writes(stack: ChatStack, email: str | None) -> tuple[dict, str]:
    session = await stack.open_session(name="Ada", **({"email": email} if email else {}))
    order = f"IZ-{uuid.uuid4().int % 100000:05d}"  # one order per visitor: items are not merged across tests
    assert (await stack.send(session["token"], f"My parcel {order} has not arrived, where is it?"))[0] == 202
    return session, (await stack.item_of(session["session_id"])).id


async def publish_reply(stack: ChatStack, item_id: str, text: str, times: int = 1) -> None:
    """The same reply record `times` times, as a redelivery after a crash would bring it."""
    action = AgentAction(kind=AgentActionKind.reply, work_item_id=item_id, tenant="izonie", agent_id="a1",
                         at=datetime.now(UTC), text=text)
    for _ in range(times):
        await stack.ingress.producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action), key=action_key(action))


async def test_a_reply_to_a_gone_visitor_is_mailed_once_and_threaded_per_session(stack: ChatStack) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    session, item_id = await visitor_writes(stack, email)
    first, second = "Your parcel left our warehouse today.", "It arrives tomorrow before noon."
    await publish_reply(stack, item_id, first, times=2)  # redelivered: still one mail
    await publish_reply(stack, item_id, second)
    await eventually(lambda: _some(m for m in mails_to(email) if second in body(m)))
    mails = mails_to(email)
    assert [first in body(m) for m in mails] == [True, False] and second in body(mails[1])
    thread = f"<omniroute.chat.{session['session_id']}@izonie.com>"
    for mail in mails:
        assert mail["From"] == "support@izonie.com" and mail["To"] == email
        assert mail["Subject"] == "Re: Your chat with Izonie"
        assert mail["In-Reply-To"] == thread and mail["References"] == thread
        assert mail["Auto-Submitted"] is None  # a person's answer, not an automatic one
    assert mails[0]["Message-ID"] != mails[1]["Message-ID"]
    frames = [orjson.loads(f) for f in await stack.store.frames_after(session["session_id"], 0)]
    assert [f["text"] for f in frames if f["type"] == "agent_reply"] == [first, second]  # waiting for the visitor
    def mailed() -> list:
        return [e for e in stack.deliveries if e.work_item_id == item_id and e.channel == ChannelKind.email]

    await eventually(lambda: _some([mailed()] if len(mailed()) >= 2 else []))  # reported after the SMTP answer
    assert [e.status for e in mailed()] == [DeliveryStatus.sent] * 2
    assert {f"<{e.provider_message_id}>" for e in mailed()} == {m["Message-ID"] for m in mails}


async def test_a_connected_visitor_gets_the_frame_and_no_mail(stack: ChatStack) -> None:
    email = f"bola-{uuid.uuid4().hex[:8]}@example.com"
    session, item_id = await visitor_writes(stack, email)
    presence = ChatPresence(stack.store)
    ws = await connect(stack, session["token"])
    await eventually(lambda: _true(presence.connected(session["session_id"])))
    await stack.agent_replies(item_id, "I can see you are here: the parcel is at the depot.")
    assert (await next_frame(ws))["text"] == "I can see you are here: the parcel is at the depot."
    await ws.close()
    await eventually(lambda: _false(presence.connected(session["session_id"])))
    await stack.agent_replies(item_id, "You left: it will be delivered tomorrow.")  # after the first, on one item
    await eventually(lambda: _some(mails_to(email)))
    assert [body(m).splitlines()[0] for m in mails_to(email)] == ["You left: it will be delivered tomorrow."]


@pytest.mark.parametrize("email", [None, "no-reply@example.com"])
async def test_without_a_mailable_address_the_frame_waits_and_nothing_fails(stack: ChatStack, email: str | None) -> None:
    session, item_id = await visitor_writes(stack, email)
    kept = f"Kept for your return {uuid.uuid4().hex[:6]}"
    await stack.agent_replies(item_id, kept)
    ws = await connect(stack, session["token"])
    assert (await next_frame(ws))["text"] == kept  # the frame waited for the next connection
    await stack.agent_replies(item_id, "And now you are here.")  # on the same item: handled after the first
    assert (await next_frame(ws))["text"] == "And now you are here."
    await ws.close()
    first = [e for e in stack.deliveries if e.work_item_id == item_id]
    assert first and all(e.channel == ChannelKind.chat and e.status == DeliveryStatus.sent for e in first)
    assert not [r for r in SMTP.received if kept.encode() in r.content]


async def _some(found):
    return next(iter(found), None)


async def _true(probe) -> bool | None:
    return True if await probe else None


async def _false(probe) -> bool | None:
    return True if not await probe else None
