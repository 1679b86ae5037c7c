"""A Faust worker whose stop ends the process within a deadline, whatever the broker's state.

Faust stops a worker by committing offsets and flushing its producer. With the
broker gone, those calls retry for ever: measured here, a worker whose broker
was killed crashed into its stop, then logged "Failed fetch offsets" ten times
a second and ignored every later SIGTERM and SIGINT (mode schedules one stop and
waits for it). So the first step of any stop (a signal, or a crash) starts a
clock; a stop still running when it runs out ends the process at once. What it
had not committed is read again by the next worker (at-least-once), as after a
kill -9.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import faust

from pipeline.worker_process import STOP_DEADLINE_S

EXIT_STOP_OVERRAN = 70
"""The exit status of a worker that did not stop in time (``EX_SOFTWARE``)."""

log = logging.getLogger(__name__)


class BoundedStopWorker(faust.Worker):
    """A ``faust.Worker`` that exits within ``stop_deadline_s`` of starting to stop."""

    def __init__(self, *args: Any, stop_deadline_s: float = STOP_DEADLINE_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = threading.Timer(stop_deadline_s, self._overran)
        self._deadline.daemon = True

    async def on_stop(self) -> None:
        """Start the clock: this runs first in every stop, on a signal or on a crash."""
        if not self._deadline.is_alive():
            self._deadline.start()
        await super().on_stop()

    def _overran(self) -> None:
        log.error(
            "the worker did not stop within %.1f s (broker unreachable?); exiting without "
            "finishing its flush and commit: the next worker reads again what was not committed",
            self._deadline.interval,
        )
        os._exit(EXIT_STOP_OVERRAN)
