"""The gate every sink's callback passes first: the tenant has such a sink, its secret is set, the body is signed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from aiohttp import web

from workers.runtime.auth import json_response


class SignedSink(Protocol):
    signing_secret: str | None
    signing_secret_env: str


Verify = Callable[[str, bytes, Mapping[str, str], float], str | None]  # secret, body, headers, now -> problem


async def signed_body(request: web.Request, sinks: Sequence[SignedSink], verify: Verify, now: float, *,
                      missing_sink: str, no_secret: str) -> bytes | web.Response:
    """The request's body when one of `sinks`' secrets signed it, else the answer: 404 (no such sink, saying
    `missing_sink`), 503 (no secret set: `no_secret` with `{missing}` the variables), 401 (the first signature
    problem)."""
    if not sinks:
        return json_response(404, {"error": missing_sink})
    secrets = [s.signing_secret for s in sinks if s.signing_secret]
    if not secrets:
        missing = sorted({s.signing_secret_env for s in sinks})
        return json_response(503, {"error": no_secret.format(missing=" or ".join(missing))})
    body = await request.read()
    problems = [verify(secret, body, request.headers, now) for secret in secrets]
    if all(problems):
        return json_response(401, {"error": problems[0]})
    return body
