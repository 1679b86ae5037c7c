"""Shape models (shingle + River HalfSpaceTrees / LODA), beyond the shared conformance rules."""

from __future__ import annotations

import math

import pytest

from detectors.shape import ShapeHST, ShapeLODA, _Shape
from detectors.state import restore_state, save_state

KEY = b"shape-family-test-signing-key"


def saw(n: int) -> list[float]:
    return [10.0 + (i % 7) * 0.1 for i in range(n)]


def trained(cls: type[_Shape], n: int = 1_000) -> _Shape:
    detector = cls(warmup=200)
    for value in saw(n):
        detector.learn_one(value)
    return detector


def test_loda_flags_a_spike_and_an_odd_shape_of_ordinary_values() -> None:
    detector = trained(ShapeLODA)
    assert detector.score_one(10.6).surprise < 4  # the saw tooth goes on
    assert detector.score_one(30.0).surprise > 4
    assert detector.score_one(10.3).surprise > 4  # in range, but not after 10.3, 10.4, 10.5


@pytest.mark.parametrize("cls", [ShapeHST, ShapeLODA])
def test_warm_up_scores_carry_no_evidence(cls: type[_Shape]) -> None:
    detector = cls(warmup=200)
    for value in saw(199):
        assert detector.score_one(value).p_value == 1.0
        detector.learn_one(value)
    assert detector.warming_up
    detector.learn_one(10.0)
    assert not detector.warming_up


def test_a_protected_spike_is_not_learned_by_model_or_scale() -> None:
    detector = trained(ShapeLODA)
    high = detector._hi[0]
    detector.learn_one(30.0)
    assert detector._protected_in_row == 1
    assert detector._hi[0] == high


@pytest.mark.parametrize("cls", [ShapeHST, ShapeLODA])
def test_parameters_and_state_round_trip(cls: type[_Shape]) -> None:
    detector = trained(cls, 400)
    params = detector.parameters()
    assert params["shingle"] == 4 and "record_decades" in params
    restored = restore_state(save_state(detector, KEY), cls(warmup=200), KEY)
    for value in [*saw(50), 30.0, math.nan]:
        assert restored.score_one(value) == detector.score_one(value)
        restored.learn_one(value)
        detector.learn_one(value)
