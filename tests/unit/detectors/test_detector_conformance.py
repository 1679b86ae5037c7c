"""Every registered detector passes every conformance rule (detectors.conformance)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from detectors.base import Detector, Score
from detectors.conformance import CONFORMING_DETECTORS, ConformanceError, check_detector, check_non_finite
from detectors.ewma import EwmaZScore


@pytest.mark.parametrize("name", sorted(CONFORMING_DETECTORS))
def test_detector_conforms(name: str) -> None:
    check_detector(CONFORMING_DETECTORS[name])


class _LearnsNaN(EwmaZScore):
    """A broken detector: it scores NaN as an anomaly."""

    def score_one(self, value: float, at: object = None) -> Score:  # type: ignore[override]
        if math.isnan(value):
            return Score(p_value=0.0, expected=None, warming_up=False)
        return super().score_one(value)


def test_the_check_catches_a_broken_detector() -> None:
    factory: Callable[[], Detector] = _LearnsNaN
    with pytest.raises(ConformanceError, match="p_value 1"):
        check_non_finite(factory)
