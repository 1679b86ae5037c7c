"""Level-shift detectors: calibrated on noise, alarm on a shift, then accept the new level."""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable

import pytest

from detectors.base import Detector
from detectors.drift import AdwinShift, PageHinkleyShift

FAMILY: dict[str, Callable[[], Detector]] = {"page_hinkley": PageHinkleyShift, "adwin": AdwinShift}


def gaussian(n: int, mean: float, seed: int, sd: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


def run(detector: Detector, values: list[float]) -> list[float]:
    """p-values of score-then-learn over ``values``."""
    p_values = []
    for value in values:
        p_values.append(detector.score_one(value).p_value)
        detector.learn_one(value)
    return p_values


@pytest.mark.parametrize("kind", FAMILY)
def test_white_noise_rarely_alarms(kind: str) -> None:
    p_values = run(FAMILY[kind](), gaussian(20_000, 5.0, seed=11))
    assert sum(p < 1e-4 for p in p_values) / len(p_values) < 1e-3


def test_page_hinkley_p_values_are_roughly_calibrated_on_white_noise() -> None:
    p_values = run(PageHinkleyShift(), gaussian(20_000, 5.0, seed=2))[1_000:]
    share = sum(p < 0.01 for p in p_values) / len(p_values)
    assert 0.001 < share < 0.05  # nominal 0.01; σ is estimated online


@pytest.mark.parametrize("kind", FAMILY)
def test_a_two_sigma_shift_alarms_within_200_values_then_settles(kind: str) -> None:
    detector = FAMILY[kind]()
    run(detector, gaussian(2_000, 5.0, seed=3))
    after = run(detector, gaussian(600, 7.0, seed=4))
    first = next(i for i, p in enumerate(after) if p < 0.01)
    assert first < 200
    assert min(after[-200:]) > 1e-4


def test_page_hinkley_evidence_grows_with_the_shift_before_it_fires() -> None:
    detector = PageHinkleyShift()
    run(detector, gaussian(1_000, 0.0, seed=5))
    surprises = []
    for value in [1.0] * 15:
        surprises.append(detector.score_one(value).surprise)
        detector.learn_one(value)
    assert surprises[-1] > surprises[0]
    assert surprises == sorted(surprises)


def test_page_hinkley_scores_do_not_depend_on_the_unit() -> None:
    values = gaussian(1_500, 3.0, seed=6) + gaussian(100, 4.0, seed=7)
    in_metres = run(PageHinkleyShift(min_spread=1e-9), values)
    in_millimetres = run(PageHinkleyShift(min_spread=1e-6), [1000.0 * v + 250.0 for v in values])
    assert in_millimetres == pytest.approx(in_metres, rel=1e-6, abs=1e-12)


def test_adwin_scores_delta_on_detection_and_fades_over_hold() -> None:
    detector = AdwinShift(delta=0.002, hold=40, clock=8)
    run(detector, gaussian(1_000, 0.0, seed=8))
    after = run(detector, [6.0] * 100)
    detected = after.index(min(after))
    assert min(after) == pytest.approx(0.002)
    assert after[detected + 20] == pytest.approx(0.002**0.5)
    assert after[detected + 40] == 1.0


@pytest.mark.parametrize("kind", FAMILY)
def test_score_one_does_not_learn(kind: str) -> None:
    detector = FAMILY[kind]()
    run(detector, gaussian(500, 1.0, seed=9))
    before = pickle.dumps(detector)
    detector.score_one(50.0)
    assert pickle.dumps(detector) == before


@pytest.mark.parametrize("kind", FAMILY)
def test_warm_up_carries_no_evidence(kind: str) -> None:
    detector = FAMILY[kind]()
    scores = [detector.score_one(v) for v in [1.0, 100.0]]
    assert all(s.warming_up and s.p_value == 1.0 for s in scores)
    run(detector, gaussian(30, 1.0, seed=10))
    assert not detector.warming_up
