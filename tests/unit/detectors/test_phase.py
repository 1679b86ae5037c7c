"""The time-of-day view of the generic series model (detectors.phase): it catches a day whose shape
is wrong, and says nothing where no day shape exists or no time is known."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import numpy as np

from detectors.base import Score
from detectors.ensemble import default_detector
from detectors.multiscale import MultiScaleLevel
from detectors.phase import DailyPhase
from detectors.state import restore_state, save_state

KEY = b"0123456789abcdef-test-key"

T0 = datetime(2026, 3, 2, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)


def day_shape(days: int, seed: int = 0, *, skip_day: int | None = None) -> list[tuple[datetime, float]]:
    """5-minute readings: 20 at night, 80 from 08:00 to 18:00, noise 1; on ``skip_day`` the
    day's rise does not come (NAB's ``art_daily_nojump``)."""
    rng = np.random.default_rng(seed)
    readings = []
    for i in range(days * 288):
        at = T0 + i * FIVE_MIN
        high = 8 <= at.hour < 18 and i // 288 != skip_day
        readings.append((at, (80.0 if high else 20.0) + float(rng.normal(0.0, 1.0))))
    return readings


def run(detector: MultiScaleLevel, readings: list[tuple[datetime, float]]) -> list[Score]:
    scores = []
    for at, value in readings:
        scores.append(detector.score_one(value, at))
        detector.learn_one(value, at)
    return scores


def test_a_day_whose_rise_does_not_come_alarms_only_with_the_daily_phase() -> None:
    readings = day_shape(8, skip_day=6)
    missing = slice(6 * 288 + 8 * 12, 6 * 288 + 18 * 12)  # day 6, 08:00 to 18:00
    with_phase = run(MultiScaleLevel(warmup=30, daily_phase=True), list(readings))
    without = run(MultiScaleLevel(warmup=30), list(readings))
    assert max(s.surprise for s in with_phase[missing]) > 5.0
    assert max(s.surprise for s in without[missing]) < 1.0
    # on the normal days after the view switched on (days 4 and 5) it adds no evidence of note
    normal = slice(4 * 288, 6 * 288)
    pairs = zip(with_phase[normal], without[normal], strict=True)
    assert all(a.surprise <= max(b.surprise, 1.0) for a, b in pairs)


def drifting_ar1(n: int, seed: int) -> np.ndarray:
    """AR(1) noise (phi 0.95, spread 3) drifting by 10 over the series: no day shape."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.95 * noise[i - 1] + rng.normal(0.0, 3.0 * np.sqrt(1 - 0.95**2))
    return 100.0 + noise + np.linspace(0.0, 10.0, n)


def test_the_view_never_speaks_on_drifting_autocorrelated_noise() -> None:
    for step in (FIVE_MIN, timedelta(hours=1)):
        for seed in range(3):
            phase = DailyPhase()
            level = 100.0
            for i, value in enumerate(drifting_ar1(3_000, seed)):
                at = T0 + i * step
                assert phase.judge(float(value), level, at) == (0.0, False)
                phase.learn_one(float(value), level, at, record=True)
                level += 0.004 * (float(value) - level)


def test_without_event_times_the_model_scores_as_without_the_view() -> None:
    values = [v for _, v in day_shape(5)]
    with_phase, without = MultiScaleLevel(warmup=30, daily_phase=True), MultiScaleLevel(warmup=30)
    for value in values:
        assert with_phase.score_one(value) == without.score_one(value)
        with_phase.learn_one(value)
        without.learn_one(value)


def test_the_generic_model_keeps_its_view_across_a_checkpoint_within_10_kib() -> None:
    readings = day_shape(8, skip_day=6)
    original = default_detector()
    assert isinstance(original, MultiScaleLevel) and original.phase is not None
    run(original, readings[: 6 * 288])
    assert len(pickle.dumps(original)) <= 10 * 1024
    restored = restore_state(save_state(original, KEY), default_detector(), KEY)
    at, value = readings[6 * 288 + 12 * 12]  # day 6, noon, the rise missing
    assert restored.score_one(value, at) == original.score_one(value, at)
    assert restored.score_one(value, at).surprise > 5.0


def test_a_day_shape_explains_the_deviations_only_after_a_week() -> None:
    detector = MultiScaleLevel(warmup=30, daily_phase=True)
    readings = day_shape(12)
    run(detector, readings[: 6 * 288])
    assert detector.phase is not None
    assert not detector.phase.explains(readings[6 * 288][0]), "a week of residual record first"
    run(detector, readings[6 * 288 :])
    assert detector.phase.explains(readings[-1][0] + FIVE_MIN)
    assert not detector.phase.explains(None)


def test_a_level_lagging_a_drift_is_no_day_shape() -> None:
    """Every slot learns the same offset of a lagging level: explained variance around the level,
    none around the all-day offset."""
    for seed in range(3):
        phase, level = DailyPhase(), 100.0
        for i, value in enumerate(drifting_ar1(3_000, seed)):
            at = T0 + i * timedelta(hours=1)
            phase.learn_one(float(value), level, at, record=True)
            level += 0.004 * (float(value) - level)
            assert not phase.explains(at)
