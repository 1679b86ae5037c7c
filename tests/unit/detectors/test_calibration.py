"""RecordCalibration's echo: the reading right after an alarm keeps the held evidence, so a
one-reading anomaly gives the assessment's 2-of-3 ladder its second high reading."""

from __future__ import annotations

from detectors.calibration import RecordCalibration
from detectors.ensemble import default_detector

HOLD = 5.05


def _after_alarm(echo: bool) -> RecordCalibration:
    calibration = RecordCalibration(
        quiet_after_alarm=3, floor=1.0, quiet_damping=3.0, hold_decades=HOLD, echo_alarm=echo
    )
    for z in [2.0] * 10_000 + [8.0]:  # a record of 2, then an alarm
        calibration.learn_one(z)
    return calibration


def test_the_reading_after_an_alarm_is_held_whatever_its_deviation() -> None:
    calibration = _after_alarm(echo=True)
    assert calibration.judge(0.0) == (HOLD, True), "back to normal, still held once"
    calibration.learn_one(0.0)
    assert calibration.surprise(0.0) == 0.0, "only the first reading of the spell"


def test_without_the_echo_a_reading_back_to_normal_carries_nothing() -> None:
    assert _after_alarm(echo=False).surprise(0.0) == 0.0


def test_a_generic_series_echoes_a_lone_spike() -> None:
    model = default_detector(warmup=20)
    for i in range(2_000):
        model.learn_one(10.0 + (i % 7) * 0.1)
    assert model.score_one(30.0).surprise > HOLD
    model.learn_one(30.0)
    assert model.score_one(10.3).surprise == HOLD
