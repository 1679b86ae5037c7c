"""The EWMA z-score baseline: warm-up, spikes, flat lines, direction, learning protection."""

from __future__ import annotations

import random

from detectors.base import Direction
from detectors.ewma import EwmaZScore
from detectors.series import SeriesDetectors


def trained(values: list[float], **params: object) -> EwmaZScore:
    detector = EwmaZScore(**params)  # type: ignore[arg-type]
    for v in values:
        detector.learn_one(v)
    return detector


def noise(n: int, level: float = 10.0, sd: float = 0.5, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(level, sd) for _ in range(n)]


def test_warming_up_until_enough_values() -> None:
    detector = trained(noise(29), warmup=30)
    assert detector.score_one(100.0).warming_up
    assert detector.score_one(100.0).surprise == 0.0
    detector.learn_one(10.0)
    assert not detector.score_one(100.0).warming_up


def test_a_spike_is_surprising_and_normal_values_are_not() -> None:
    detector = trained(noise(200))
    assert detector.score_one(10.2).p_value > 0.3
    spike = detector.score_one(15.0)
    assert spike.surprise > 6
    assert spike.expected is not None and abs(spike.expected - 10.0) < 0.3


def test_a_flat_series_does_not_alarm_on_a_tiny_wobble() -> None:
    detector = trained([5.0] * 500, min_spread=0.1)
    assert detector.score_one(5.01).p_value > 0.5
    assert detector.score_one(5.0).p_value == 1.0


def test_direction_up_ignores_drops_and_down_ignores_rises() -> None:
    up = trained(noise(100), direction=Direction.UP)
    down = trained(noise(100), direction=Direction.DOWN)
    assert up.score_one(0.0).p_value > 0.99 and up.score_one(20.0).surprise > 6
    assert down.score_one(20.0).p_value > 0.99 and down.score_one(0.0).surprise > 6


def test_protected_learning_keeps_the_baseline_through_a_short_fault() -> None:
    detector = trained(noise(200), max_protected=60)
    for _ in range(30):
        detector.learn_one(50.0)
    assert detector.score_one(50.0).surprise > 6, "a 30-point fault must not become normal"


def test_a_lasting_level_shift_is_learned_eventually() -> None:
    detector = trained(noise(200), max_protected=20)
    for v in noise(400, level=50.0):
        detector.learn_one(v)
    assert detector.score_one(50.0).p_value > 0.01


def test_series_bank_keeps_one_detector_per_series() -> None:
    bank = SeriesDetectors(lambda kind: EwmaZScore(warmup=3))
    for v in [1.0, 1.0, 1.0]:
        bank.observe("a", "x", v)
    bank.observe("b", "x", 1.0)
    assert len(bank) == 2
    assert bank.warming_up_count() == 1
