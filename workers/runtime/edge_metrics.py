"""Counters of what the edge did with each request and message, exported at GET /metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
)


class EdgeMetrics:
    """One registry per ingress, so tests and several apps in one process do not share counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("omniroute_webhook_requests", "Webhook requests by channel and outcome",
                                ["channel", "outcome"], registry=self.registry)
        self.messages = Counter("omniroute_webhook_messages", "Webhook messages by channel and what the edge did",
                                ["channel", "outcome"], registry=self.registry)

    def request(self, channel: str, outcome: str) -> None:
        self.requests.labels(channel, outcome).inc()

    def message(self, channel: str, outcome: str, count: int = 1) -> None:
        if count:
            self.messages.labels(channel, outcome).inc(count)

    def value(self, counter: str, channel: str, outcome: str) -> float:
        """The current count (for tests and the bench)."""
        sample = self.registry.get_sample_value(f"omniroute_webhook_{counter}_total",
                                                {"channel": channel, "outcome": outcome})
        return sample or 0.0

    async def handle(self, _: web.Request) -> web.Response:
        body = generate_latest(self.registry) + generate_latest(REGISTRY)  # + decisions and process figures
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
