"""The batch step (:mod:`detectors.batch`) gives the per-reading form's scores and state, bit for bit."""

from __future__ import annotations

import math
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import batch
from detectors.base import Direction, Score
from detectors.batch import observe, observe_batch, observe_reading
from detectors.conformance import ConformanceError, check_batch_matches_per_reading
from detectors.device_level import DeviceLevel
from detectors.ewma import EwmaZScore
from detectors.hold import HeldBaseline

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def held(warmup: int = 5, calibration: int = 5) -> HeldBaseline[float]:
    """A held z-score that leaves warm-up and calibration quickly, so short inputs reach every path."""
    return HeldBaseline(
        EwmaZScore(warmup=warmup, min_spread=0.05, direction=Direction.UP), calibration_readings=calibration
    )


def calibrated() -> HeldBaseline[float]:
    """A held z-score calibrated on quiet readings a minute apart (the last at minute 99)."""
    detector = held()
    for i in range(100):
        observe_reading(detector, 1.0 + 0.01 * (i % 3), T0 + timedelta(minutes=i))
    assert not detector.warming_up
    return detector


QUIET = [(1.0 + 0.01 * (i % 3), 60.0, False) for i in range(20)]
"""A quiet start a minute apart: warmed up and calibrated (:func:`held`) before the drawn rows."""
readings = st.lists(
    st.tuples(
        st.one_of(
            st.floats(0.98, 1.02),  # in band: the inlined step, once calibrated
            st.floats(0.98, 1.02),
            st.floats(0.98, 1.02),
            st.floats(0.5, 1.5),
            st.sampled_from([1.0, 3.0, 10.0, math.nan, math.inf, -math.inf]),
        ),
        st.sampled_from([0.0, *[60.0] * 8, 200_000.0]),  # seconds since the reading before
        st.sampled_from([False] * 6 + [True]),  # warned
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(readings)
def test_the_batch_step_scores_and_leaves_the_state_of_the_per_reading_form(
    rows: list[tuple[float, float, bool]],
) -> None:
    rows = QUIET + rows  # calibrated first, so every example reaches the inlined step
    values = [value for value, _, _ in rows]
    ats, at = [], T0
    for _, step, _ in rows:
        at += timedelta(seconds=step)
        ats.append(at)
    warned = [flag for _, _, flag in rows]
    batched, single = held(), held()
    got = observe_batch([batched] * len(rows), values, ats, warned)
    want = [observe_reading(single, v, a, w) for v, a, w in zip(values, ats, warned, strict=True)]
    assert got == want
    assert pickle.dumps(batched) == pickle.dumps(single)


def test_an_in_band_reading_of_a_calibrated_series_takes_the_inlined_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detector = calibrated()

    def refuse(*args: object, **kwargs: object) -> Score:
        raise AssertionError("the common reading took the models' own code")

    monkeypatch.setattr(HeldBaseline, "score_and_learn", refuse)
    score = observe(detector, 1.01, T0 + timedelta(minutes=100))
    assert score.surprise < 4 and not score.warming_up
    with pytest.raises(AssertionError, match="models' own code"):
        observe(detector, 5.0, T0 + timedelta(minutes=101))  # deviates: the hold decides
    with pytest.raises(AssertionError, match="models' own code"):
        observe(detector, 1.01, T0 + timedelta(minutes=102), warned=True)


def test_score_and_learn_is_score_one_then_learn_one_for_a_device_model() -> None:
    first, second = (HeldBaseline(DeviceLevel(warmup=5), calibration_readings=5) for _ in "ab")
    for i in range(200):
        reading = {"level": 1.0 + 0.01 * (i % 4), "flow": 2.0 + (5.0 if 150 <= i < 160 else 0.0)}
        at = T0 + timedelta(minutes=i)
        want = second.score_one(reading, at)
        second.learn_one(reading, at, warned=i > 180)
        assert first.score_and_learn(reading, at, warned=i > 180) == want
    assert pickle.dumps(first) == pickle.dumps(second)


def test_the_z_score_judges_with_tail_decades_and_learns_with_fold() -> None:
    model = EwmaZScore(warmup=3, min_spread=0.1)
    for value in (1.0, 1.2, 0.9, 1.1):
        model.learn_one(value)
    decades, mean = model.tail_decades(2.0)
    assert model.score_one(2.0) == Score.of_decades(decades, mean)
    model.fold(5.0)  # learned as learn_one would, unprotected: the mean moves up
    assert model.tail_decades(2.0)[1] > mean


def test_the_conformance_rule_catches_a_batch_step_that_drifts(monkeypatch: pytest.MonkeyPatch) -> None:
    steady = batch._steady_step

    def drifting(
        held: HeldBaseline[float], model: EwmaZScore, value: float, at: datetime | None
    ) -> Score | None:
        score = steady(held, model, value, at)
        if score is not None:
            held._peak = 1e-9  # a trace the per-reading form never leaves
        return score

    check_batch_matches_per_reading(held)
    monkeypatch.setattr(batch, "_steady_step", drifting)
    with pytest.raises(ConformanceError, match="state the per-reading form leaves"):
        check_batch_matches_per_reading(held)
