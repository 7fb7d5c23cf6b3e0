"""The chat widget in a real browser: Debian's chromium, driven by Playwright, against the whole stack.

The demo page loads the widget; a visitor types a message, sees it acknowledged, the message becomes a work item,
and an agent's reply (with markup in it) appears in the widget as text; then the agent's `typing` shows. A
screenshot is kept in `.artifacts/`.
Where chromium is missing the test skips, except under CI (`CI` set), where .ci/run installs it: there it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from chat_stack import API_TOKEN, ChatStack, chat_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")
CHROMIUM = os.environ.get("OMNIROUTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"


def _browser_or_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    reason = _browser_or_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(chromium: str, tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[ChatStack]:
    async with chat_stack(tmp_path_factory.mktemp("browser-broker"), redis_url, chat_demo=True) as running:
        yield running


async def test_a_visitor_chats_in_the_widget_and_sees_the_agents_reply(stack: ChatStack, chromium: str) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, headless=True,
                                          args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(stack.url(""))
            status = page.locator("[data-role=status]")
            await expect(status).to_contain_text("We're o")  # online or offline, from the tenant's calendar
            await expect(page.locator("[data-role=hours] li").first).to_have_text("Mon–Sat 08:00–20:00")

            await page.locator("[data-role=input]").fill("Hello, where is my order IZ-55501? It is two days late.")
            await page.locator("[data-role=send]").click()
            await expect(page.locator(".msg.visitor[data-state=sent]")).to_have_count(1, timeout=30_000)

            session_id = await page.evaluate(
                "JSON.parse(sessionStorage.getItem('omniroute-chat:izonie')).session.session_id")
            item = await stack.item_of(session_id)
            reply = 'Hi! <img src=x onerror="window.__pwned=1"><b>Your parcel</b> ships today.'
            await stack.agent_replies(item.id, reply)
            agent = page.locator(".msg.agent .text")
            await expect(agent).to_have_text(reply, timeout=30_000)
            assert await page.locator(".msg.agent img, .msg.agent b").count() == 0  # text, never markup
            assert await page.evaluate("window.__pwned === undefined")
            assert errors == []
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "chat-widget.png"))

            typing = page.locator(".typing")
            await expect(typing).to_be_hidden()  # the reply cleared it
            async with stack.http.post(f"{stack.ingress.url}/v1/izonie/work-items/{item.id}/actions",
                                       json={"kind": "typing", "agent_id": "a1"},
                                       headers={"Authorization": f"Bearer {API_TOKEN}"}) as answer:
                assert answer.status == 202 and (await answer.json())["visitor_connected"] is True
            await expect(typing).to_be_visible(timeout=30_000)
            await expect(typing).to_have_text("An agent is typing\u2026")
        finally:
            await browser.close()
