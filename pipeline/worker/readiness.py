"""Whether a worker can do its job now, and why not: what ``/ready`` answers.

A worker is ready once it owns its partitions with their state restored, while
no rebalance is under way, and while its broker answers: a worker that has not
reached its broker for :data:`UNREACHABLE_GRACE_S` is taken out of service
(503 with the reason), so a load balancer or Kubernetes stops counting on it.
Liveness is another question (``/live``): an unreachable broker is no reason
to restart the process.

>>> ticks = iter([0.0, 3.0, 12.0, 13.0])
>>> readiness = Readiness(clock=lambda: next(ticks))
>>> readiness.assigned = True
>>> readiness.broker_checked(False); readiness.reason(rebalancing=False) is None
True
>>> readiness.reason(rebalancing=False)
'the broker has not answered for 12 s'
>>> readiness.broker_checked(True); readiness.reason(rebalancing=False) is None
True
"""

from __future__ import annotations

import time
from collections.abc import Callable

UNREACHABLE_GRACE_S = 10.0
"""How long the broker may stay unreachable (two missed checks) before the worker is not ready."""


class Readiness:
    """The worker's readiness, fed by the assignment and the broker check."""

    def __init__(
        self, grace_s: float = UNREACHABLE_GRACE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._grace_s = grace_s
        self._clock = clock
        self._unreachable_since: float | None = None
        self.assigned = False
        """True once partitions are assigned and their state restored."""

    def broker_checked(self, reachable: bool) -> None:
        """Record the outcome of one broker check."""
        if reachable:
            self._unreachable_since = None
        elif self._unreachable_since is None:
            self._unreachable_since = self._clock()

    @property
    def broker_unreachable(self) -> bool:
        """True since the last broker check failed."""
        return self._unreachable_since is not None

    def reason(self, rebalancing: bool) -> str | None:
        """Why the worker is not ready, or None when it is."""
        if not self.assigned:
            return "partitions not assigned and restored yet"
        if rebalancing:
            return "the consumer group is rebalancing"
        if self._unreachable_since is not None:
            silent_s = self._clock() - self._unreachable_since
            if silent_s >= self._grace_s:
                return f"the broker has not answered for {silent_s:.0f} s"
        return None
