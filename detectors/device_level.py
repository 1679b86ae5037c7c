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

_MAD_TO_SD = math.sqrt(math.pi / 2)  # E|X - mu| = sd * sqrt(2 / pi) for a Gaussian
_TINY = 1e-12


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

    def spread(self) -> float:
        return max(_MAD_TO_SD * self.mad, self.step if math.isfinite(self.step) else 0.0, _TINY)

    def learn(self, value: float, alpha: float, mad_alpha: float) -> None:
        if value != self.last:
            self.step = min(self.step, abs(value - self.last))
        self.last = value
        deviation = value - self.level
        self.seen += 1
        self.level += max(alpha, 1.0 / self.seen) * deviation
        self.mad += max(mad_alpha, 1.0 / self.seen) * (abs(deviation) - self.mad)


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
    ) -> None:
        self.alpha = alpha
        self.mad_alpha = mad_alpha
        self.deviating_z = deviating_z
        self.warmup = warmup
        self.max_metrics = max_metrics
        self._metrics: dict[str, _Metric] = {}
        self._seen = 0

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "alpha": self.alpha,
            "mad_alpha": self.mad_alpha,
            "deviating_z": self.deviating_z,
            "warmup": self.warmup,
            "max_metrics": self.max_metrics,
        }

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` readings were learned."""
        return self._seen < self.warmup

    def score_one(self, values: Mapping[str, float], at: datetime | None = None) -> Score:
        """Surprise of the combined deviation of ``values``; learns nothing."""
        total = 0.0
        driver: tuple[float, str, float] | None = None
        for name, value in values.items():
            metric = self._metrics.get(name)
            if metric is None or not math.isfinite(value):
                continue
            z = abs(value - metric.level) / metric.spread()
            total += z * z
            if driver is None or z > driver[0]:
                driver = (z, name, metric.level)
        if driver is None:
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        decades = RISK_HALF_SURPRISE * total / self.deviating_z**2
        return Score.of_decades(decades, driver[2], warming_up=self.warming_up, contributor=driver[1])

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
