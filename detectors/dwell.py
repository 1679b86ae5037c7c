"""A dwell that counts readings and time, whichever is longer: the same rule at any sampling rate.

A rule that counts only readings ("2 of the last 3") lasts 2 seconds on a 1 Hz
series and 2 hours on an hourly one; a rule that counts only time ("5 minutes")
is one reading on an hourly series and 300 on a 1 Hz one. :class:`Dwell` asks
for both, so a short blip on a fast series and a single reading of a slow one
are both too little.

A run's time is counted from the last reading *before* it (the reading of the
other kind): the change happened somewhere after that reading, and a series
read once a minute then needs exactly one minute for a one-minute dwell, not
two readings.

>>> from datetime import UTC, datetime, timedelta
>>> rule, t0 = Dwell(readings=5, seconds=300), datetime(2026, 1, 1, tzinfo=UTC)
>>> rule.met(5, t0, t0 + timedelta(seconds=5))  # 5 readings at 1 s: too short
False
>>> rule.met(5, t0, t0 + timedelta(minutes=5))  # 5 readings at 1 min: both hold
True
>>> rule.met(1, t0, t0 + timedelta(hours=1))  # 1 reading at 1 h: too few
False
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Dwell:
    """At least ``readings`` readings and at least ``seconds`` of event time."""

    readings: int
    seconds: float

    def met(self, count: int, since: datetime | None, at: datetime | None) -> bool:
        """Whether a run of ``count`` readings, counted from ``since`` to ``at``, is long enough.

        Without event times (``since`` or ``at`` is None) only the readings count.
        """
        if count < self.readings:
            return False
        if since is None or at is None:
            return True
        return (at - since).total_seconds() >= self.seconds

    def parameters(self) -> dict[str, float]:
        """The rule as JSON-serialisable values."""
        return {"readings": self.readings, "seconds": self.seconds}
