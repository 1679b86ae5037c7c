"""Run a riskwatch worker as a child process and wait until it is ready.

Used by ``riskwatch demo`` and by the integration tests, so both exercise the
real ``riskwatch worker`` command with its real configuration path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipeline.config import Settings
from pipeline.processes import ManagedProcess

STOP_DEADLINE_S = 6.0
"""How long a stopping worker may take before it exits regardless (see
:mod:`pipeline.worker.worker_shutdown`). An idle worker stops in ~1.7 s with its broker
up; ``riskwatch demo`` must be gone within 10 s of Ctrl-C."""


class WorkerStartError(RuntimeError):
    """The worker exited or did not become ready; the message quotes its log."""


def settings_environment(settings: Settings) -> dict[str, str]:
    """The ``RISKWATCH_*`` variables that reproduce ``settings`` in another process."""
    values = json.loads(settings.model_dump_json(context={"reveal_secrets": True}))
    if settings.state_key is not None:
        values["state_key"] = settings.state_key.get_secret_value()
    return {
        f"RISKWATCH_{name.upper()}": json.dumps(value) if isinstance(value, dict | list) else str(value)
        for name, value in values.items()
        if value is not None
    }


class WorkerProcess(ManagedProcess):
    """``python -m pipeline worker`` with the given settings, its output in ``log_file``."""

    stop_timeout_s = STOP_DEADLINE_S + 2.0
    """A worker commits and flushes on SIGTERM, and exits by itself after
    :data:`STOP_DEADLINE_S`: SIGKILL only one that is stuck even then."""
    log_file: Path
    command = "worker"
    """The ``riskwatch`` subcommand run (``riskwatch notify`` is started the same way)."""

    def __init__(self, settings: Settings, log_file: Path) -> None:
        self.settings = settings
        self.log_file = log_file
        super().__init__()

    @property
    def base_url(self) -> str:
        """The worker's web server, e.g. ``http://127.0.0.1:6066``."""
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The running child process."""
        if self._process is None:
            raise WorkerStartError("the worker is not running")
        return self._process

    def start(self) -> None:
        """Start the worker process."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RISKWATCH_")}
        env.update(settings_environment(self.settings))
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.popen(
                [sys.executable, "-m", "pipeline", self.command],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def is_ready(self) -> bool:
        """True once the worker has joined its group and has its partitions."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/ready", timeout=1) as response:
                return bool(json.load(response).get("ready"))
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def registered_devices(self) -> int:
        """How many devices the worker's registry holds (``/api/devices``); 0 while it cannot say."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/api/devices", timeout=5) as response:
                return len(json.load(response).get("devices", []))
        except (OSError, urllib.error.URLError, ValueError):
            return 0

    def wait_registered(self, count: int, timeout_s: float = 60.0) -> float:
        """Wait until the worker's registry holds ``count`` devices, so readings sent next are judged
        on their sites' lines; return the seconds it took."""
        started = time.monotonic()
        while self.registered_devices() < count:
            if time.monotonic() - started > timeout_s:
                raise WorkerStartError(f"the worker had not read {count} devices after {timeout_s} s")
            time.sleep(0.1)
        return time.monotonic() - started

    def wait_ready(self, timeout_s: float = 60.0) -> float:
        """Wait until ready; return the seconds it took. Raise with the log's tail if it fails."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise WorkerStartError(
                    f"the worker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.is_ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise WorkerStartError(f"the worker was not ready after {timeout_s} s:\n{self.log_tail()}")
