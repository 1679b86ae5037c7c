"""The default detectors, chosen by measurement, and their multivariate form.

:func:`default_detector` builds the model a new series gets, and
:class:`SeriesModel` is the recipe it is built from; the pipeline decides the
recipe of each sensor type from its settings in one place
(:func:`pipeline.processing.live_detector.live_series_model`), and both the live worker
and ``riskwatch replay`` build from it, so the two never run different models.

The choice, measured (``riskwatch bench detectors``: NAB's 58 files, same
parameters on every file, warm-up 30, NAB standard profile at the best
threshold / on the ``alert`` column the pipeline's assessment emits; and
``riskwatch drill drill-50``, 24 incidents and 8 decoys through the real
pipeline, against the same code with the other candidate):

* :class:`~detectors.multiscale.MultiScaleLevel` (a robust slow baseline, a
  fast average for shifts, record calibration, a quiet spell after an alarm
  whose evidence is held at tier IV's entry) scores NAB 62.5 / 55.1 at ~11 µs
  per reading and ~700 bytes of state. Its evidence says how *new* a
  deviation is and fades inside a long incident (NAB's threshold sweep
  demands it: holding it longer cost up to 20 points). Live, in the drill,
  floods stepped down and up again (7–12 tier changes against 5–6) and a
  lasting gas leak fell from II to IV evidence: 18 of 24 incidents passed
  against 19 for the z-score on the same code.
* :class:`~detectors.ewma.EwmaZScore` keeps its evidence while a deviation
  lasts (what the ladder needs) and, on a sensor's noise floor, means the
  same on every series of that type; without a floor its z-score means
  something else on every series: NAB 0 (every threshold floods).
* Their combination (:class:`~detectors.combination.MostSurprising`, the more
  surprising of the two less ``log10 2``): NAB 0 on generic series like the
  z-score alone; in the drill 22 of 24 against 23 for the z-score alone, one
  minute earlier on floods and air pollution with fewer tier changes, but a
  second CH4 detector that the z-score had learned a slow leak on (its mean
  rose from 0.4 to 2.1 %LEL) became a second witness, and fusion raised that
  leak to I red where III was expected.

So the family follows what is known of the sensor: a series with a physical
noise floor (``min_spread > 0``: every sensor type of the pipeline) gets the
EWMA z-score on that floor, a generic series (``riskwatch replay``'s default,
NAB) the multi-scale level.

The z-score is held (:class:`~detectors.hold.HeldBaseline`): quiet until
calibrated on the series' own record, its baseline frozen while readings
deviate and released once they are back. Measured through the replayed live
path (``tests/unit/pipeline/test_held_warnings.py``): a 12-hour flood plateau
at 1 minute kept its warning for 26 % of the plateau before and 99.9 % after,
resolving 15 min after the level was back; fresh autocorrelated, drifting noise
opened a warning in 18 of 27 series (3 sensor types, 3 seeds, 1 s / 1 min /
1 h) before and in none after. The multi-scale level is not held: its
evidence says how *new* a deviation is, and frozen it never forgets an
incident (tried on gecco-water: 6 warnings open for the whole 97 days).

The generic series' multi-scale level echoes an alarm (``echo_alarm``): the reading
after it keeps tier IV's evidence whatever its deviation, so a one-reading anomaly of a
series of unknown meaning opens a warning instead of reading as a device's spike (NAB's
alert column 54.7 to 61.5, its best threshold unchanged at 62.5).

A time-of-day profile (:mod:`detectors.seasonal`) added to the default did
not raise the NAB score (60.8 against 60.9) and was left out. The generic series'
multi-scale level has its own time-of-day view instead (``daily_phase``,
:mod:`detectors.phase`): 5-minute slots with their own record, switched on only where the
day shape explains the series (NAB 62.5 / 61.5 to 66.1 / 64.3). It learns its noise's
autocorrelation too (``autocorrelation``, :mod:`detectors.autocorrelation`): its record floors
rise with it, so a fresh series of drifting AR(1) noise no longer beats its record with its fast
average's wander (0 warnings in 3,000 readings at 1 s to 1 h, 20 seeds, where 6-14 opened; NAB
66.1 / 64.3 to 65.3 / 63.5).

:class:`PerMetricDevice` judges a device reporting several metrics at once (a
pump's pressure and flow, a building box's smoke and temperature): one
default model per metric, combined by the most surprising metric with a
Bonferroni correction for the number of metrics, so a device with more
metrics does not alarm more often by chance (evidence held through an ongoing
incident is not a chance finding and passes uncorrected).

>>> device = PerMetricDevice(SeriesModel(warmup=5))
>>> for i in range(300):
...     device.learn_one({"pressure": 3.0 + (i % 5) * 0.01, "flow": 10.0 + (i % 3) * 0.1})
>>> score = device.score_one({"pressure": 3.02, "flow": 25.0})
>>> score.contributor, score.surprise > 4
('flow', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from detectors.base import NO_EVIDENCE_P, Detector, DeviceDetector, Direction, Score
from detectors.device_level import DeviceLevel
from detectors.dwell import Dwell
from detectors.ewma import EwmaZScore
from detectors.hold import HeldBaseline, learn_held
from detectors.multiscale import MultiScaleLevel

GENERIC = "generic"
DEFAULT_WARMUP = 30
"""Readings a new series needs (the pipeline's ``RISKWATCH_DETECTOR_WARMUP`` default)."""
DEFAULT_ALPHA = 0.02
"""Fading factor of the EWMA z-score (the pipeline's ``RISKWATCH_DETECTOR_ALPHA`` default)."""


def default_detector(
    kind: str = GENERIC,
    *,
    direction: Direction = Direction.BOTH,
    min_spread: float = 0.0,
    warmup: int = DEFAULT_WARMUP,
    alpha: float = DEFAULT_ALPHA,
) -> Detector:
    """The default model of one series of sensor type ``kind`` (e.g. ``"water_level"``).

    The caller passes what it knows of the sensor type (the dangerous
    ``direction``, the noise floor ``min_spread``), which lives in the
    pipeline's sensor profiles. With a noise floor the model is the EWMA
    z-score on it (rate ``alpha``), held (:class:`~detectors.hold.HeldBaseline`);
    without one, the multi-scale level (see the module docstring for the
    measurements).

    >>> default_detector().kind
    'multiscale_level'
    >>> default_detector("water_level", direction=Direction.UP, min_spread=0.02).kind
    'held_baseline'
    """
    if min_spread > 0.0:
        return HeldBaseline(
            EwmaZScore(alpha=alpha, warmup=warmup, min_spread=min_spread, direction=direction)
        )
    return MultiScaleLevel(
        direction=direction,
        min_spread=min_spread,
        warmup=warmup,
        echo_alarm=True,
        daily_phase=True,
        autocorrelation=True,
    )


GENERIC_MAX_FREEZE = Dwell(readings=30, seconds=1_800.0)
"""How long a generic device's freeze lasts before it learns one reading of a lasting new level
(:attr:`detectors.hold.HeldBaseline.max_freeze`): half an hour at 1-minute sampling. Measured on
gecco-water's quality columns, 30 readings scored F1 0.76 against 0.73 for 60 and 0.66 for 240
(a prototype of the same rules)."""
GENERIC_EXIT = Dwell(readings=1, seconds=0.0)
"""A generic device's freeze ends at the first reading back in band: the assessment's own exit
dwell (5 minutes) already keeps the warning open past it, and holding the peak for 5 readings
more kept every warning open 5 rows after its event (gecco-water quality columns, F1 0.615
against 0.679 at ``alpha`` 0.01)."""

GENERIC_SHIFT = Dwell(readings=20, seconds=1_200.0)
"""How long one metric of a generic device must hold a steady new level alone before the level
is accepted (:attr:`detectors.device_level.DeviceLevel.shift`): 20 minutes at 1-minute
sampling, longer than gecco-water's labelled events (18 minutes, several metrics at once).
Measured there (all nine columns / the six quality columns, row F1 of the open warning): 0.448
/ 0.602 without it; 10 readings 0.537 / 0.601, 20 readings 0.538 / 0.602; a usual step scoring
``shift_z`` 3 (the default) against 6: 0.537 against 0.527 at 10 readings."""


def default_device(model: SeriesModel, metrics: int) -> DeviceDetector:
    """The model of a device with ``metrics`` metrics, all of recipe ``model`` (``riskwatch replay``).

    A generic device (no noise floor known) with several metrics is judged on all of
    them together (:class:`~detectors.device_level.DeviceLevel`), held: quiet until
    calibrated on its own record, its baseline frozen while readings deviate (a
    warning ends when readings come back), a deviation counted once a second reading
    confirms it and, since nothing says what a lasting change of an unknown metric
    means, a lasting new level followed slowly after :data:`GENERIC_MAX_FREEZE`, and a
    steady step of one metric alone accepted after :data:`GENERIC_SHIFT` (an operational
    variable such as a flow changing regime); back after :data:`GENERIC_MAX_GAP_S` without
    readings, it calibrates again.
    A single generic metric keeps the multi-scale level chosen on NAB (held like
    this, NAB fell from 62.5 / 54.4 to 0.0 / 17.8), and a device of the product's
    sensor types one held model per metric (:class:`PerMetricDevice`).

    >>> default_device(SeriesModel(), 9).kind, default_device(SeriesModel(), 1).kind
    ('held_baseline', 'per_metric_device')
    """
    if model.min_spread > 0.0 or metrics < 2:
        return PerMetricDevice(model)
    return HeldBaseline(
        DeviceLevel(warmup=model.warmup, shift=GENERIC_SHIFT),
        exit=GENERIC_EXIT,
        max_freeze=GENERIC_MAX_FREEZE,
        confirm=True,
        max_gap_s=GENERIC_MAX_GAP_S,
    )


GENERIC_MAX_GAP_S = 14_400.0
"""A generic device silent for four hours calibrates again (:attr:`detectors.hold.HeldBaseline.
max_gap_s`, a day for the sensor types): a plant stopped for hours comes back in a new regime, its
operational variables and the quality they carry all moved at once, so the pre-gap baseline is
stale, not a hazard's "before". Measured on gecco-water (one 16-hour gap; row F1 all nine columns /
six quality columns): a day 0.538 / 0.602; 2, 4 or 12 hours 0.586 / 0.602 (the 442 false rows of
its restart gone; its one-hour clock change stays below)."""


@dataclass(frozen=True)
class SeriesModel:
    """The recipe of a new series' default model: plain values, so it can be kept and compared.

    >>> SeriesModel("water_level", Direction.UP, 0.02).build().kind
    'held_baseline'
    """

    kind: str = GENERIC
    """Sensor type (``generic`` when unknown)."""
    direction: Direction = Direction.BOTH
    """Which deviations are dangerous."""
    min_spread: float = 0.0
    """The sensor's noise floor in its unit (0: unknown)."""
    warmup: int = DEFAULT_WARMUP
    """Readings before a score may warn."""
    alpha: float = DEFAULT_ALPHA
    """Fading factor of the EWMA z-score, where there is one."""

    def build(self) -> Detector:
        """A fresh detector from this recipe (:func:`default_detector`)."""
        return default_detector(
            self.kind,
            direction=self.direction,
            min_spread=self.min_spread,
            warmup=self.warmup,
            alpha=self.alpha,
        )

    def parameters(self) -> dict[str, Any]:
        """The recipe as JSON-serialisable values."""
        return {
            "kind": self.kind,
            "direction": self.direction.value,
            "min_spread": self.min_spread,
            "warmup": self.warmup,
            "alpha": self.alpha,
        }


class PerMetricDevice:
    """One default model per metric of a device; the most surprising metric speaks.

    Parameters
    ----------
    model
        The :class:`SeriesModel` every metric's model is built from.
    max_metrics
        Metrics beyond this many (in order of first sight) are ignored, which
        bounds the state of a device that invents metric names.
    """

    kind: ClassVar[str] = "per_metric_device"

    def __init__(self, model: SeriesModel = SeriesModel(), *, max_metrics: int = 32) -> None:
        self.model = model
        self.max_metrics = max_metrics
        self._models: dict[str, Detector] = {}

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {**self.model.parameters(), "max_metrics": self.max_metrics}

    @property
    def warming_up(self) -> bool:
        """True until at least one metric's model has warmed up."""
        return all(model.warming_up for model in self._models.values())

    def _model(self, metric: str) -> Detector | None:
        found = self._models.get(metric)
        if found is None and len(self._models) < self.max_metrics:
            found = self._models[metric] = self.model.build()
        return found

    def score_one(self, values: Mapping[str, float], at: datetime | None = None) -> Score:
        """The most surprising metric's score, corrected for the number of metrics judged
        (unless it is an incident's held evidence, see :attr:`Score.held`)."""
        judged = {
            metric: model.score_one(value, at)
            for metric, value in values.items()
            if math.isfinite(value) and (model := self._models.get(metric)) is not None
        }
        trained = {metric: score for metric, score in judged.items() if not score.warming_up}
        if not trained:
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        metric, worst = max(trained.items(), key=lambda item: item[1].surprise)
        return worst.corrected(len(trained), contributor=metric)

    def learn_one(
        self, values: Mapping[str, float], at: datetime | None = None, *, warned: bool = False
    ) -> None:
        """Learn every finite metric with its own model (held ones told whether ``warned``)."""
        for metric, value in values.items():
            if math.isfinite(value) and (model := self._model(metric)) is not None:
                learn_held(model, value, at, warned)
