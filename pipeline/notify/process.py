"""Run ``riskwatch notify`` as a child process and wait until it has joined its group.

For launchers and the integration tests, which so run the real command with its
real configuration path; it starts and stops like a worker process.
"""

from __future__ import annotations

import urllib.request

from pipeline.worker_process import WorkerProcess


class NotifyProcess(WorkerProcess):
    """``python -m pipeline notify`` with the given settings, its output in ``log_file``."""

    command = "notify"
    stop_timeout_s = 5.0

    @property
    def metrics_url(self) -> str:
        """``GET /metrics`` of the process."""
        return f"http://{self.settings.notify.host}:{self.settings.notify.port}/metrics"

    def metrics(self) -> str:
        """The metrics text ('' while it cannot be had)."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=1) as response:
                return str(response.read().decode())
        except OSError:
            return ""

    def is_ready(self) -> bool:
        """True once ``riskwatch_notify_ready`` is 1: state read, group joined."""
        return "riskwatch_notify_ready 1.0" in self.metrics()
