"""Readiness: what a process needs answers within a bound, and every worker it hosts reports itself healthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from workers.runtime.health import DependencyHealth

PROBE_TIMEOUT_S = 0.8  # under Kubernetes' default 1 s probe timeout: a slow answer is a failed probe either way
CACHE_S = 1.0  # probes at most once a second, however many load balancers ask


class HasHealth(Protocol):
    def health(self) -> dict[str, DependencyHealth]: ...


@dataclass(frozen=True)
class Dependency:
    """A server the process uses; `probe` raises (or outlasts the bound) when it does not answer."""

    name: str
    probe: Callable[[], Awaitable[object]]
    required: bool = True  # False: its failure degrades the process but leaves it ready
    without: str = ""  # what the process does without it, said in the report


@dataclass(frozen=True)
class Finding:
    ok: bool
    required: bool
    error: str | None = None
    since: datetime | None = None
    without: str = ""

    def as_json(self) -> dict:
        found: dict = {"ok": self.ok, "required": self.required}
        if not self.ok:
            found |= {"error": self.error, "failing_since": self.since.isoformat() if self.since else None}
            if self.without:
                found["meanwhile"] = self.without
        return found


@dataclass(frozen=True)
class ReadyReport:
    status: str  # ready | degraded (still ready) | starting | unavailable
    findings: dict[str, Finding]

    @property
    def ready(self) -> bool:
        return self.status in ("ready", "degraded")

    def as_json(self) -> dict:
        return {"status": self.status, "ready": self.ready,
                "dependencies": {name: f.as_json() for name, f in sorted(self.findings.items())}}


class Readiness:
    """Probes the dependencies (cached for a second, one probe round at a time) and reads the workers' health."""

    def __init__(self, dependencies: Sequence[Dependency] = (), *, workers: Mapping[str, HasHealth] | None = None,
                 started: Callable[[], bool] = lambda: True, timeout_s: float = PROBE_TIMEOUT_S,
                 cache_s: float = CACHE_S) -> None:
        self.dependencies, self.workers, self.started = list(dependencies), dict(workers or {}), started
        self.timeout_s, self.cache_s = timeout_s, cache_s
        self._since: dict[str, datetime] = {}
        self._probed: tuple[float, dict[str, Finding]] | None = None
        self._probing: asyncio.Task | None = None

    async def report(self) -> ReadyReport:
        findings = await self._probe_all() | self._worker_findings()
        return ReadyReport(_status(self.started(), findings), findings)

    async def _probe_all(self) -> dict[str, Finding]:
        if self._probed is not None and time.monotonic() - self._probed[0] < self.cache_s:
            return self._probed[1]
        if self._probing is None or self._probing.done():
            self._probing = asyncio.create_task(self._round())
        findings = await asyncio.shield(self._probing)
        self._probed = (time.monotonic(), findings)
        return findings

    async def _round(self) -> dict[str, Finding]:
        results = await asyncio.gather(*(self._probe(d) for d in self.dependencies))
        return {d.name: f for d, f in zip(self.dependencies, results)}

    async def _probe(self, dependency: Dependency) -> Finding:
        try:
            await asyncio.wait_for(dependency.probe(), self.timeout_s)
        except TimeoutError:
            return self._failing(dependency, f"no answer within {self.timeout_s:g} s")
        except Exception as exc:  # noqa: BLE001 - any failure to answer is the finding, reported with its type
            return self._failing(dependency, f"{type(exc).__name__}: {exc}"[:300])
        self._since.pop(dependency.name, None)
        return Finding(ok=True, required=dependency.required)

    def _failing(self, dependency: Dependency, error: str) -> Finding:
        since = self._since.setdefault(dependency.name, datetime.now(UTC))
        return Finding(ok=False, required=dependency.required, error=error, since=since,
                       without=dependency.without)

    def _worker_findings(self) -> dict[str, Finding]:
        return {f"{name}.{dependency}": Finding(ok=h.ok, required=True, error=h.error, since=h.failing_since)
                for name, worker in self.workers.items() for dependency, h in worker.health().items()}


def _status(started: bool, findings: Mapping[str, Finding]) -> str:
    if any(not f.ok and f.required for f in findings.values()):
        return "unavailable"
    if not started:
        return "starting"
    return "degraded" if any(not f.ok for f in findings.values()) else "ready"
