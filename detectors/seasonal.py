"""Forecast residuals for daily seasonality: a time-of-day profile, record-calibrated.

The forecast of a reading is the exponentially weighted mean of past readings
in the same slot of the day (``buckets`` slots, hourly by default); the
residual's spread is learned over all slots. A water level that is always
high at the evening tide, or a footfall counter that is busy at noon, is then
judged against its own hour, not the whole day. The residual z-score is
calibrated like the default detector's (:class:`RecordCalibration`), so the
two can be compared and combined.

Readings without an event time all fall in slot 0 (the model is then an
EWMA level). Measured on NAB (``riskwatch bench detectors``), the profile alone
scores below the multi-scale default, and adding it to the default did not
raise the score (60.8 against 60.9), so it is a family to choose per sensor
type, not part of the default.

>>> from datetime import datetime, timedelta
>>> d = DailyProfile(warmup=48)
>>> t0 = datetime(2024, 1, 1)
>>> for i in range(24 * 20):
...     at = t0 + timedelta(hours=i)
...     d.learn_one(10.0 if at.hour == 18 else 1.0, at)
>>> d.score_one(10.0, t0.replace(hour=18)).p_value > 0.5
True
>>> d.score_one(10.0, t0.replace(hour=3)).surprise > 4
True
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from detectors.base import NO_EVIDENCE_P, Direction, Score
from detectors.calibration import RecordCalibration

_MINUTES_PER_DAY = 24 * 60
_TINY = 1e-12


class DailyProfile:
    """Residual of a time-of-day profile, in the configured direction, record-calibrated.

    Parameters
    ----------
    buckets
        Slots per day (24: hourly; 288: five-minute).
    profile_alpha
        Learning rate of each slot's mean (a slot sees one reading in ``buckets``
        per day at a five-minute rate ... so it is larger than a level's rate).
    alpha
        Learning rate of the residual spread.
    min_spread
        Absolute floor on the residual spread.
    relative_spread
        Floor on the residual spread as a fraction of the slot's level, so a
        series stuck on one value settles instead of alarming on rounding.
    warmup
        Readings before scores leave ``warming_up``.
    direction
        Which deviations count.
    protect_z
        Readings deviating more than this are not learned ...
    max_protected
        ... unless that many in a row were refused in the same slot (the
        pattern really changed).
    memory, quiet_after_alarm, record_floor
        Of the :class:`RecordCalibration`.
    """

    kind: ClassVar[str] = "daily_profile"

    def __init__(
        self,
        *,
        buckets: int = 24,
        profile_alpha: float = 0.05,
        alpha: float = 0.002,
        min_spread: float = 0.0,
        relative_spread: float = 1e-3,
        warmup: int = 288,
        direction: Direction = Direction.BOTH,
        protect_z: float = 4.0,
        max_protected: int = 40,
        memory: int = 10_000,
        quiet_after_alarm: int = 50,
        record_floor: float = 4.0,
    ) -> None:
        self.buckets = buckets
        self.profile_alpha = profile_alpha
        self.alpha = alpha
        self.min_spread = min_spread
        self.relative_spread = relative_spread
        self.warmup = warmup
        self.direction = direction
        self.protect_z = protect_z
        self.max_protected = max_protected
        self._protected_in_row = [0] * buckets
        self.calibration = RecordCalibration(
            memory=memory,
            quiet_after_alarm=quiet_after_alarm,
            floor=record_floor,
            margin=0.05,
            quiet_damping=3.0,
        )
        self._profile = [0.0] * buckets
        self._slot_seen = [0] * buckets
        self._residual_var = 0.0
        self._seen = 0

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "buckets": self.buckets,
            "profile_alpha": self.profile_alpha,
            "alpha": self.alpha,
            "min_spread": self.min_spread,
            "relative_spread": self.relative_spread,
            "warmup": self.warmup,
            "direction": self.direction.value,
            "protect_z": self.protect_z,
            "max_protected": self.max_protected,
            **self.calibration.parameters(),
        }

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` readings were learned."""
        return self._seen < self.warmup

    def _slot(self, at: datetime | None) -> int:
        if at is None:
            return 0
        return (at.hour * 60 + at.minute) * self.buckets // _MINUTES_PER_DAY

    def _z(self, value: float, slot: int) -> float:
        floor = max(self.min_spread, self.relative_spread * abs(self._profile[slot]), _TINY)
        spread = max(math.sqrt(self._residual_var), floor)
        z = (value - self._profile[slot]) / spread
        if self.direction is Direction.UP:
            return max(z, 0.0)
        if self.direction is Direction.DOWN:
            return max(-z, 0.0)
        return abs(z)

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """Calibrated p-value of the residual against this slot's profile; learns nothing."""
        slot = self._slot(at)
        if self._slot_seen[slot] == 0 or not math.isfinite(value):
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        decades = self.calibration.surprise(self._z(value, slot))
        return Score.of_decades(decades, self._profile[slot], warming_up=self.warming_up)

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Learn the reading into its slot and the residual spread, unless protected."""
        if not math.isfinite(value):
            return
        slot = self._slot(at)
        self._seen += 1
        if self._slot_seen[slot] == 0:
            self._profile[slot] = value
            self._slot_seen[slot] = 1
            return
        z = self._z(value, slot)
        if not self.warming_up:
            self.calibration.learn_one(z)
            if z > self.protect_z and self._protected_in_row[slot] < self.max_protected:
                self._protected_in_row[slot] += 1
                return
        self._protected_in_row[slot] = 0
        self._slot_seen[slot] += 1
        residual = value - self._profile[slot]
        self._profile[slot] += max(self.profile_alpha, 1.0 / self._slot_seen[slot]) * residual
        rate = max(self.alpha, 1.0 / self._seen)
        self._residual_var = (1.0 - rate) * (self._residual_var + rate * residual * residual)
