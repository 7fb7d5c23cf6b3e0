"""What a worker knows about its dependencies: each one ok, or failing since when and with what error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class DependencyHealth:
    ok: bool
    failing_since: datetime | None = None  # the first failure of the current run of failures
    error: str | None = None  # the last one, "ExcType: message"


class Health:
    """Updated by the worker's retries as they fail and succeed; reading it costs nothing (no I/O)."""

    def __init__(self, *dependencies: str) -> None:
        self._state = {name: DependencyHealth(ok=True) for name in dependencies}

    def ok(self, dependency: str) -> None:
        if not self._state[dependency].ok:
            self._state[dependency] = DependencyHealth(ok=True)

    def failing(self, dependency: str, exc: BaseException) -> None:
        since = self._state[dependency].failing_since or datetime.now(UTC)
        self._state[dependency] = DependencyHealth(ok=False, failing_since=since,
                                                   error=f"{type(exc).__name__}: {exc}"[:500])

    def view(self) -> dict[str, DependencyHealth]:
        return dict(self._state)
