"""Live chat end to end on the real broker and Redis: sessions, messages, WebSocket frames, hostile inputs (§7.31)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import pytest_asyncio
from chat_stack import API_TOKEN, IZONIE, ChatStack, chat_stack, eventually, mint

from contracts.channels import ChannelKind

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[ChatStack]:
    async with chat_stack(tmp_path_factory.mktemp("chat-broker"), redis_url) as running:
        yield running


async def connect(stack: ChatStack, token: str, last_seq: int = 0, *, replica: bool = False,
                  origin: str | None = IZONIE) -> aiohttp.ClientWebSocketResponse:
    ws = await stack.http.ws_connect(stack.url("ws", replica=replica), origin=origin)
    await ws.send_json({"type": "auth", "token": token, "last_seq": last_seq})
    return ws


async def next_frame(ws: aiohttp.ClientWebSocketResponse, timeout: float = 30.0) -> dict:
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, (message.type, message.data, message.extra)
    return message.json()


async def closed_with(ws: aiohttp.ClientWebSocketResponse, timeout: float = 30.0) -> int:
    message = await ws.receive(timeout=timeout)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), (message.type, message.data)
    return ws.close_code


async def test_sessions_need_the_official_origin(stack: ChatStack) -> None:
    for origin in ("https://evil.example", "https://izonie.com.evil.example", "null", "http://izonie.com"):
        async with stack.http.post(stack.url("sessions"), json={}, headers={"Origin": origin}) as answer:
            assert answer.status == 403, origin
            assert "Access-Control-Allow-Origin" not in answer.headers
    async with stack.http.post(stack.url("sessions"), json={}) as answer:
        assert answer.status == 403  # no Origin at all
    async with stack.http.post(stack.url("sessions"), json={}, headers={"Origin": IZONIE}) as answer:
        assert answer.status == 201
        assert answer.headers["Access-Control-Allow-Origin"] == IZONIE
        body = await answer.json()
    assert set(body) >= {"session_id", "token", "expires_at"}
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)
    async with stack.http.options(stack.url("messages"), headers={"Origin": IZONIE,
                                                                  "Access-Control-Request-Method": "POST"}) as answer:
        assert answer.status == 204 and answer.headers["Access-Control-Allow-Origin"] == IZONIE
    async with stack.http.options(stack.url("messages"), headers={"Origin": "https://evil.example"}) as answer:
        assert answer.status == 403


async def test_an_unset_signing_key_is_named_and_unknown_tenants_are_404(stack: ChatStack) -> None:
    async with stack.http.post(stack.url("sessions", "alkonect"), json={},
                               headers={"Origin": "https://alkonect.com"}) as answer:
        assert answer.status == 503
        assert "ALKONECT_LIVECHAT_SIGNING_KEY" in (await answer.json())["error"]
    for tenant in ("conek", "nobody"):  # conek has no chat origin in its policy
        async with stack.http.post(stack.url("sessions", tenant), json={}, headers={"Origin": IZONIE}) as answer:
            assert answer.status == 404


async def test_a_visitor_message_becomes_one_work_item_even_when_posted_twice(stack: ChatStack) -> None:
    session = await stack.open_session(name="Ada", email=f"ada-{uuid.uuid4().hex[:6]}@example.com")
    text = "Hello, my order IZ-30021 has not arrived yet, can you check the tracking?"
    first = await stack.send(session["token"], text, "m-1")
    again = await stack.send(session["token"], text, "m-1")
    assert first[0] == again[0] == 202
    assert first[1]["duplicate"] is False and again[1]["duplicate"] is True and first[1]["id"] == again[1]["id"]
    item = await stack.item_of(session["session_id"])
    assert item.channel == ChannelKind.chat and item.tenant == "izonie"
    assert item.reply_to.recipient and item.reply_to.endpoint in (IZONIE, None)
    marker = await stack.send(session["token"], "and one more thing: it is a gift", "m-2")
    assert marker[0] == 202
    assert len(await stack.items_of(session["session_id"])) == 1


async def test_bad_tokens_are_refused(stack: ChatStack) -> None:
    session = await stack.open_session()
    old = datetime.now(UTC) - timedelta(hours=3)
    head, body, sig = session["token"].split(".")
    forged = {
        "expired": mint(session, issued=old),
        "tampered": f"{head}.{body[:-2]}{'AB' if body[-2:] != 'AB' else 'CD'}.{sig}",
        "wrong kid": mint(session, key="some-other-key"),
        "wrong site": mint(session, tenant="alkonect"),  # signed with Izonie's key, but claims Alkonect
        "garbage": "not-a-token",
    }
    for label, token in forged.items():
        status, answer = await stack.send(token, "hello")
        assert status == 401, (label, answer)
    async with stack.http.post(stack.url("messages"), json={"client_message_id": "x", "text": "hi"}) as answer:
        assert answer.status == 401
    async with stack.http.post(stack.url("messages", "alkonect"), json={"client_message_id": "x", "text": "hi"},
                               headers={"Authorization": f"Bearer {session['token']}"}) as answer:
        assert answer.status in (401, 503)  # Alkonect's chat is off here: 503 before any token is read


async def test_a_token_replayed_from_another_origin_is_refused(stack: ChatStack) -> None:
    session = await stack.open_session()
    status, _ = await stack.send(session["token"], "hello from elsewhere", origin="https://evil.example")
    assert status == 403
    async with stack.http.get(stack.url("ws"), headers={"Origin": "https://evil.example"}) as answer:
        assert answer.status == 403  # refused before the upgrade


async def test_empty_oversized_and_malformed_messages_are_422(stack: ChatStack) -> None:
    session = await stack.open_session()
    for text in ("", "   \n ", "x" * 4001):
        status, answer = await stack.send(session["token"], text)
        assert status == 422, (len(text), answer)
    assert (await stack.send(session["token"], "x" * 4000))[0] == 202
    async with stack.http.post(stack.url("messages"), data=b"[1,2]",
                               headers={"Authorization": f"Bearer {session['token']}"}) as answer:
        assert answer.status == 422
    async with stack.http.post(stack.url("messages"), data=b"{" * 40_000,
                               headers={"Authorization": f"Bearer {session['token']}"}) as answer:
        assert answer.status == 413


async def test_an_agent_reply_reaches_the_websocket_and_a_reconnect_replays_what_was_missed(stack: ChatStack) -> None:
    session = await stack.open_session()
    assert (await stack.send(session["token"], "Where is my refund for order IZ-40012?"))[0] == 202
    item = await stack.item_of(session["session_id"])
    ws = await connect(stack, session["token"])
    markup = "<script>alert('x')</script> Your refund is on its way."
    await stack.agent_replies(item.id, markup)
    frame = await next_frame(ws)
    assert frame["type"] == "agent_reply" and frame["seq"] == 1 and frame["text"] == markup
    await ws.close()
    for text in ("It left our bank today.", "You should see it within 3 days."):  # the visitor is gone
        await stack.agent_replies(item.id, text)
    await eventually(lambda: _at_least(stack, session["session_id"], 3))
    again = await connect(stack, session["token"], last_seq=1, replica=True)
    missed = [await next_frame(again), await next_frame(again)]
    assert [(f["seq"], f["text"]) for f in missed] == [(2, "It left our bank today."),
                                                       (3, "You should see it within 3 days.")]
    await again.close()
    gap = await connect(stack, session["token"], last_seq=99)  # a cursor the session never reached: everything
    assert [(await next_frame(gap))["seq"] for _ in range(3)] == [1, 2, 3]
    await gap.close()


async def _at_least(stack: ChatStack, session_id: str, seq: int) -> bool | None:
    return True if await stack.store.last_seq(session_id) >= seq else None


async def test_two_gateway_replicas_share_the_fan_out(stack: ChatStack) -> None:
    session = await stack.open_session()
    assert (await stack.send(session["token"], "Is the blue dress back in stock?"))[0] == 202
    item = await stack.item_of(session["session_id"])
    here, there = await connect(stack, session["token"]), await connect(stack, session["token"], replica=True)
    await stack.agent_replies(item.id, "Yes, since this morning.")
    assert [(await next_frame(ws))["text"] for ws in (here, there)] == ["Yes, since this morning."] * 2
    await asyncio.gather(here.close(), there.close())


async def test_the_websocket_needs_an_auth_frame_in_time(stack: ChatStack) -> None:
    session = await stack.open_session()
    silent = await stack.http.ws_connect(stack.url("ws"), origin=IZONIE)
    assert await closed_with(silent) == 4408  # the stack's auth timeout is 1 s
    for first in ({"type": "hello"}, {"type": "auth"}, {"type": "auth", "token": session["token"], "last_seq": -1},
                  {"type": "auth", "token": session["token"], "last_seq": "3"}):
        ws = await stack.http.ws_connect(stack.url("ws"), origin=IZONIE)
        await ws.send_json(first)
        assert await closed_with(ws) == 4400, first
    ws = await stack.http.ws_connect(stack.url("ws"), origin=IZONIE)
    await ws.send_bytes(b"\x00\x01")
    assert await closed_with(ws) == 4400
    bad = await connect(stack, mint(session, key="some-other-key"))
    assert await closed_with(bad) == 4401
    huge = await stack.http.ws_connect(stack.url("ws"), origin=IZONIE)
    await huge.send_str("x" * 10_000)  # over the frame size limit
    assert await closed_with(huge) == 1009


async def test_a_flooding_visitor_is_stopped(stack: ChatStack) -> None:
    session = await stack.open_session()
    statuses = [(await stack.send(session["token"], f"hello? {n}"))[0] for n in range(31)]  # Izonie: 10 per 5 min x 3
    assert statuses[:30] == [202] * 30 and statuses[30] == 429


async def test_an_abusive_message_ends_the_session(stack: ChatStack) -> None:
    session = await stack.open_session()
    ws = await connect(stack, session["token"])
    assert (await stack.send(session["token"], "You people are absolute idiots, where is my phone"))[0] == 202
    frame = await next_frame(ws)
    assert frame["type"] == "session_ended" and "abusive" in frame["reason"]
    assert await closed_with(ws) == 1000
    status, answer = await stack.send(session["token"], "hello again")
    assert status == 401 and "ended" in answer["error"]
    late = await connect(stack, session["token"])
    assert await closed_with(late) == 4401
    async with stack.http.post(stack.url("sessions"), json={}, headers={
            "Origin": IZONIE, "Authorization": f"Bearer {session['token']}"}) as renew:
        assert renew.status == 401  # an ended session cannot be renewed either


async def test_a_threat_ends_the_session_and_opens_work_for_the_supervisors(stack: ChatStack) -> None:
    """Izonie §6/§5: the session ends as for any abuse, and a supervisor gets a work item (with its 48 h clock)."""
    session = await stack.open_session()
    ws = await connect(stack, session["token"])
    assert (await stack.send(session["token"], "I know where your office is and I will deal with your staff"))[0] == 202
    frame = await next_frame(ws)
    assert frame["type"] == "session_ended"
    item = await stack.item_of(session["session_id"])
    assert (item.queue, item.priority.value) == ("supervisors", "urgent") and "threat" in item.flags
    assert item.sla is not None and item.sla.rule == "supervisor_threat"


async def test_a_live_token_renews_its_own_session(stack: ChatStack) -> None:
    session = await stack.open_session()
    async with stack.http.post(stack.url("sessions"), json={}, headers={
            "Origin": IZONIE, "Authorization": f"Bearer {session['token']}"}) as answer:
        assert answer.status == 201
        renewed = await answer.json()
    assert renewed["session_id"] == session["session_id"] and renewed["expires_at"] >= session["expires_at"]
    assert (await stack.send(renewed["token"], "still here"))[0] == 202


async def test_the_hours_panel_and_the_widget_are_served(stack: ChatStack) -> None:
    async with stack.http.get(stack.url("hours"), headers={"Origin": IZONIE}) as answer:
        assert answer.status == 200 and answer.headers["Access-Control-Allow-Origin"] == IZONIE
        hours = await answer.json()
    assert hours["hours"] == ["Mon–Sat 08:00–20:00"] and hours["first_response"] == "5 minutes"
    assert ("online" in hours["status"]) == hours["open"]
    async with stack.http.get(stack.url("widget.js")) as answer:
        assert answer.status == 200 and answer.content_type == "application/javascript"
        assert "innerHTML" not in await answer.text()  # the widget renders text, never markup
    async with stack.http.get(stack.url("widget.css")) as answer:
        assert answer.status == 200 and answer.content_type == "text/css"
    async with stack.http.get(stack.url("")) as answer:
        assert answer.status == 404  # the demo page is off outside `omniroute dev`


async def agent_types(stack: ChatStack, item_id: str, **extra) -> tuple[int, dict]:
    async with stack.http.post(f"{stack.ingress.url}/v1/izonie/work-items/{item_id}/actions",
                               json={"kind": "typing", "agent_id": "a1", **extra},
                               headers={"Authorization": f"Bearer {API_TOKEN}"}) as answer:
        return answer.status, await answer.json()


async def test_an_agent_typing_reaches_the_visitor_live_and_is_never_numbered_or_replayed(stack: ChatStack) -> None:
    session = await stack.open_session()
    assert (await stack.send(session["token"], "Can I change the size of order IZ-77120?"))[0] == 202
    item = await stack.item_of(session["session_id"])
    ws = await connect(stack, session["token"])
    await stack.agent_replies(item.id, "Let me look.")
    assert (await next_frame(ws))["seq"] == 1  # the socket is attached to the fan-out now
    loop = asyncio.get_running_loop()
    started = loop.time()
    first = await agent_types(stack, item.id)
    second = await agent_types(stack, item.id)
    quick = loop.time() - started < 3  # config.TYPING_EVERY: a second signal within it is coalesced
    assert first == (202, {"work_item_id": item.id, "kind": "typing", "pushed": True, "visitor_connected": True})
    assert second[0] == 202 and second[1]["pushed"] is not quick
    frame = await next_frame(ws)
    assert frame["type"] == "typing" and frame["seq"] == 1 and set(frame) == {"seq", "type", "at"}
    await stack.agent_replies(item.id, "Done: size M.")
    if not quick:
        assert (await next_frame(ws))["type"] == "typing"
    reply = await next_frame(ws)
    assert (reply["type"], reply["seq"]) == ("agent_reply", 2)  # typing did not take a number
    await ws.close()
    again = await connect(stack, session["token"])
    assert [(f["seq"], f["type"]) for f in [await next_frame(again), await next_frame(again)]] == [
        (1, "agent_reply"), (2, "agent_reply")]  # nothing to replay but the replies
    await again.close()
    assert await stack.store.last_seq(session["session_id"]) == 2
    assert [a["kind"] for a in await _history(stack, item.id)] == ["reply", "reply"]  # typing is not an action


async def _history(stack: ChatStack, item_id: str) -> list[dict]:
    async with stack.http.get(f"{stack.ingress.url}/v1/izonie/work-items/{item_id}",
                              headers={"Authorization": f"Bearer {API_TOKEN}"}) as answer:
        assert answer.status == 200
        return (await answer.json())["history"]


async def test_typing_is_refused_where_nobody_can_see_it(stack: ChatStack) -> None:
    assert (await agent_types(stack, "wi_nope"))[0] == 404
    session = await stack.open_session()
    assert (await stack.send(session["token"], "Do you ship order IZ-77300 to Abuja?"))[0] == 202
    item = await stack.item_of(session["session_id"])
    status, answer = await agent_types(stack, item.id, text="hi")
    assert status == 422 and answer["fields"][0]["field"] == "text"
    status, answer = await agent_types(stack, item.id)
    assert status == 202 and answer["visitor_connected"] is False  # nobody connected: pushed to no one
    message = {"provider_message_id": f"crm-{uuid.uuid4().hex[:6]}", "conversation_key": "crm-typing",
               "text": "Order IZ-77301 was charged twice", "sender": {"platform_id": "crm-user-9"},
               "addressed_to": [{"kind": "api", "value": "crm"}]}
    async with stack.http.post(f"{stack.ingress.url}/v1/izonie/messages", json=message,
                               headers={"Authorization": f"Bearer {API_TOKEN}"}) as answer:
        assert answer.status == 202, await answer.text()
    api_item = await eventually(lambda: _first_item(stack, "crm-typing"))
    status, answer = await agent_types(stack, api_item.id)
    assert status == 422 and "live chat only" in answer["error"]
    assert await stack.store.end(session["session_id"], "closed by the test", datetime.now(UTC)) > 0
    status, answer = await agent_types(stack, item.id)
    assert status == 409 and "ended" in answer["error"]


async def test_the_openapi_document_lists_the_typing_kind(stack: ChatStack) -> None:
    async with stack.http.get(f"{stack.ingress.url}/openapi.json") as answer:
        doc = await answer.json()
    body = doc["paths"]["/v1/{tenant}/work-items/{item_id}/actions"]["post"]["requestBody"]
    refs = [one["$ref"] for one in body["content"]["application/json"]["schema"]["oneOf"]]
    assert refs == ["#/components/schemas/ActionRequest", "#/components/schemas/TypingRequest"]
    assert doc["components"]["schemas"]["TypingRequest"]["properties"]["kind"]["const"] == "typing"


async def _first_item(stack: ChatStack, conversation_key: str):
    return next((i for i in await stack.queue.list_open("izonie") if i.conversation_key == conversation_key), None)


# last: it spends this address's session budget
async def test_too_many_sessions_from_one_address_are_refused(stack: ChatStack) -> None:
    statuses = [(await _session_status(stack)) for _ in range(31)]
    assert statuses[-1] == 429 and set(statuses) <= {201, 429}


async def _session_status(stack: ChatStack) -> int:
    async with stack.http.post(stack.url("sessions"), json={}, headers={"Origin": IZONIE}) as answer:
        return answer.status
