"""Alerts waiting to be pushed to one Alertmanager, and the backoff between failed pushes (pure).

Alertmanager keeps the newest alert per label set, so the outbox does too: an alert
replaces a waiting one with the same labels (a re-push during an outage does not pile up
copies). It is bounded; when full, the oldest waiting alerts are dropped and counted.
Nothing is lost for good by that: an open warning comes back with the next re-push, and
a dropped *end* is made up for by the alert's own ``endsAt`` (four re-push intervals).

A push takes a batch with :meth:`Outbox.peek` and, once Alertmanager took it,
:meth:`Outbox.remove` removes those alerts unless a newer one replaced them meanwhile;
a failed push leaves everything where it was, to be tried again after :func:`backoff`.

>>> from datetime import UTC, datetime
>>> from pipeline.alerting.alerts import Alert
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> def alert(n: int, tier: str = "II") -> Alert:
...     return Alert({"warning_id": f"w{n}", "tier": tier}, {}, at, at, "")
>>> box = Outbox(capacity=2)
>>> box.put([alert(1), alert(2), alert(1)]), len(box)   # w1 again replaces the waiting w1
(0, 2)
>>> box.put([alert(3)])                                  # full: the oldest waiting (w2) goes
1
>>> [a.labels["warning_id"] for a in box.peek(10)]
['w1', 'w3']
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from pipeline.alerting.alerts import Alert, Identity

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed pushes in a row: 0.5 s doubling up to 30 s.

    >>> [backoff(n) for n in (1, 2, 3, 7, 50)]
    [0.5, 1.0, 2.0, 30.0, 30.0]
    """
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** min(max(failures - 1, 0), 16))


class Outbox:
    """At most ``capacity`` alerts, the newest per label set, oldest first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("an outbox holds at least one alert")
        self._capacity = capacity
        self._waiting: dict[Identity, Alert] = {}
        """Insertion-ordered: the first key is the alert waiting longest."""

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, alerts: Iterable[Alert]) -> int:
        """Queue ``alerts`` (each replacing a waiting one with its labels); return how many of the
        oldest waiting alerts were dropped to stay within the capacity."""
        for alert in alerts:
            self._waiting.pop(alert.identity, None)
            self._waiting[alert.identity] = alert
        dropped = max(0, len(self._waiting) - self._capacity)
        for identity in list(islice(self._waiting, dropped)):
            del self._waiting[identity]
        return dropped

    def peek(self, limit: int) -> list[Alert]:
        """The ``limit`` alerts waiting longest, left in the outbox."""
        return list(islice(self._waiting.values(), limit))

    def remove(self, delivered: Iterable[Alert]) -> None:
        """Forget alerts Alertmanager took, except those replaced by a newer one since."""
        for alert in delivered:
            if self._waiting.get(alert.identity) is alert:
                del self._waiting[alert.identity]
