"""The same time of day: a seasonal view of a series, switched on only where a day shape exists.

:class:`DailyPhase` learns, for each ``slot_s`` slot of the day (5 minutes by default), how far
readings in that slot sit from the series' level (an exponentially weighted mean, about
``rate_per_day`` of its weight on each day's visit, whatever the sampling interval), and the
spread of readings around ``level + slot offset`` over about a day. Its deviation says how unusual
a reading is *for its time of day*: a daily jump that did not come, a flat stretch where the
series always rises.

It speaks only where the day shape explains the series: once the reading's slot has been seen on
``min_days`` distinct days, the residual spread has been learned for a day, and that spread's
variance is at most ``gate`` times the variance of the readings around the level alone. A series
without a day shape (noise, drift, spikes, or a new one) never passes the gate, so the view adds
nothing there. Both variances are learned from every reading, so spikes inflate both alike; the
slot offsets skip readings deviating more than ``protect_z`` from their slot (a fault must not
become the day's shape).

:meth:`DailyPhase.explains` answers a stricter question for the owning detector: does the day
shape explain the series' deviations from its level, so that a slow wander of them is the day
and not autocorrelated noise? Only after ``explain_days`` of residual record, and only while the
residual variance is at most ``explain_share`` of the variance around one all-day offset (not
around the level: a level lagging a drift gives every slot the same offset, which explains
variance around the level but is no day shape; measured on drifting AR(1) noise at 1-hour
spacing, 0.7 of the variance around the level and 1.05 of that around the offset let 4 of
20 seeds warn, 5 warnings).

The deviation is calibrated by its own :class:`~detectors.calibration.RecordCalibration` (the
level's record, set by the day's own swings, would hide it). Nothing is learned from labels; the
same parameters serve every series. Measured on NAB through
:class:`~detectors.multiscale.MultiScaleLevel` (``daily_phase``): see that module.

>>> from datetime import datetime, timedelta
>>> phase, t0 = DailyPhase(), datetime(2024, 1, 1)
>>> for i in range(6 * 288):  # six days at 5 minutes: 80 from 08:00 to 18:00, 20 otherwise
...     at = t0 + timedelta(minutes=5 * i)
...     phase.learn_one(80.0 if 8 <= at.hour < 18 else 20.0 + (i % 3), 50.0, at, record=True)
>>> noon = t0.replace(day=7, hour=12)
>>> phase.judge(80.0, 50.0, noon)[0] < 1.0, phase.judge(20.0, 50.0, noon)[0] > 5.0
(True, True)
>>> phase.judge(20.0, 50.0, None)  # no time, no phase
(0.0, False)
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from detectors.base import Direction
from detectors.calibration import RecordCalibration

_DAY_S = 86_400.0
_TINY = 1e-12


class DailyPhase:
    """Residual of a reading against its slot of the day, gated, record-calibrated.

    Parameters
    ----------
    slot_s
        Width of a slot of the day, in seconds.
    rate_per_day
        Weight of one day's readings in a slot's offset.
    min_days
        Distinct days a slot must have been seen on before it judges.
    gate
        The view speaks only while the residual variance is at most this fraction of the
        variance around the level alone.
    rel_floor
        Floor on the residual spread, as a fraction of the spread around the level (a
        noiseless day shape does not alarm on rounding).
    protect_z
        Readings deviating more than this from their slot are not learned into its offset.
    explain_days, explain_share
        When :meth:`explains` says yes (see the module docstring).
    direction
        Which deviations count.
    calibration
        Parameters of the view's own :class:`~detectors.calibration.RecordCalibration`.
    """

    def __init__(
        self,
        *,
        slot_s: int = 300,
        rate_per_day: float = 0.2,
        min_days: int = 3,
        gate: float = 0.25,
        rel_floor: float = 0.05,
        protect_z: float = 4.0,
        explain_days: float = 7.0,
        explain_share: float = 0.7,
        direction: Direction = Direction.BOTH,
        calibration: dict[str, Any] | None = None,
    ) -> None:
        self.slot_s = slot_s
        self.rate_per_day = rate_per_day
        self.min_days = min_days
        self.gate = gate
        self.rel_floor = rel_floor
        self.protect_z = protect_z
        self.explain_days = explain_days
        self.explain_share = explain_share
        self.direction = direction
        self.calibration = RecordCalibration(**(calibration or {}))
        slots = int(_DAY_S) // slot_s
        self._offset = [0.0] * slots
        self._days = [0] * slots
        self._last_day = [-1] * slots
        self._level_var = 0.0
        self._level_n = 0
        self._mean_offset = 0.0
        self._offset_var = 0.0
        self._residual_var = 0.0
        self._residual_n = 0
        self._residual_since: float | None = None
        self._last_s: float | None = None

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the owning detector's state."""
        return {
            "slot_s": self.slot_s,
            "rate_per_day": self.rate_per_day,
            "min_days": self.min_days,
            "gate": self.gate,
            "rel_floor": self.rel_floor,
            "protect_z": self.protect_z,
            "explain_days": self.explain_days,
            "explain_share": self.explain_share,
            "direction": self.direction.value,
            "calibration": self.calibration.parameters(),
        }

    def _slot(self, at: datetime) -> int:
        return (at.hour * 3600 + at.minute * 60 + at.second) // self.slot_s

    def _ready(self, slot: int, now_s: float) -> bool:
        """The slot has its days and the residual spread a day of record."""
        since = self._residual_since
        return self._days[slot] >= self.min_days and since is not None and now_s - since >= _DAY_S

    def _z(self, value: float, level: float, slot: int) -> float:
        """Directed deviation (>= 0) of ``value`` from its slot, in residual spreads."""
        spread = max(math.sqrt(self._residual_var), self.rel_floor * math.sqrt(self._level_var), _TINY)
        z = (value - level - self._offset[slot]) / spread
        if self.direction is Direction.UP:
            return max(z, 0.0)
        if self.direction is Direction.DOWN:
            return max(-z, 0.0)
        return abs(z)

    def judge(self, value: float, level: float, at: datetime | None) -> tuple[float, bool]:
        """Surprise (decades) of ``value`` for its time of day, and whether it is held evidence;
        ``(0, False)`` where the view does not speak (no time, slot not ready, no day shape)."""
        if at is None:
            return 0.0, False
        slot = self._slot(at)
        if not self._ready(slot, at.timestamp()) or self._residual_var > self.gate * self._level_var:
            return 0.0, False
        return self.calibration.judge(self._z(value, level, slot))

    def explains(self, at: datetime | None) -> bool:
        """Whether the day shape explains the deviations from the level at ``at`` (see the module
        docstring); false without a time."""
        since = self._residual_since
        if at is None or since is None or at.timestamp() - since < self.explain_days * _DAY_S:
            return False
        return self._residual_var <= self.explain_share * self._offset_var

    def learn_one(self, value: float, level: float, at: datetime | None, *, record: bool) -> None:
        """Learn finite ``value`` seen against ``level`` at ``at``; ``record`` folds its deviation
        into the record (false while the owning detector warms up)."""
        if at is None:
            return
        slot, now_s = self._slot(at), at.timestamp()
        elapsed = self.slot_s if self._last_s is None else min(max(now_s - self._last_s, 0.0), self.slot_s)
        self._last_s = now_s
        ready = self._ready(slot, now_s)
        if ready and record:
            self.calibration.learn_one(self._z(value, level, slot))
        deviation = value - level
        var_rate = elapsed / _DAY_S  # about a day of memory at any sampling interval
        self._level_n += 1
        level_rate = max(var_rate, 1.0 / self._level_n)
        self._level_var += level_rate * (deviation**2 - self._level_var)
        around = deviation - self._mean_offset
        self._mean_offset += level_rate * around
        self._offset_var = (1.0 - level_rate) * (self._offset_var + level_rate * around * around)
        if self._days[slot] >= self.min_days:
            if self._residual_since is None:
                self._residual_since = now_s
            self._residual_n += 1
            residual = deviation - self._offset[slot]
            self._residual_var += max(var_rate, 1.0 / self._residual_n) * (residual**2 - self._residual_var)
        if ready and self._z(value, level, slot) > self.protect_z:
            return
        day = at.toordinal()
        if self._last_day[slot] != day:
            self._last_day[slot] = day
            self._days[slot] += 1
        day_rate = max(self.rate_per_day, 1.0 / self._days[slot])
        self._offset[slot] += day_rate * elapsed / self.slot_s * (deviation - self._offset[slot])
