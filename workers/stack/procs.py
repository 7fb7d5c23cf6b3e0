"""Child processes that die with us: own process group, parent-death signal, ready line, signal-then-kill stop."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from contracts.errors import OmnirouteError

_PR_SET_PDEATHSIG = 1


class ChildStartError(OmnirouteError, RuntimeError):
    """A child exited or stayed silent before printing its ready line."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the child may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _death_signal_hook(sig: signal.Signals):
    """preexec_fn: ask Linux to send `sig` to the child when the spawning thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died between fork and prctl
            os.kill(os.getpid(), int(sig))

    return hook


def spawn(
    argv: Sequence[str | os.PathLike[str]],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    death_signal: signal.Signals = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session with stdout+stderr appended to `log_path`.

    PDEATHSIG fires when the *thread* that forked dies, so call this from a long-lived thread
    (the event loop's), never from a short-lived executor thread.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [os.fspath(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=_death_signal_hook(death_signal),
        )


def tail(log_path: Path, lines: int = 15, start: int = 0) -> str:
    """The last `lines` lines of the log written after byte offset `start`."""
    try:
        with open(log_path, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


async def wait_ready(
    proc: subprocess.Popen[bytes], log_path: Path, marker: str, *, timeout: float, start: int = 0, name: str = "child"
) -> None:
    """Return once `marker` appears in the log after offset `start`; raise ChildStartError on exit or timeout."""
    needle = marker.encode()
    deadline = time.monotonic() + timeout
    seen = b""
    with open(log_path, "rb") as f:
        f.seek(start)
        while True:
            seen = (seen + f.read())[-64_000:]
            if needle in seen:
                return
            rc = proc.poll()
            if rc is not None:
                raise ChildStartError(
                    f"{name} (pid {proc.pid}) exited with rc={rc} before printing {marker!r}; "
                    f"log {log_path}:\n{tail(log_path, start=start)}"
                )
            if time.monotonic() > deadline:
                raise ChildStartError(
                    f"{name} (pid {proc.pid}) did not print {marker!r} within {timeout:.1f}s; "
                    f"log {log_path}:\n{tail(log_path, start=start)}"
                )
            await asyncio.sleep(0.01)


def pid_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def group_alive(pgid: int) -> bool:
    """True if any process is left in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


async def stop_process(
    proc: subprocess.Popen[bytes], *, sig: signal.Signals = signal.SIGTERM, timeout: float = 5.0
) -> int | None:
    """Send `sig` to the child's group, SIGKILL it after `timeout`; reap it. Returns the exit code."""
    pgid = proc.pid  # start_new_session made the child its group leader
    if proc.poll() is None:
        _signal_group(pgid, sig)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            _signal_group(pgid, signal.SIGKILL)
            while proc.poll() is None:
                await asyncio.sleep(0.01)
    if group_alive(pgid):  # grandchildren the leader left behind
        _signal_group(pgid, signal.SIGKILL)
    return proc.returncode
