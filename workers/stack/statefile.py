"""A small JSON file describing the running dev stack, so other commands can find (or refuse to double-start) it."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.errors import OmnirouteError
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
    """The recorded state if the stack that wrote it still runs, else None (a stale file is ignored).

    A stack holds the lock of `claim` for its life, so the lock says whether it runs; a file written without one
    (by hand, or by a stack from before the lock) falls back to whether its supervisor pid is alive.
    """
    state = read(path)
    if state is None:
        return None
    held = _lock_held(path)
    if held is None:
        return state if pid_alive(state.supervisor_pid) else None
    return state if held else None


class StackRunning(OmnirouteError):
    """Another dev stack holds the state file; the message names it."""


@contextmanager
def claim(path: Path) -> Iterator[None]:
    """Hold the state file's lock for the stack's life, or raise StackRunning naming the stack that holds it.

    Enter it before starting anything (the broker, clearing the Redis namespace): the check and the claim are one
    atomic step, so of two starts at once exactly one goes on, even before either has written its state file.
    The kernel drops the lock when the process ends, however it ends, so a stale file never blocks a start and
    a reused pid never looks like a running stack. On exit the state file is removed, still under the lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if not _try_lock(fd):
            raise StackRunning(_holder(path, fd))
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)  # names us while we start, before the state file exists
        try:
            yield
        finally:
            remove(path)
    finally:
        os.close(fd)  # releases the lock


def _lock_path(path: Path) -> Path:
    # a sibling, not the state file itself: `write` replaces that file, and a lock on the old inode would be lost
    return path.with_name(path.name + ".lock")


def _try_lock(fd: int, attempts: int = 10) -> bool:
    # a reader's probe (`_lock_held`) holds a shared lock for an instant: only a lock that stays held is a stack
    for attempt in range(attempts):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < attempts:
                time.sleep(0.02)
    return False


def _lock_held(path: Path) -> bool | None:
    """Whether a stack holds the lock now; None when no stack ever took it here."""
    try:
        fd = os.open(_lock_path(path), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _holder(path: Path, fd: int) -> str:
    """The refusal, naming the stack that holds the lock (its state, once it has written it)."""
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    pid = int(text) if text.isdigit() else None
    state = read(path)
    if state is None or (pid is not None and state.supervisor_pid != pid):
        return (f"another `omniroute dev` is starting (pid {pid or 'unknown'}, state file {path}); "
                "wait for its ready line, or stop it with Ctrl-C in its terminal first")
    where = ", ".join(f"{k} {v}" for k, v in (("kafka", state.bootstrap), ("http", state.http_url),
                                               ("redis prefix", state.redis_prefix)) if v)
    return (f"a dev stack is already running (pid {state.supervisor_pid}, {where}, started "
            f"{state.started_at.isoformat(timespec='seconds')}; state file {path}); "
            "stop it with Ctrl-C in its terminal first")


def remove(path: Path) -> None:
    """Delete the state file; a missing one is fine."""
    Path(path).unlink(missing_ok=True)
