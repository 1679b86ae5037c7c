"""DeviceLevel and the held generic device: combined evidence of several metrics, which metric
drove it, quiet on a quantised sensor's next step, a deviation confirmed by a second reading,
released when readings come back, a lasting new level followed only slowly, and a stale
baseline dropped after hours without readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from detectors.base import Score
from detectors.device_level import DeviceLevel
from detectors.ensemble import (
    GENERIC_MAX_FREEZE,
    GENERIC_MAX_GAP_S,
    PerMetricDevice,
    SeriesModel,
    default_device,
)
from detectors.hold import DEVIATING_DECADES, HeldBaseline
from detectors.state import restore_state, save_state

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Reading = dict[str, float]


def quality(n: int, seed: int = 1, ph: float = 8.4, redox: float = 750.0) -> list[Reading]:
    """Water quality rounded to the sensors' resolution: pH 0.01, redox 1 mV."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, 2))
    return [{"ph": round(ph + 0.01 * a, 2), "redox": float(round(redox + b))} for a, b in noise]


class Device:
    """The generic held device of ``riskwatch replay``, fed one reading a minute."""

    def __init__(self) -> None:
        self.model = default_device(SeriesModel(), metrics=2)
        self.readings = 0

    def feed(self, readings: list[Reading]) -> list[Score]:
        scores = []
        for reading in readings:
            at = T0 + timedelta(minutes=self.readings)
            scores.append(self.model.score_one(reading, at))
            self.model.learn_one(reading, at)
            self.readings += 1
        return scores


def test_shifts_too_small_alone_deviate_together_and_name_the_larger() -> None:
    device = DeviceLevel(warmup=30)
    for reading in quality(2_000):
        device.learn_one(reading)
    spread_ph, spread_redox = 0.01, 1.0  # about one noise sd each
    alone = device.score_one({"ph": 8.4 + 7 * spread_ph, "redox": 750.0})
    together = device.score_one({"ph": 8.4 + 7 * spread_ph, "redox": 750.0 + 9 * spread_redox})
    assert alone.surprise < DEVIATING_DECADES <= together.surprise
    assert together.contributor == "redox" and together.expected is not None
    assert abs(together.expected - 750.0) < 1.0, "expected is the driving metric's level"


def test_a_quantised_sensor_that_sat_still_does_not_deviate_on_its_next_step() -> None:
    device = DeviceLevel(warmup=30)
    for i in range(3_000):  # conductivity sits on 211 for hours, with a rare step of 1
        device.learn_one({"leit": 212.0 if i % 500 == 0 else 211.0})
    assert device.score_one({"leit": 212.0}).surprise < 1.0
    assert device.score_one({"leit": 230.0}).surprise > DEVIATING_DECADES


def test_the_generic_device_is_several_metrics_held_and_a_single_metric_keeps_its_model() -> None:
    assert isinstance(default_device(SeriesModel(), metrics=9), HeldBaseline)
    assert isinstance(default_device(SeriesModel(), metrics=1), PerMetricDevice)
    assert isinstance(default_device(SeriesModel("water_level", min_spread=0.02), metrics=3), PerMetricDevice)


def test_a_new_device_is_quiet_until_calibrated() -> None:
    device = Device()
    scores = device.feed(quality(200))
    assert all(s.warming_up for s in scores[:59]), "warm-up 30 and a record of 30 readings first"
    assert not device.model.warming_up


def test_an_incident_is_warned_while_it_lasts_and_released_when_readings_come_back() -> None:
    device = Device()
    device.feed(quality(1_500))
    incident = device.feed(quality(25, seed=2, ph=8.6, redox=725.0))
    back = device.feed(quality(10, seed=3))
    assert incident[0].surprise <= DEVIATING_DECADES, "a first deviating reading waits for a second"
    assert all(s.surprise > 2 * DEVIATING_DECADES for s in incident[1:]), "the evidence does not fade"
    assert all(abs((s.expected or 0.0) - 750.0) < 1.0 for s in incident), "expected stays pre-incident"
    assert back[0].held, "the first reading back in band keeps the incident's evidence ..."
    assert all(s.surprise < 1.0 for s in back[1:]), "... and releases the baseline"


def test_a_lone_spike_is_never_more_than_deviating() -> None:
    device = Device()
    device.feed(quality(1_500))
    spike = device.feed([{"ph": 9.5, "redox": 750.0}])
    after = device.feed(quality(5, seed=4))
    assert spike[0].surprise == DEVIATING_DECADES
    assert max(s.surprise for s in after) < 1.0, "the spike was not learned"


def test_a_lasting_new_level_is_followed_slowly_not_at_once() -> None:
    device = Device()
    device.feed(quality(1_500))  # two metrics move: not a lone step (accepted after GENERIC_SHIFT)
    shifted = device.feed(quality(GENERIC_MAX_FREEZE.readings * 20, seed=5, ph=8.6, redox=800.0))
    assert all(s.surprise > DEVIATING_DECADES for s in shifted[1:100]), "frozen: no silent adaptation"
    expected = [s.expected or 0.0 for s in shifted]
    assert expected[0] < expected[-1] < 800.0, "one reading a freeze period is learned"


def test_a_restored_device_keeps_its_frozen_baseline() -> None:
    device = Device()
    device.feed(quality(1_500))
    device.feed(quality(5, seed=2, redox=725.0))
    assert isinstance(device.model, HeldBaseline) and device.model.frozen
    key = b"k" * 32
    restored = restore_state(save_state(device.model, key), default_device(SeriesModel(), metrics=2), key)
    assert restored.frozen
    assert restored.score_one({"ph": 8.4, "redox": 725.0}).surprise > DEVIATING_DECADES


def test_a_steady_step_of_one_metric_alone_is_accepted_and_its_size_remembered() -> None:
    device = Device()
    device.feed([{**r, "flow": 700.0 + (i % 3)} for i, r in enumerate(quality(1_500))])
    stepped = device.feed([{**r, "flow": 820.0 + (i % 3)} for i, r in enumerate(quality(120, seed=2))])
    assert stepped[1].surprise >= DEVIATING_DECADES and stepped[1].contributor == "flow"
    assert all(s.surprise < 1.0 for s in stepped[30:]), "the new level is accepted after 20 minutes"
    again = device.feed([{**r, "flow": 700.0 + (i % 3)} for i, r in enumerate(quality(60, seed=3))])
    assert all(s.surprise < DEVIATING_DECADES for s in again), "a step of the usual size no longer deviates"
    big = device.feed([{**r, "flow": 2_000.0} for r in quality(5, seed=4)])
    assert big[1].surprise >= DEVIATING_DECADES, "a step ten times the usual one still does"


def test_a_lasting_deviation_of_several_metrics_together_is_never_accepted() -> None:
    device = Device()
    device.feed(quality(1_500))
    event = device.feed(quality(300, seed=2, ph=8.6, redox=725.0))
    assert all(s.surprise >= DEVIATING_DECADES for s in event[1:]), "held for 5 hours, not re-levelled"


def test_a_noisy_lone_deviation_is_not_accepted() -> None:
    device = Device()
    device.feed([{**r, "flow": 700.0 + (i % 3)} for i, r in enumerate(quality(1_500))])
    rng = np.random.default_rng(5)
    flows = 820.0 + 60.0 * rng.standard_normal(120)
    wild = device.feed([{**r, "flow": float(f)} for r, f in zip(quality(120, seed=2), flows, strict=True)])
    assert sum(s.surprise >= DEVIATING_DECADES for s in wild[60:]) > 20, "its level is not moved"


def test_a_device_back_after_hours_silent_calibrates_again_but_not_after_an_hour() -> None:
    restarted, paused = Device(), Device()
    for device, gap in ((restarted, GENERIC_MAX_GAP_S), (paused, 3_600.0)):
        device.feed(quality(1_500))
        device.readings += int(gap // 60) + 1  # silent: no readings for the gap
    # the plant comes back with its metrics moved together
    after_restart = restarted.feed(quality(200, seed=6, ph=8.6, redox=725.0))
    after_pause = paused.feed(quality(200, seed=6, ph=8.6, redox=725.0))
    assert all(s.warming_up for s in after_restart[:30]), "a stale baseline is no hazard's before"
    assert max(s.surprise for s in after_restart) < DEVIATING_DECADES
    assert all(s.surprise > DEVIATING_DECADES for s in after_pause[1:30]), "an hour's pause keeps it"
