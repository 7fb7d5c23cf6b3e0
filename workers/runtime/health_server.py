"""GET /healthz, /readyz and /metrics for the worker roles (the ingress serves the same paths on its own port)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from workers.runtime.readiness import Readiness


def metrics_body(registries: Sequence[CollectorRegistry]) -> bytes:
    """The process-wide registry (decisions, process and GC figures) followed by each role's own."""
    return b"".join(generate_latest(r) for r in (REGISTRY, *registries))


def health_app(*, alive: Callable[[], bool], readiness: Readiness,
               registries: Sequence[CollectorRegistry] = ()) -> web.Application:
    """Liveness: the role's task still runs. Readiness: it has started (holds partitions), Kafka and Redis answer,
    and its worker reports no failing dependency (`workers.runtime.readiness`)."""
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok" if alive() else "stopped"}, status=200 if alive() else 503)

    async def readyz(_: web.Request) -> web.Response:
        report = await readiness.report()
        return web.json_response(report.as_json(), status=200 if report.ready else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=metrics_body(registries), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health_server(stack: AsyncExitStack, *, host: str, port: int, alive: Callable[[], bool],
                              readiness: Readiness, registries: Sequence[CollectorRegistry] = ()) -> str:
    """Serve the three paths until `stack` closes; returns the base URL (port 0 picks a free one)."""
    runner = web.AppRunner(health_app(alive=alive, readiness=readiness, registries=registries), access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the port actually bound
    return f"http://{host}:{bound}"
