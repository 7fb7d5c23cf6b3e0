"""What every authenticated HTTP endpoint checks first (token, tenant, a JSON object body) and how it answers."""

from __future__ import annotations

import orjson
from aiohttp import web
from pydantic import ValidationError

from workers.runtime.tokens import ALL_TENANTS, Authoriser, Principal

TOKEN_VARIABLE = "OMNIROUTE_API_TOKEN"


def json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json", headers=headers)


def as_authoriser(auth: Authoriser | str | None) -> Authoriser:
    """A bare token (the operator's OMNIROUTE_API_TOKEN) or None reads as an Authoriser without a token store."""
    return auth if isinstance(auth, Authoriser) else Authoriser(auth)


async def authorise(request: web.Request, tenants: set[str],
                    auth: Authoriser | str | None) -> tuple[str, Principal] | web.Response:
    """(tenant, principal) for a known token on a tenant it reaches; else 503 (no credentials), 401, 404 or 403."""
    auth = as_authoriser(auth)
    if not auth.enabled:
        return json_response(503, {"error": f"the API is disabled: set {TOKEN_VARIABLE} or create tokens with "
                                            "`omniroute tokens create`"})
    principal = await auth.principal(request.headers.get("Authorization", ""))
    if principal is None:
        return json_response(401, {"error": "missing or wrong bearer token"})
    tenant = request.match_info["tenant"]
    if tenant not in tenants:
        return json_response(404, {"error": f"unknown tenant {tenant!r}",
                                   "known": sorted(tenants) if principal.tenant == ALL_TENANTS else []})
    if not principal.reaches(tenant):
        return json_response(403, {"error": f"this token is for tenant {principal.tenant!r}, not {tenant!r}"})
    return tenant, principal


async def json_object(request: web.Request) -> dict | web.Response:
    """The body as a JSON object, else 400 (not JSON) or 422 (not an object)."""
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        return json_response(400, {"error": f"body is not JSON: {exc}"})
    if not isinstance(data, dict):
        return json_response(422, {"error": "body must be a JSON object", "fields": []})
    return data


def invalid(what: str, exc: ValidationError) -> web.Response:
    """422 naming every field that is wrong."""
    fields = [{"field": ".".join(map(str, e["loc"])) or "body", "error": e["msg"]} for e in exc.errors(include_url=False)]
    return json_response(422, {"error": f"not a valid {what}", "fields": fields})
