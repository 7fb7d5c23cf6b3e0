"""The Slack interactivity endpoint's refusals that need no broker (no sink, no signing secret, a forged or
malformed request), the Slack-user-to-agent mapping, and its place in the OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from redis.asyncio import Redis
from slack_fake import click, signed_interaction, slack_signature

from channels.sinks.redis_queue import RedisWorkQueue
from workers.runtime.openapi import document
from workers.runtime.slack_interactivity import PATH, SlackDeps, add_slack_routes, agent_for
from workers.runtime.take_action import ActionChecks
from workers.sink_files import load_sinks

SIGNING = uuid.uuid4().hex


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def sinks(tmp_path: Path, env: dict[str, str]):
    (tmp_path / "izonie.yaml").write_text(
        "sinks:\n  - {name: slack, kind: slack, channels: {'*': C0IZ}, agents: {U0ANN: ann}}\n")
    return load_sinks(tmp_path, ["izonie", "conek"], env)


def test_a_slack_user_acts_as_the_agent_the_sink_file_maps_or_as_slack_id(tmp_path: Path) -> None:
    found = sinks(tmp_path, {"IZONIE_SLACK_BOT_TOKEN": "xoxb-1"})
    assert agent_for(found, "izonie", "U0ANN") == "ann"
    assert agent_for(found, "izonie", "U0ZED") == "slack:U0ZED"
    assert agent_for(found, "conek", "U0ANN") == "slack:U0ANN"  # another tenant's map does not apply


def test_the_openapi_document_lists_the_interactivity_endpoint() -> None:
    path = document()["paths"][PATH]["post"]
    assert path["security"] == [] and {"200", "401", "503"} <= set(path["responses"])


@pytest_asyncio.fixture
async def endpoint(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[aiohttp.ClientSession, dict[str, str]]]:
    """The endpoint alone (no producer: nothing here may reach the action path) for two variants of Izonie."""
    redis, session = Redis.from_url(redis_url), aiohttp.ClientSession()
    queue = RedisWorkQueue(redis, prefix=f"omniroute-test-{uuid.uuid4().hex[:8]}")
    runners, urls = [], {}
    for name, env in {"signed": {"IZONIE_SLACK_BOT_TOKEN": "xoxb-1", "IZONIE_SLACK_SIGNING_SECRET": SIGNING},
                      "unsigned": {"IZONIE_SLACK_BOT_TOKEN": "xoxb-1"}}.items():
        app = web.Application()
        add_slack_routes(app, SlackDeps(None, ActionChecks(queue, {}), sinks(tmp_path, env), WallClock(), session))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        urls[name] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001
    try:
        yield session, urls
    finally:
        for runner in runners:
            await runner.cleanup()
        await session.close()
        await redis.aclose()


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict) -> tuple[int, dict | str]:
    async with session.post(url, data=body, headers=headers) as answer:
        text = await answer.text()
        return answer.status, (await answer.json() if answer.content_type == "application/json" else text)


@pytest.mark.asyncio
async def test_refusals_before_any_action_is_taken(endpoint) -> None:
    session, urls = endpoint
    body, headers = signed_interaction(SIGNING, click("wi-1", "U0ANN"))
    status, answer = await _post(session, urls["unsigned"] + "/slack/izonie/interactivity", body, headers)
    assert status == 503 and "IZONIE_SLACK_SIGNING_SECRET" in answer["error"]
    status, answer = await _post(session, urls["signed"] + "/slack/conek/interactivity", body, headers)
    assert status == 404 and "deploy/sinks/conek.yaml" in answer["error"]
    status, answer = await _post(session, urls["signed"] + "/slack/izonie/interactivity", body, {})
    assert status == 401 and "missing" in answer["error"]
    forged, forged_headers = signed_interaction("guessed", click("wi-1", "U0ANN"))
    status, answer = await _post(session, urls["signed"] + "/slack/izonie/interactivity", forged, forged_headers)
    assert status == 401 and "does not match" in answer["error"]
    junk, ts = b"hello=1", str(int(datetime.now(UTC).timestamp()))
    junk_headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(SIGNING, ts, junk)}
    status, answer = await _post(session, urls["signed"] + "/slack/izonie/interactivity", junk, junk_headers)
    assert status == 400 and "payload" in answer["error"]
    other, other_headers = signed_interaction(SIGNING, {"type": "view_submission", "user": {"id": "U0ANN"}})
    assert await _post(session, urls["signed"] + "/slack/izonie/interactivity", other, other_headers) == (200, "")

