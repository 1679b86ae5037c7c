"""HeldBaseline: frozen while abnormal and released with hysteresis, quiet until calibrated,
and entry and exit rules that count readings and time at 1 s, 1 min and 1 h spacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from detectors.base import Direction, Score
from detectors.dwell import Dwell
from detectors.ewma import EwmaZScore
from detectors.hold import CALIBRATION_READINGS, EXIT, FREEZE, MAX_GAP_S, HeldBaseline
from detectors.state import restore_state, save_state

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPACINGS = [timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)]
PARAMS: dict[str, Any] = {"warmup": 30, "min_spread": 0.02, "direction": Direction.UP}


class Series:
    """A held water-level model fed readings ``step`` apart."""

    def __init__(self, step: timedelta = timedelta(minutes=1)) -> None:
        self.model = HeldBaseline(EwmaZScore(**PARAMS))
        self.step = step
        self.readings = 0

    def feed(self, values: list[float] | np.ndarray) -> list[Score]:
        scores = []
        for value in values:
            at = T0 + self.readings * self.step
            scores.append(self.model.score_one(float(value), at))
            self.model.learn_one(float(value), at)
            self.readings += 1
        return scores


def level(n: int, at: float = 0.57, seed: int = 1) -> np.ndarray:
    return at + 0.005 * np.random.default_rng(seed).standard_normal(n)


def calibrated(step: timedelta = timedelta(minutes=1)) -> Series:
    series = Series(step)
    series.feed(level(30 + CALIBRATION_READINGS))
    assert not series.model.warming_up
    return series


def test_the_baseline_stays_pre_incident_through_a_long_plateau() -> None:
    series = calibrated()
    plateau = series.feed(level(12 * 60, at=1.25, seed=2))
    assert series.model.frozen
    assert all(s.surprise > 6 for s in plateau), "the evidence does not fade as the plateau lasts"
    assert all(abs((s.expected or 0.0) - 0.57) < 0.01 for s in plateau), "expected stays the baseline"


def test_release_waits_for_the_exit_dwell_holding_the_peak() -> None:
    series = calibrated()
    peak = max(s.surprise for s in series.feed(level(30, at=1.25, seed=2)))
    back = series.feed(level(EXIT.readings + 3, seed=3))
    held, released = back[: EXIT.readings], back[EXIT.readings :]
    assert all(s.held and s.surprise == peak for s in held)
    assert not series.model.frozen and all(s.surprise < 2 and not s.held for s in released)


def test_a_deviation_inside_the_exit_dwell_restarts_it() -> None:
    series = calibrated()
    series.feed(level(30, at=1.25, seed=2))
    series.feed(level(EXIT.readings - 1, seed=3))
    series.feed([1.25])
    assert series.model.frozen
    series.feed(level(EXIT.readings - 1, seed=4))
    assert series.model.frozen, "the dwell starts again after the deviating reading"


def test_deviating_readings_are_never_learned_once_calibrated() -> None:
    series = calibrated()
    series.feed([1.25, 1.25])  # two spikes, short of nothing: not learned
    assert abs((series.feed([0.57])[0].expected or 0.0) - 0.57) < 0.005


def test_a_new_series_is_quiet_until_calibrated_on_its_own_record() -> None:
    series = Series()
    scores = series.feed(np.concatenate([level(45), [5.0], level(10)]))
    assert all(s.warming_up and s.surprise == 0.0 for s in scores)


def test_a_record_with_too_many_deviations_starts_again() -> None:
    series = Series()
    series.feed(level(30))  # the model's warm-up
    noisy = level(CALIBRATION_READINGS)
    noisy[::10] = 1.25  # 3 deviating readings in 30: far above 1 in 1,440
    series.feed(noisy)
    series.feed(level(CALIBRATION_READINGS - 1, seed=5))
    assert series.model.warming_up, "the failed record does not count"
    series.feed(level(1, seed=6))
    assert not series.model.warming_up


def test_a_long_gap_calibrates_again() -> None:
    series = calibrated()
    series.readings += int(MAX_GAP_S / 60) + 1
    score = series.feed([5.0])[0]
    assert score.warming_up and series.model.warming_up


@pytest.mark.parametrize("step", SPACINGS, ids=["1s", "1min", "1h"])
def test_the_freeze_needs_two_readings_and_a_minute_at_any_rate(step: timedelta) -> None:
    series = calibrated(step)
    frozen_after = []
    for _ in range(120):
        series.feed([1.25])
        frozen_after.append(series.model.frozen)
    needed = max(FREEZE.readings, round(FREEZE.seconds / step.total_seconds()))
    assert frozen_after.index(True) + 1 == needed, "the run's time counts from the reading before it"


@pytest.mark.parametrize("step", SPACINGS, ids=["1s", "1min", "1h"])
def test_exit_needs_five_readings_and_five_minutes_at_any_rate(step: timedelta) -> None:
    series = calibrated(step)
    series.feed([1.25] * 120)
    back = series.feed(level(400, seed=3))
    released = next(i for i, s in enumerate(back) if not s.held)
    assert released == max(EXIT.readings, round(EXIT.seconds / step.total_seconds()))


def test_dwell_without_event_times_counts_readings() -> None:
    assert Dwell(3, 60.0).met(3, None, None) and not Dwell(3, 60.0).met(2, None, None)


def test_a_lone_spike_does_not_freeze_so_its_return_is_seen_at_once() -> None:
    series = calibrated()
    spike, after = series.feed([1.25, 0.57])
    assert spike.surprise > 6 and not series.model.frozen
    assert not after.held and after.surprise < 2, "the signal gate sees the spike come straight back"


def test_a_restored_state_keeps_the_frozen_baseline() -> None:
    series = calibrated()
    series.feed(level(30, at=1.25, seed=2))
    key = b"k" * 32
    restored = restore_state(save_state(series.model, key), HeldBaseline(EwmaZScore(**PARAMS)), key)
    assert restored.frozen
    at = T0 + series.readings * series.step
    assert restored.score_one(1.25, at) == series.model.score_one(1.25, at)


def test_frozen_for_counts_the_series_own_time_from_the_freeze_and_ends_with_it() -> None:
    held, t0 = HeldBaseline(EwmaZScore(warmup=5, min_spread=0.01)), datetime(2026, 1, 1, tzinfo=UTC)
    for minute, value in enumerate([1.0, 1.01, 0.99] * 30 + [2.0] * 62 + [1.0] * 10):
        at = t0 + timedelta(minutes=minute)
        held.score_one(value, at)
        held.learn_one(value, at)
        if minute == 90 + 61:
            assert held.frozen_for_s == 60 * 60.0  # froze on the second high reading
    assert held.frozen_for_s is None and not held.frozen


def test_a_warned_hazard_holds_the_baseline_and_calibration_is_not_held() -> None:
    """``warned`` (the series' hazard has an open warning in its community) stops all learning of
    a calibrated model, in-band readings too; a model still calibrating learns as always."""
    new = Series()
    for i, value in enumerate(level(30 + CALIBRATION_READINGS)):
        new.model.learn_one(float(value), T0 + i * new.step, warned=True)
    assert not new.model.warming_up, "calibration needs no baseline to protect"
    warned, followed = calibrated(), calibrated()
    rise = 0.57 + 0.0004 * np.arange(1, 151)  # never deviates from a model that follows it
    for series, flag in ((warned, True), (followed, False)):
        for value in rise:
            at = T0 + series.readings * series.step
            series.model.score_one(float(value), at)
            series.model.learn_one(float(value), at, warned=flag)
            series.readings += 1
    at = T0 + warned.readings * warned.step
    held, learned = warned.model.score_one(0.63, at), followed.model.score_one(0.63, at)
    assert abs((held.expected or 0.0) - 0.57) < 0.01 and (learned.expected or 0.0) > 0.6
    assert held.surprise > learned.surprise + 1
