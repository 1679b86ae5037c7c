"""Multi-scale robust level detector: the default univariate model (see :mod:`detectors.ensemble`).

Two views of a reading against the series' slow baseline (an exponentially
weighted level and spread, learning rate ``alpha``):

* the reading itself, for spikes;
* a fast moving average of recent readings (rate ``fast_alpha``), for a
  level shift or drift too small to see in one noisy reading. Its spread is
  the baseline spread times ``sqrt(a / (2 - a))``, the standard deviation of an
  EWMA of independent noise, but never less than ``min_spread`` (the sensor's
  noise floor: a slow daily rise of a water level smaller than it never
  counts). A reading enters the average clipped to ``fast_clip`` times the
  record deviation, so one wild reading (a faulty CH4 detector's spike to
  90 %LEL) moves the average by little: the reading after it, back to normal,
  is judged normal, which is how the pipeline tells a device's spike from a
  leak.

The larger of the two z-scores is calibrated by
:class:`~detectors.calibration.RecordCalibration`. The spread has floors: an
absolute one (``min_spread``, the sensor's noise floor) and half the
exponentially weighted mean absolute deviation, which fades far slower than
the variance, so a series that goes flat after a noisy spell does not alarm on
the first wobble.

Learning protection: a reading whose z exceeds ``protect_z`` is not learned
(a fault must not become the new normal) unless ``max_protected`` readings in
a row were refused, when the level really has moved and the model follows.

Measured on NAB (58 files, warm-up 30, standard profile; best threshold /
``alert`` column through the pipeline's assessment): without the hold and the
clipping 61.6 / 39.5; holding the spell's evidence at ``hold_decades`` = 5.05
(just above tier IV's entry at 5, below any undamped alarm) 61.6 / 55.0;
clipping the average's input at 1 or 2 records 62.6 / 52.6 and 62.5 / 55.1
(the default); holding longer (while the deviation lasts, up to 60 readings)
56.9 / 50.5; holding at the alarm's own surprise 42.2 / 50.5. Holding the reading right
after an alarm whatever its deviation (``echo_alarm``, which
:func:`~detectors.ensemble.default_detector` sets for a generic series) took the alert
column from 54.7 to 61.5 (the best threshold unchanged at 62.5): a one-reading anomaly
gives the ladder its second high reading. It is off by default: a series with a known
noise floor reads a spike that came straight back as its device's suspected fault.

``daily_phase`` (set for a generic series too) adds a second view, the reading against its
time of day (:class:`~detectors.phase.DailyPhase`, its own record, speaking only where a day
shape explains at least three quarters of the variance); the more surprising view speaks.
The level's own record is set by the day's swings, so a day whose rise does not come (NAB's
``art_daily_nojump``, ``flatmiddle``, ``jumpsdown``) was never seen. NAB (standard profile, best
threshold / ``alert`` column) 62.52 / 61.53 without, 66.13 / 64.33 with it (TP 92 to 97:
the three artificial days, ``exchange-2_cpc`` and a ``TravelTime_387`` window; FP 246 to
257); the same with the view's parameters moved one at a time: gate 0.1 / 0.5 64.9 / 65.9,
slots of 15 min / 1 h 66.5 / 64.6, rate per day 0.1 / 0.4 66.2 / 65.8, 2 / 5 days before a
slot judges 65.2 / 66.0.

Limits: the score says how *new* a deviation is for this series, not how
large. During the quiet spell after an alarm the evidence is the deviation
against the pre-incident record, held at ``hold_decades`` and damped by three
beyond it; after the spell the record absorbs a sustained incident and its
evidence fades. :func:`detectors.ensemble.default_detector` pairs it with an
EWMA z-score where a sensor's noise floor is known, and a hard limit
(:mod:`detectors.limits`) keeps warning about a level that stays dangerous.

Autocorrelated noise (``autocorrelation``, set by :func:`~detectors.ensemble.default_detector`
for a generic series). The fast average's spread assumes independent noise; on AR(1) noise of
lag-1 autocorrelation 0.95 it really spreads 3.6 times that, so a wandering series beat its
record floor and warned (issue 15). Widening the spread itself costs NAB what learning it did
(62.2 to 51.2 measured once; 61.8 with the AR(1) widening), because NAB's level shifts are found by
that narrow spread. So the spreads stay as they are and the *floors* rise instead, from the
lag-1 autocorrelation ``phi`` of the learned readings' deviations
(:class:`~detectors.autocorrelation.LagOneAutocorrelation`):

* both views: the record floor becomes the Student-t quantile of the same tail for the effective
  readings, ``n (1 - phi) / (1 + phi)`` with ``n`` the learned readings, at most ``t_memory``
  (1,000: about twice the spread's own memory of ``(2 - alpha) / alpha`` readings; counting
  every reading left a warning on 1 of 20 drifting series, counting 500 cost NAB 2.5 points);
* the fast view: that floor times the fast average's widening on AR(1) noise
  (:func:`~detectors.autocorrelation.ewma_widening`), unless the day shape explains the
  deviations (:meth:`~detectors.phase.DailyPhase.explains`: ``nyc_taxi``'s warnings are its
  fast average beating its record on holidays, and its residuals wander like the drift's).

A view's z is scaled by ``min(1, record / floor)`` before calibration, which judges it against
the larger of the record and its floor. Protection judges the reading's z as before and the fast
average's in its own widened spreads: with the unscaled fast z the level refused the wander,
fell behind the drift and the reading itself beat its record (29-56 warnings on 5 drifting
series); scaled by the whole floor it absorbed NAB's slow shifts (62.7 / 61.4). Measured
(2026-12-03, same commands as above): NAB 65.26 / 63.46 (without: 66.13 / 64.33); fresh
drifting AR(1) noise (README, issue 15) 0 warnings on 20 seeds at 1 s, 1 min, 5 min and 1 h,
and 2 on 1 of 50 seeds at 1 h (its spread and ``phi`` both learned low).

>>> d = MultiScaleLevel(warmup=20)
>>> for i in range(500):
...     d.learn_one(10.0 + (i % 7) * 0.1)
>>> d.score_one(10.3).p_value > 0.5, d.score_one(30.0).surprise > 4
(True, True)
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from detectors.autocorrelation import (
    LagOneAutocorrelation,
    effective_readings,
    ewma_widening,
    student_t_quantile,
)
from detectors.base import NO_EVIDENCE_P, Direction, Score
from detectors.calibration import RecordCalibration
from detectors.phase import DailyPhase

_MAD_TO_SD = math.sqrt(math.pi / 2)  # E|X - mu| = sd * sqrt(2 / pi) for a Gaussian
_TINY = 1e-12


class MultiScaleLevel:
    """Spike and level-shift detector on a slow robust baseline, record-calibrated.

    Parameters
    ----------
    alpha
        Learning rate of the baseline level and variance.
    fast_alpha
        Learning rate of the fast moving average compared with the baseline.
    mad_alpha
        Learning rate of the mean absolute deviation used as a spread floor.
    mad_floor
        Fraction of the MAD-based spread the spread never falls below.
    min_spread
        Absolute floor on the spread, in the series' unit.
    warmup
        Readings to learn before scores leave ``warming_up``.
    direction
        Which deviations count.
    protect_z
        Readings deviating more than this are not learned ...
    max_protected
        ... unless that many in a row were refused.
    fast_clip
        A reading enters the fast average clipped to this many record
        deviations from the level (``inf``: unclipped).
    memory, quiet_after_alarm, quiet_damping, hold_decades, echo_alarm
        Of the :class:`~detectors.calibration.RecordCalibration`.
    daily_phase
        Also judge each reading against its time of day (:class:`~detectors.phase.DailyPhase`,
        with its own record of the same parameters); the more surprising view speaks.
    record_floor
        Smallest record (in z units): a young series, whose record is still
        low, does not alarm on a 2-sigma wobble just because it is a record.
    autocorrelation
        Learn the noise's lag-1 autocorrelation and raise each view's floor by what it costs
        (see "Autocorrelated noise" in the module docstring).
    t_memory
        Most readings the Student-t floor counts (before the autocorrelation's discount).
    """

    kind: ClassVar[str] = "multiscale_level"

    def __init__(
        self,
        *,
        alpha: float = 0.004,
        fast_alpha: float = 0.1,
        mad_alpha: float = 0.001,
        mad_floor: float = 0.5,
        min_spread: float = 0.0,
        warmup: int = 50,
        direction: Direction = Direction.BOTH,
        protect_z: float = 4.0,
        max_protected: int = 3_000,
        memory: int = 10_000,
        quiet_after_alarm: int = 20,
        record_floor: float = 4.0,
        record_margin: float = 0.02,
        quiet_damping: float = 3.0,
        hold_decades: float = 5.05,
        fast_clip: float = 2.0,
        echo_alarm: bool = False,
        daily_phase: bool = False,
        autocorrelation: bool = False,
        t_memory: int = 1_000,
    ) -> None:
        self.alpha = alpha
        self.fast_alpha = fast_alpha
        self.mad_alpha = mad_alpha
        self.mad_floor = mad_floor
        self.min_spread = min_spread
        self.warmup = warmup
        self.direction = direction
        self.protect_z = protect_z
        self.max_protected = max_protected
        self.fast_clip = fast_clip
        self.calibration = RecordCalibration(
            memory=memory,
            quiet_after_alarm=quiet_after_alarm,
            floor=record_floor,
            margin=record_margin,
            quiet_damping=quiet_damping,
            hold_decades=hold_decades,
            echo_alarm=echo_alarm,
        )
        self.phase: DailyPhase | None = None
        if daily_phase:
            self.phase = DailyPhase(direction=direction, calibration=self.calibration.parameters())
        self._fast_sd_factor = math.sqrt(fast_alpha / (2.0 - fast_alpha))
        self.t_memory = t_memory
        self.autocorrelation: LagOneAutocorrelation | None = None
        if autocorrelation:
            self.autocorrelation = LagOneAutocorrelation(rate=alpha)
        self._now_floor = self._fast_floor = record_floor
        self._seen = 0
        self._level = 0.0
        self._var = 0.0
        self._mad = 0.0
        self._fast = 0.0
        self._protected_in_row = 0

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "alpha": self.alpha,
            "fast_alpha": self.fast_alpha,
            "mad_alpha": self.mad_alpha,
            "mad_floor": self.mad_floor,
            "min_spread": self.min_spread,
            "warmup": self.warmup,
            "direction": self.direction.value,
            "protect_z": self.protect_z,
            "max_protected": self.max_protected,
            "fast_clip": self.fast_clip,
            **self.calibration.parameters(),
            "daily_phase": None if self.phase is None else self.phase.parameters(),
            "autocorrelation": self.autocorrelation is not None,
            "t_memory": self.t_memory,
        }

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` readings were learned."""
        return self._seen < self.warmup

    def _judge(self, value: float, at: datetime | None) -> tuple[float, float, float]:
        """The larger directed z-score of the reading and of the fast average (>= 0), each scaled
        down where the record is below its view's floor; the larger of the reading's z and the
        fast average's in its own (widened) spreads, which decides the protection; and the fast
        average after ``value``."""
        spread = max(math.sqrt(self._var), self.mad_floor * _MAD_TO_SD * self._mad, self.min_spread, _TINY)
        level = self._level
        entering = value
        if self.fast_clip != math.inf:
            bound = self.fast_clip * self.calibration.record * spread
            entering = min(max(value, level - bound), level + bound)
        fast = self._fast + self.fast_alpha * (entering - self._fast)
        z_now = (value - level) / spread
        z_fast = (fast - level) / max(spread * self._fast_sd_factor, self.min_spread)
        if self.direction is Direction.UP:
            z_now, z_fast = max(z_now, 0.0), max(z_fast, 0.0)
        elif self.direction is Direction.DOWN:
            z_now, z_fast = max(-z_now, 0.0), max(-z_fast, 0.0)
        else:
            z_now, z_fast = abs(z_now), abs(z_fast)
        if self.autocorrelation is None:
            z = max(z_now, z_fast)
            return z, z, fast
        now_floor, fast_floor = self._now_floor, self._fast_floor
        if fast_floor > now_floor and self.phase is not None and self.phase.explains(at):
            fast_floor = now_floor  # the fast average's wander is the day's shape, not noise
        record = self.calibration.record
        scaled = max(z_now * min(1.0, record / now_floor), z_fast * min(1.0, record / fast_floor))
        return scaled, max(z_now, z_fast * now_floor / fast_floor), fast

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """Calibrated p-value of ``value`` (see the module docstring); learns nothing."""
        if self._seen == 0 or not math.isfinite(value):
            expected = self._level if self._seen else None
            return Score(p_value=NO_EVIDENCE_P, expected=expected, warming_up=self.warming_up)
        decades, held = self.calibration.judge(self._judge(value, at)[0])
        if self.phase is not None:
            phase_decades, phase_held = self.phase.judge(value, self._level, at)
            if phase_decades > decades:
                decades, held = phase_decades, phase_held
        return Score.of_decades(decades, self._level, warming_up=self.warming_up, held=held)

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Update the record and, unless protected, the baseline; non-finite values are ignored."""
        if not math.isfinite(value):
            return
        if self._seen == 0:
            self._level = self._fast = value
            self._seen = 1
            return
        if self.phase is not None:
            self.phase.learn_one(value, self._level, at, record=not self.warming_up)
        z, guard, self._fast = self._judge(value, at)
        if not self.warming_up:  # the record is of a trained baseline's deviations
            self.calibration.learn_one(z)
        protect = not self.warming_up and guard > self.protect_z
        if protect and self._protected_in_row < self.max_protected:
            self._protected_in_row += 1
            if self.autocorrelation is not None:
                self.autocorrelation.gap()
            return
        self._protected_in_row = 0
        self._seen += 1
        rate = max(self.alpha, 1.0 / self._seen)
        deviation = value - self._level
        if self.autocorrelation is not None:
            self._learn_floors(self.autocorrelation, deviation)
        self._level += rate * deviation
        self._var = (1.0 - rate) * (self._var + rate * deviation * deviation)
        self._mad += max(self.mad_alpha, 1.0 / self._seen) * (abs(deviation) - self._mad)

    def _learn_floors(self, autocorrelation: LagOneAutocorrelation, deviation: float) -> None:
        """Fold a learned reading's ``deviation`` into the autocorrelation and set each view's
        floor from it: the record floor as a Student-t quantile for the effective readings, times
        the fast average's widening on AR(1) noise for the fast view."""
        autocorrelation.learn_one(deviation)
        phi = autocorrelation.phi
        learned = min(self._seen, self.t_memory)
        degrees = effective_readings(learned, phi) - 1.0
        self._now_floor = student_t_quantile(self.calibration.floor, degrees)
        self._fast_floor = self._now_floor * ewma_widening(phi, self.fast_alpha)
