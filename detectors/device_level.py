"""Multivariate level of a device with several metrics: one combined deviation, and which metric drove it.

:class:`DeviceLevel` judges all metrics of one reading together. Each metric
keeps an exponentially weighted level (rate ``alpha``) and a mean absolute
deviation around it (rate ``mad_alpha``, far slower, so a calm hour does not
shrink the spread of a metric that is noisy over days), floored at the
metric's resolution: the smallest non-zero step seen between two learned
readings (a quantised sensor that sits on one value for hours does not alarm on
its next step). A metric's deviation is ``z = |x - level| / spread`` and the
reading's is their Euclidean combination ``sqrt(sum z**2)``: a change that
moves several metrics at once (water quality: pH, redox and turbidity together)
counts more than any one of them. The metric with the largest ``z`` is the
:attr:`~detectors.base.Score.contributor`, and its level the ``expected`` value.

A metric of unknown meaning may be an operational variable whose regime changes (a flow
line whose pumps switch): a lasting step of that metric *alone*, to a new level as steady
as the metric's own noise, is not a hazard. :meth:`DeviceLevel.observe_one` sees every
reading, learned or not: once a metric has deviated alone (the others together within
half the deviating distance) for ``shift`` readings and time, steadily (its mean absolute
deviation around the run's mean within its spread), its level moves to the run's mean at
once and the step's size is remembered (:attr:`_Metric.shift`, an average of its accepted
steps). Its spread is floored at ``shift / shift_z`` from then on: a metric that is known
to step by 100 does not deviate on its next step of 100, and still does on one of 1,000.
A deviation of several metrics together (a water-quality event moves pH, redox and
turbidity at once) is never accepted so; nothing of this is learned from labels.

The combined deviation maps to a surprise of ``DEVIATING_DECADES * (d /
deviating_z) ** 2`` decades (the Gaussian tail's square law): ``d =
deviating_z`` is where a reading deviates (:data:`detectors.hold.DEVIATING_DECADES`,
tier IV's entry). The model learns whatever it is given; it is meant to be held
(:class:`~detectors.hold.HeldBaseline`), which decides what it may learn.

Measured on gecco-water (97 days at 1 min; held as in
:func:`detectors.ensemble.default_device`, through the replayed assessment), row F1 of the open
warning on the six quality columns / on all nine: ``alpha`` 0.003 (the default) 0.633 / 0.464,
0.005 0.639 / 0.388, 0.01 0.679 / 0.274 (a faster level follows the flows' steps less well:
they stay deviating longer); ``deviating_z`` 9, 10 and 12 at ``alpha`` 0.01 0.687, 0.679 and
0.578 on the quality columns. ``mad_alpha`` 0.005 instead of 0.001 cost 0.05-0.2 in a
prototype of the same rules (a spread that shrinks in a calm hour).

>>> device = DeviceLevel(warmup=5)
>>> for i in range(300):
...     device.learn_one({"ph": 8.4 + (i % 3) * 0.01, "redox": 750.0 + (i % 2)})
>>> calm = device.score_one({"ph": 8.41, "redox": 750.0})
>>> shifted = device.score_one({"ph": 8.6, "redox": 725.0})
>>> calm.surprise < 1, shifted.surprise > 4, shifted.contributor
(True, True, 'redox')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from detectors.base import NO_EVIDENCE_P, RISK_HALF_SURPRISE, Score
from detectors.dwell import Dwell

_MAD_TO_SD = math.sqrt(math.pi / 2)  # E|X - mu| = sd * sqrt(2 / pi) for a Gaussian
_TINY = 1e-12
SHIFT_RATE = 0.2
"""Weight of the newest accepted step in a metric's usual step size."""


@dataclass(slots=True)
class _Metric:
    """One metric's learned level, spread and resolution."""

    level: float
    last: float
    """The last learned reading."""
    mad: float = 0.0
    step: float = math.inf
    """Smallest non-zero change between two learned readings (the sensor's resolution)."""
    seen: int = 1
    shift: float = 0.0
    """Average size of the lasting lone steps accepted so far (0: none)."""
    run: int = 0
    """Readings of the current lone deviation of this metric."""
    run_since: datetime | None = None
    """Event time of the last reading before the run."""
    run_mean: float = 0.0
    run_mad: float = 0.0
    """Mean absolute deviation of the run's readings around the run's mean."""

    def spread(self, shift_floor: float = 0.0) -> float:
        """The metric's deviation unit; ``shift_floor`` times its usual step floors it."""
        noise = max(_MAD_TO_SD * self.mad, self.step if math.isfinite(self.step) else 0.0, _TINY)
        return max(noise, shift_floor * self.shift)

    def learn(self, value: float, alpha: float, mad_alpha: float) -> None:
        if value != self.last:
            self.step = min(self.step, abs(value - self.last))
        self.last = value
        deviation = value - self.level
        self.seen += 1
        self.level += max(alpha, 1.0 / self.seen) * deviation
        self.mad += max(mad_alpha, 1.0 / self.seen) * (abs(deviation) - self.mad)

    def extend_run(self, value: float, since: datetime | None) -> None:
        """Count ``value`` into the current lone deviation (its first reading if there is none)."""
        self.run += 1
        if self.run == 1:
            self.run_since, self.run_mean, self.run_mad = since, value, 0.0
            return
        self.run_mean += (value - self.run_mean) / self.run
        self.run_mad += (abs(value - self.run_mean) - self.run_mad) / self.run

    def accept_run(self, value: float) -> None:
        """Move the level to the run's mean if the run was steady, remembering the step's size."""
        if self.run_mad <= self.spread():
            size = abs(self.run_mean - self.level)
            self.shift = size if not self.shift else self.shift + SHIFT_RATE * (size - self.shift)
            self.level, self.last = self.run_mean, value
        self.run = 0


class DeviceLevel:
    """Combined deviation of a device's metrics from their levels (see the module docstring).

    Parameters
    ----------
    alpha
        Learning rate of each metric's level.
    mad_alpha
        Learning rate of each metric's mean absolute deviation.
    deviating_z
        Combined deviation at which a reading deviates (surprise ``RISK_HALF_SURPRISE``).
    warmup
        Readings to learn before scores leave ``warming_up``.
    max_metrics
        Metrics beyond this many (in order of first sight) are ignored, which
        bounds the state of a device that invents metric names.
    shift
        How long a metric must deviate alone, steadily, before its new level is
        accepted (:meth:`observe_one`); ``None``: never.
    shift_z
        Deviation a metric's usual accepted step scores: its spread is floored at
        its usual step divided by this.
    """

    kind: ClassVar[str] = "device_level"

    def __init__(
        self,
        *,
        alpha: float = 0.003,
        mad_alpha: float = 0.001,
        deviating_z: float = 10.0,
        warmup: int = 30,
        max_metrics: int = 32,
        shift: Dwell | None = None,
        shift_z: float = 3.0,
    ) -> None:
        self.shift = shift
        self.shift_z = shift_z
        self.alpha = alpha
        self.mad_alpha = mad_alpha
        self.deviating_z = deviating_z
        self.warmup = warmup
        self.max_metrics = max_metrics
        self._metrics: dict[str, _Metric] = {}
        self._seen = 0
        self._last_at: datetime | None = None
        """Event time of the last observed reading (:meth:`observe_one`)."""

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "alpha": self.alpha,
            "mad_alpha": self.mad_alpha,
            "deviating_z": self.deviating_z,
            "warmup": self.warmup,
            "max_metrics": self.max_metrics,
            "shift": None if self.shift is None else self.shift.parameters(),
            "shift_z": self.shift_z,
        }

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` readings were learned."""
        return self._seen < self.warmup

    def score_one(self, values: Mapping[str, float], at: datetime | None = None) -> Score:
        """Surprise of the combined deviation of ``values``; learns nothing."""
        deviations = self._deviations(values)
        total = sum(z * z for z in deviations.values())
        driver: tuple[float, str, float] | None = None
        for name, z in deviations.items():
            if driver is None or z > driver[0]:
                driver = (z, name, self._metrics[name].level)
        if driver is None:
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        decades = RISK_HALF_SURPRISE * total / self.deviating_z**2
        return Score.of_decades(decades, driver[2], warming_up=self.warming_up, contributor=driver[1])

    def _deviations(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each known metric's ``z`` for the finite ones of ``values``."""
        floor = 1.0 / self.shift_z
        return {
            name: abs(value - metric.level) / metric.spread(floor)
            for name, value in values.items()
            if (metric := self._metrics.get(name)) is not None and math.isfinite(value)
        }

    def learn_one(self, values: Mapping[str, float], at: datetime | None = None) -> None:
        """Learn every finite metric of ``values``."""
        learned = False
        for name, value in values.items():
            if not math.isfinite(value):
                continue
            metric = self._metrics.get(name)
            if metric is None:
                if len(self._metrics) < self.max_metrics:
                    self._metrics[name] = _Metric(level=value, last=value)
                    learned = True
                continue
            metric.learn(value, self.alpha, self.mad_alpha)
            learned = True
        self._seen += learned

    def observe_one(self, values: Mapping[str, float], at: datetime | None = None) -> None:
        """See a reading, learned or not: accept a metric's lasting, steady lone step (see the
        module docstring). Called by :class:`~detectors.hold.HeldBaseline` on every reading
        of a calibrated device, after it decided what the model learns."""
        if self.shift is None:
            return
        deviations = self._deviations(values)
        total = sum(z * z for z in deviations.values())
        calm = (self.deviating_z / 2.0) ** 2
        for name, z in deviations.items():
            metric = self._metrics[name]
            if z < self.deviating_z or total - z * z >= calm:
                metric.run = 0
                continue
            metric.extend_run(values[name], self._last_at if metric.run == 0 else metric.run_since)
            if self.shift.met(metric.run, metric.run_since, at):
                metric.accept_run(values[name])
        self._last_at = at
