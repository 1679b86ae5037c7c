"""The default detectors, chosen by measurement on NAB, and their multivariate form.

:func:`default_detector` builds the model a new series gets. The choice was
made on the 58 NAB files with the same parameters on every file (``riskwatch
bench detectors``): a :class:`~detectors.multiscale.MultiScaleLevel` (robust
slow baseline, a fast average for shifts, record calibration, a quiet spell
after an alarm) scored NAB standard 62.4 at the best threshold, at ~8 µs per
reading and ~660 bytes of pickled state per series. The
plain EWMA z-score scores 0 on the same scale (its p-values underflow and tie,
so no threshold separates incidents from noise). A time-of-day profile
(:mod:`detectors.seasonal`) added to the default did not raise the score (60.8
against 60.9) and was left out.

:class:`PerMetricDevice` judges a device reporting several metrics at once (a
pump's pressure and flow, a building box's smoke and temperature): one
default model per metric, combined by the most surprising metric with a
Bonferroni correction for the number of metrics, so a device with more
metrics does not alarm more often by chance.

>>> device = PerMetricDevice(warmup=5)
>>> for i in range(300):
...     device.learn_one({"pressure": 3.0 + (i % 5) * 0.01, "flow": 10.0 + (i % 3) * 0.1})
>>> score = device.score_one({"pressure": 3.02, "flow": 25.0})
>>> score.contributor, score.surprise > 4
('flow', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from detectors.base import NO_EVIDENCE_P, Detector, Direction, Score
from detectors.multiscale import MultiScaleLevel

GENERIC = "generic"
DEFAULT_WARMUP = 50


def default_detector(
    kind: str = GENERIC,
    *,
    direction: Direction = Direction.BOTH,
    min_spread: float = 0.0,
    warmup: int = DEFAULT_WARMUP,
) -> Detector:
    """The default model of one series of sensor type ``kind`` (e.g. ``"water_level"``).

    Every kind currently gets the same family; the caller passes what it knows
    of the sensor type (the dangerous ``direction``, the noise floor
    ``min_spread``), which lives in the pipeline's sensor profiles.

    >>> default_detector("water_level", direction=Direction.UP).kind
    'multiscale_level'
    """
    return MultiScaleLevel(direction=direction, min_spread=min_spread, warmup=warmup)


class PerMetricDevice:
    """One default model per metric of a device; the most surprising metric speaks.

    Parameters
    ----------
    kind
        Sensor type passed to :func:`default_detector` for every metric.
    warmup
        Readings each metric's model needs.
    max_metrics
        Metrics beyond this many (in order of first sight) are ignored, which
        bounds the state of a device that invents metric names.
    """

    kind: ClassVar[str] = "per_metric_device"

    def __init__(self, kind: str = GENERIC, *, warmup: int = DEFAULT_WARMUP, max_metrics: int = 32) -> None:
        self.metric_kind = kind
        self.warmup = warmup
        self.max_metrics = max_metrics
        self._models: dict[str, Detector] = {}

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {"kind": self.metric_kind, "warmup": self.warmup, "max_metrics": self.max_metrics}

    @property
    def warming_up(self) -> bool:
        """True until at least one metric's model has warmed up."""
        return all(model.warming_up for model in self._models.values())

    def _model(self, metric: str) -> Detector | None:
        found = self._models.get(metric)
        if found is None and len(self._models) < self.max_metrics:
            found = self._models[metric] = default_detector(self.metric_kind, warmup=self.warmup)
        return found

    def score_one(self, values: Mapping[str, float], at: datetime | None = None) -> Score:
        """The most surprising metric's score, corrected for the number of metrics judged."""
        judged = {
            metric: model.score_one(value, at)
            for metric, value in values.items()
            if math.isfinite(value) and (model := self._models.get(metric)) is not None
        }
        trained = {metric: score for metric, score in judged.items() if not score.warming_up}
        if not trained:
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        metric, worst = max(trained.items(), key=lambda item: item[1].surprise)
        decades = max(0.0, worst.surprise - math.log10(len(trained)))
        return Score(
            p_value=min(NO_EVIDENCE_P, 10.0**-decades),
            expected=worst.expected,
            warming_up=False,
            contributor=metric,
            decades=decades,
        )

    def learn_one(self, values: Mapping[str, float], at: datetime | None = None) -> None:
        """Learn every finite metric with its own model."""
        for metric, value in values.items():
            if math.isfinite(value) and (model := self._model(metric)) is not None:
                model.learn_one(value, at)
