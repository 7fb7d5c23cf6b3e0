"""Bearer-token check shared by the HTTP endpoints, and the JSON responses they answer with."""

from __future__ import annotations

import hmac

import orjson
from aiohttp import web

TOKEN_VARIABLE = "OMNIROUTE_API_TOKEN"


def json_response(status: int, body: dict) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def refuse_unauthorised(request: web.Request, api_token: str | None) -> web.Response | None:
    """A 503 while no token is configured, a 401 for a missing or wrong one, else None."""
    if not api_token:
        return json_response(503, {"error": f"the API channel is disabled: set {TOKEN_VARIABLE}"})
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), api_token.encode()):
        return json_response(401, {"error": "missing or wrong bearer token"})
    return None
