"""What every authenticated HTTP endpoint checks first (token, tenant, a JSON object body) and how it answers."""

from __future__ import annotations

import hmac

import orjson
from aiohttp import web
from pydantic import ValidationError

TOKEN_VARIABLE = "OMNIROUTE_API_TOKEN"


def json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json", headers=headers)


def refuse_unauthorised(request: web.Request, api_token: str | None) -> web.Response | None:
    """A 503 while no token is configured, a 401 for a missing or wrong one, else None."""
    if not api_token:
        return json_response(503, {"error": f"the API channel is disabled: set {TOKEN_VARIABLE}"})
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), api_token.encode()):
        return json_response(401, {"error": "missing or wrong bearer token"})
    return None


async def tenant_and_object(request: web.Request, tenants: set[str],
                            api_token: str | None) -> tuple[str, dict] | web.Response:
    """(tenant, body) for an authorised request on a known tenant with a JSON object body, else the refusal."""
    refused = refuse_unauthorised(request, api_token)
    if refused is not None:
        return refused
    tenant = request.match_info["tenant"]
    if tenant not in tenants:
        return json_response(404, {"error": f"unknown tenant {tenant!r}", "known": sorted(tenants)})
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        return json_response(400, {"error": f"body is not JSON: {exc}"})
    if not isinstance(data, dict):
        return json_response(422, {"error": "body must be a JSON object", "fields": []})
    return tenant, data


def invalid(what: str, exc: ValidationError) -> web.Response:
    """422 naming every field that is wrong."""
    fields = [{"field": ".".join(map(str, e["loc"])) or "body", "error": e["msg"]} for e in exc.errors(include_url=False)]
    return json_response(422, {"error": f"not a valid {what}", "fields": fields})
