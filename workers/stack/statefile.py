"""A small JSON file describing the running dev stack, so other commands can find (or refuse to double-start) it."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workers.stack.procs import pid_alive


class StackState(BaseModel):
    """Where the dev stack's services listen and which processes make it up."""

    model_config = ConfigDict(frozen=True)

    bootstrap: str
    redis_url: str
    redis_prefix: str = "omniroute"
    http_url: str | None = None
    supervisor_pid: int = Field(default_factory=os.getpid)
    pids: dict[str, int] = Field(default_factory=dict)  # role -> pid, e.g. {"broker": 123, "redis": 456}
    started_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


def write(path: Path, state: StackState) -> None:
    """Write `state` atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(state.model_dump_json(indent=2))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> StackState | None:
    """The recorded state, or None if the file is missing or unreadable."""
    try:
        return StackState.model_validate_json(Path(path).read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def read_live(path: Path) -> StackState | None:
    """The recorded state if its supervisor process is still alive, else None (a stale file is ignored)."""
    state = read(path)
    if state is None or not pid_alive(state.supervisor_pid):
        return None
    return state


def remove(path: Path) -> None:
    """Delete the state file; a missing one is fine."""
    Path(path).unlink(missing_ok=True)
