"""One conformance check that every detector passes: :func:`check_detector`.

Like River's estimator checks, the rules a detector must keep are written
once and run over every detector by a single parametrised test
(``tests/unit/detectors/test_detector_conformance.py``). A new detector joins
by adding a factory to :data:`CONFORMING_DETECTORS`; a multivariate
(:class:`~detectors.base.DeviceDetector`) one is wrapped with
:class:`DeviceAsSeries`, which feeds it a reading of two correlated metrics.

The rules:

* warm-up is honoured: the first score is ``warming_up`` and carries no
  surprise, and warm-up ends within :data:`MAX_WARMUP` readings;
* a saved and restored detector (:mod:`detectors.state`) scores exactly as the
  original on what follows;
* two detectors from the same factory (same seed) give the same scores;
* memory is bounded: the pickled state after 100k readings is at most
  :data:`GROWTH_ALLOWANCE` times (plus 1 KiB) its size after 10k;
* a series that gets stuck on one value stops alarming;
* a non-finite value is no evidence (``p_value == 1``) and is not learned;
* the batch step (:func:`detectors.batch.observe_batch`) gives the per-reading form's
  scores and state, bit for bit, through spikes, a level shift and its return, a gap, a
  warned stretch and non-finite values.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import numpy as np

from detectors.base import Detector, DeviceDetector, Direction, Score
from detectors.batch import observe_batch, observe_reading
from detectors.combination import MostSurprising
from detectors.drift import AdwinShift, PageHinkleyShift
from detectors.ensemble import PerMetricDevice, SeriesModel, default_detector, default_device
from detectors.ewma import EwmaZScore
from detectors.multiscale import MultiScaleLevel
from detectors.seasonal import DailyProfile
from detectors.shape import ShapeHST, ShapeLODA
from detectors.state import restore_state, save_state

MAX_WARMUP = 2_000
"""Readings within which every detector must leave warm-up."""
GROWTH_ALLOWANCE = 1.10
ALARM_SURPRISE = 4.0
"""Surprise (``-log10 p``) from which a score counts as an alarm (tier IV starts here)."""
CHECK_KEY = b"riskwatch-conformance-check-key"
_T0 = datetime(2024, 1, 1)
_STEP = timedelta(minutes=5)


class ConformanceError(AssertionError):
    """A detector breaks one of the rules; the message says which and how."""


class DeviceAsSeries:
    """Presents a :class:`DeviceDetector` as a univariate one, for the checks.

    Each value ``x`` becomes the reading ``{"level": x, "flow": 2 x + 1}``.
    """

    kind: ClassVar[str] = "device_as_series"

    def __init__(self, device: DeviceDetector) -> None:
        self.device = device

    @staticmethod
    def _reading(value: float) -> Mapping[str, float]:
        return {"level": value, "flow": 2.0 * value + 1.0}

    @property
    def warming_up(self) -> bool:
        """The device detector's warm-up."""
        return self.device.warming_up

    def parameters(self) -> dict[str, Any]:
        """The device detector's parameters."""
        return self.device.parameters()

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """Score one two-metric reading."""
        return self.device.score_one(self._reading(value), at)

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Learn one two-metric reading."""
        self.device.learn_one(self._reading(value), at)


def sample_series(n: int, seed: int = 7) -> list[float]:
    """A daily-seasonal noisy series with a few spikes and one level shift, ``n`` readings.

    >>> len(sample_series(10)), sample_series(10) == sample_series(10)
    (10, True)
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 10.0 + 2.0 * np.sin(2 * math.pi * t / 288) + rng.normal(0.0, 0.5, n)
    values[rng.integers(0, n, max(1, n // 500))] += 8.0
    values[n * 3 // 4 :] += 5.0
    return [float(v) for v in values]


def _run(detector: Detector, values: list[float], start: int = 0) -> list[Score]:
    """Score then learn each value, with event times five minutes apart."""
    scores = []
    for i, value in enumerate(values, start):
        at = _T0 + i * _STEP
        scores.append(detector.score_one(value, at))
        detector.learn_one(value, at)
    return scores


def _fail(detector: Detector, rule: str) -> ConformanceError:
    return ConformanceError(f"{detector.kind}: {rule}")


def check_warmup(factory: Callable[[], Detector]) -> None:
    """The first score is warming up with no surprise; warm-up ends within MAX_WARMUP readings."""
    detector = factory()
    if not detector.warming_up:
        raise _fail(detector, "a new detector must be warming up")
    scores = _run(detector, sample_series(MAX_WARMUP))
    if not scores[0].warming_up or any(s.warming_up and s.surprise != 0.0 for s in scores):
        raise _fail(detector, "scores while warming up must say so and carry no surprise")
    if detector.warming_up:
        raise _fail(detector, f"still warming up after {MAX_WARMUP} readings")


def check_state_round_trip(factory: Callable[[], Detector]) -> None:
    """A saved and restored detector scores exactly like the original."""
    values = sample_series(3_000)
    original = factory()
    _run(original, values[:1_500])
    restored = restore_state(save_state(original, CHECK_KEY), factory(), CHECK_KEY)
    if _run(original, values[1_500:], 1_500) != _run(restored, values[1_500:], 1_500):
        raise _fail(original, "a restored detector must score exactly like the original")


def check_deterministic(factory: Callable[[], Detector]) -> None:
    """Two detectors from one factory (one seed) give identical scores."""
    values = sample_series(3_000)
    first, second = factory(), factory()
    if _run(first, values) != _run(second, values):
        raise _fail(first, "the same seed and input must give the same scores")


def check_bounded_memory(factory: Callable[[], Detector], readings: int = 100_000) -> None:
    """Pickled state after ``readings`` values is about its size after a tenth of them."""
    values = sample_series(readings)
    detector = factory()
    _run(detector, values[: readings // 10])
    early = len(pickle.dumps(detector))
    _run(detector, values[readings // 10 :], readings // 10)
    late = len(pickle.dumps(detector))
    if late > GROWTH_ALLOWANCE * early + 1024:
        raise _fail(detector, f"state grew from {early} to {late} bytes between 10% and 100% of {readings}")


def check_stuck_series_settles(factory: Callable[[], Detector]) -> None:
    """A series stuck on one value after normal noise stops alarming within 3000 readings."""
    detector = factory()
    _run(detector, sample_series(1_000))
    stuck = _run(detector, [12.5] * 3_000, 1_000)
    if any(s.surprise >= ALARM_SURPRISE for s in stuck[-100:]):
        raise _fail(detector, "a stuck series must not alarm forever")


def check_non_finite(factory: Callable[[], Detector]) -> None:
    """Non-finite values are no evidence and leave the model unchanged."""
    detector = factory()
    _run(detector, sample_series(500))
    before = pickle.dumps(detector)
    for value in (math.nan, math.inf, -math.inf):
        if detector.score_one(value, _T0).p_value != 1.0:
            raise _fail(detector, f"score_one({value}) must have p_value 1 (no evidence)")
        detector.learn_one(value, _T0)
    if pickle.dumps(detector) != before:
        raise _fail(detector, "learn_one of a non-finite value must not change the model")


def batch_readings(n: int = 3_000) -> tuple[list[float], list[datetime], list[bool]]:
    """Values, event times and warned flags for :func:`check_batch_matches_per_reading`.

    :func:`sample_series` (spikes, a level shift from 3/4) with the shift back at 7/8, a
    two-day gap (a held series calibrates again) at 2/3, non-finite values, and the
    hazard warned over the shift's first half.

    >>> values, ats, warned = batch_readings(800)
    >>> (ats[533] - ats[532]).days, sum(warned), sum(not math.isfinite(v) for v in values)
    (2, 50, 3)
    """
    values = sample_series(n)
    for i in range(n * 7 // 8, n):
        values[i] -= 5.0
    for i, bad in zip((n // 10, n // 3, n // 2), (math.nan, math.inf, -math.inf), strict=True):
        values[i] = bad
    gap = timedelta(days=2)
    ats = [_T0 + i * _STEP + (gap if i >= n * 2 // 3 else timedelta()) for i in range(n)]
    warned = [n * 3 // 4 <= i < n * 13 // 16 for i in range(n)]
    return values, ats, warned


def check_batch_matches_per_reading(factory: Callable[[], Detector]) -> None:
    """The batch step gives the per-reading form's scores and pickled state, bit for bit."""
    values, ats, warned = batch_readings()
    batched, single = factory(), factory()
    batch_scores = observe_batch([batched] * len(values), values, ats, warned)
    single_scores = [
        observe_reading(single, value, at, held) for value, at, held in zip(values, ats, warned, strict=True)
    ]
    for row, (got, want) in enumerate(zip(batch_scores, single_scores, strict=True)):
        if got != want:
            raise _fail(batched, f"the batch step scored reading {row} {got}, the per-reading form {want}")
    if pickle.dumps(batched) != pickle.dumps(single):
        raise _fail(batched, "the batch step must leave the state the per-reading form leaves")


CHECKS: tuple[Callable[[Callable[[], Detector]], None], ...] = (
    check_warmup,
    check_state_round_trip,
    check_deterministic,
    check_bounded_memory,
    check_stuck_series_settles,
    check_non_finite,
    check_batch_matches_per_reading,
)


def check_detector(factory: Callable[[], Detector]) -> None:
    """Run every conformance rule on detectors built by ``factory``.

    Raises
    ------
    ConformanceError
        Naming the detector and the first rule it breaks.
    """
    for check in CHECKS:
        check(factory)


CONFORMING_DETECTORS: dict[str, Callable[[], Detector]] = {
    "ewma_z": lambda: EwmaZScore(warmup=30),
    "default_generic": lambda: default_detector("generic"),
    "default_water_level": lambda: default_detector("water_level", direction=Direction.UP, min_spread=0.02),
    "novelty_or_level": lambda: MostSurprising(MultiScaleLevel(), EwmaZScore()),
    "per_metric_device": lambda: DeviceAsSeries(PerMetricDevice()),
    "held_device_level": lambda: DeviceAsSeries(default_device(SeriesModel(), metrics=2)),
    "daily_profile": DailyProfile,
    "page_hinkley": PageHinkleyShift,
    "adwin": AdwinShift,
    "shape_hst": ShapeHST,
    "shape_loda": ShapeLODA,
}
"""Every detector the conformance test runs over; add yours here."""
