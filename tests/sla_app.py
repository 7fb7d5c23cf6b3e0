"""The SLA agent and timer alone on a faust App of their own, for tests that drive the SLA processor directly."""

from __future__ import annotations

import asyncio

from workers.processors import create_faust_app
from workers.runtime.sla_agent import register_sla
from workers.runtime.sla_processor import SlaProcessor


async def serve_sla(bootstrap: str, processor: SlaProcessor, group: str, stop: asyncio.Event) -> None:
    """Run until `stop` is set (or cancelled); the App stops in either case, shielded from a second cancel."""
    app = create_faust_app(bootstrap, app_id=group, session_timeout_s=6.0)
    register_sla(app, processor, tick_every_s=0.1)
    await app.start()
    try:
        await stop.wait()
    finally:
        await asyncio.shield(app.stop())  # an App cancelled inside stop() leaves its consumer thread running
