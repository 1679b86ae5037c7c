"""Device health: silence, stuck sensors, batteries and suspected faults, with time moved by hand."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from detectors.device_health import (
    BatteryMonitor,
    FaultJudgement,
    HealthFindingKind,
    HeartbeatMonitor,
    StuckSensor,
)

T0 = datetime(2026, 3, 1, 8, 0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- heartbeat silence -------------------------------------------------------


def test_silence_follows_each_devices_own_interval() -> None:
    monitor = HeartbeatMonitor(missed_beats=3)
    monitor.beat("fast", at(0), interval_s=60)
    monitor.beat("hourly", at(0), interval_s=3600)
    silent = monitor.silent(at(4))
    assert [(f.device_id, f.kind, f.since) for f in silent] == [("fast", HealthFindingKind.SILENT, at(0))]
    assert {f.device_id for f in monitor.silent(at(181))} == {"fast", "hourly"}


def test_a_new_beat_ends_the_silence_and_a_late_one_does_not_rewind_it() -> None:
    monitor = HeartbeatMonitor(missed_beats=2)
    monitor.beat("wl-1", at(10), interval_s=60)
    monitor.beat("wl-1", at(5), interval_s=60)  # delivered late
    assert monitor.silent(at(11)) == []
    assert [f.since for f in monitor.silent(at(13))] == [at(10)]


def test_a_forgotten_device_is_not_reported() -> None:
    monitor = HeartbeatMonitor()
    monitor.beat("old", at(0), interval_s=60)
    monitor.forget("old")
    assert monitor.silent(at(600)) == []


# --- stuck sensor ----------------------------------------------------------


def noisy(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [round(20.0 + rng.gauss(0, 0.5), 2) for _ in range(n)]


def feed(sensor: StuckSensor, values: list[float], start_minute: int) -> list[bool]:
    return [sensor.observe(v, at(start_minute + i)) is not None for i, v in enumerate(values)]


def test_a_noisy_sensor_that_freezes_is_reported_from_the_first_frozen_reading() -> None:
    sensor = StuckSensor("t-1")
    assert not any(feed(sensor, noisy(500, 1), 0))
    found = None
    for i in range(30):
        found = sensor.observe(19.7, at(500 + i)) or found
    assert found is not None and found.kind is HealthFindingKind.STUCK and found.device_id == "t-1"
    assert found.since == at(500)


def test_a_sensor_that_often_repeats_is_not_called_stuck_for_its_usual_runs() -> None:
    rng = random.Random(5)
    sensor, level, reported = StuckSensor("gauge-1"), 100, 0
    for i in range(20_000):
        if rng.random() < 0.3:
            level += rng.choice((-1, 1))
        reported += sensor.observe(level / 100, at(i)) is not None
    assert reported == 0


def test_a_series_that_never_varied_is_never_called_stuck() -> None:
    sensor = StuckSensor("smoke-1")
    assert not any(feed(sensor, [0.0] * 5_000, 0))


def test_runs_shorter_than_the_minimum_duration_are_not_reported() -> None:
    sensor = StuckSensor("t-2", min_duration=timedelta(hours=1))
    feed(sensor, noisy(500, 2), 0)
    frozen = feed(sensor, [19.9] * 90, 500)
    assert not any(frozen[:60])
    assert frozen[61]


def test_near_identical_readings_within_the_tolerance_count_as_stuck() -> None:
    exact, tolerant = StuckSensor("a"), StuckSensor("b", tolerance=0.02)
    jitter = [19.9 + 0.01 * (i % 2) for i in range(40)]
    for sensor in (exact, tolerant):
        feed(sensor, noisy(500, 3), 0)
    assert not any(feed(exact, jitter, 500))
    assert any(feed(tolerant, jitter, 500))


def test_a_stuck_episode_does_not_teach_the_sensor_that_sitting_still_is_normal() -> None:
    sensor = StuckSensor("t-3")
    feed(sensor, noisy(500, 4), 0)
    first = feed(sensor, [19.5] * 200, 500).index(True)
    feed(sensor, noisy(300, 5), 700)
    second = feed(sensor, [19.5] * 200, 1000).index(True)
    assert second == first


def test_a_gap_ends_the_run() -> None:
    sensor = StuckSensor("t-4")
    feed(sensor, noisy(500, 6), 0)
    values = [19.8] * 8 + [float("nan")] + [19.8] * 8
    assert not any(feed(sensor, values, 500))


# --- battery -------------------------------------------------------------


def test_low_battery_is_reported_since_it_first_went_low() -> None:
    battery = BatteryMonitor("wl-1", low_pct=20)
    assert battery.observe(25, at(0)) == []
    battery.observe(19, at(60))
    found = battery.observe(18, at(120))
    low = [f for f in found if f.kind is HealthFindingKind.BATTERY_LOW]
    assert [f.since for f in low] == [at(60)]


def test_drain_rate_is_fitted_from_integer_percentages() -> None:
    battery = BatteryMonitor("wl-2", tau=timedelta(days=3))
    for minute in range(0, 3 * 24 * 60, 10):  # 3 days at 1 %/day, rounded to whole percent
        battery.observe(float(round(90 - minute / (24 * 60))), at(minute))
    rate = battery.drain_pct_per_h()
    assert rate == pytest.approx(1 / 24, rel=0.15)


def test_a_battery_projected_to_empty_within_the_horizon_is_reported_and_a_steady_one_is_not() -> None:
    draining, steady = BatteryMonitor("d", horizon=timedelta(days=2)), BatteryMonitor("s")
    found: list[HealthFindingKind] = []
    for h in range(12):
        found = [f.kind for f in draining.observe(80.0 - 2 * h, at(60 * h))]  # 2 %/h: ~29 h left
        assert steady.observe(80.0, at(60 * h)) == []
    assert found == [HealthFindingKind.BATTERY_DRAINING]


def test_a_recharge_restarts_the_drain_fit() -> None:
    battery = BatteryMonitor("r")
    for h in range(6):
        battery.observe(50.0 - 5 * h, at(60 * h))
    assert battery.drain_pct_per_h() == pytest.approx(5.0)
    battery.observe(100.0, at(60 * 7))
    assert battery.drain_pct_per_h() is None


def test_out_of_order_battery_readings_are_ignored() -> None:
    battery = BatteryMonitor("o")
    battery.observe(60.0, at(60))
    assert battery.observe(10.0, at(30)) == []


# --- suspected faults ---------------------------------------------------


def test_a_lone_spike_among_calm_neighbours_is_a_suspected_fault() -> None:
    found = FaultJudgement().suspected_faults({"a": 1e-8, "b": 0.3, "c": 0.9, "d": 0.5}, T0)
    assert [(f.device_id, f.kind, f.since) for f in found] == [("a", HealthFindingKind.SUSPECTED_FAULT, T0)]
    assert "3 of 3 neighbours" in found[0].evidence


def test_neighbours_agreeing_make_it_a_hazard_not_a_fault() -> None:
    assert FaultJudgement().suspected_faults({"a": 1e-8, "b": 1e-3, "c": 0.01}, T0) == []


def test_too_few_neighbours_cannot_outvote_a_sensor() -> None:
    assert FaultJudgement().suspected_faults({"a": 1e-8, "b": 0.9}, T0) == []
    assert FaultJudgement(min_neighbours=1).suspected_faults({"a": 1e-8, "b": 0.9}, T0) != []


def test_calm_fraction_decides_with_a_mixed_neighbourhood() -> None:
    scores = {"a": 1e-8, "b": 0.9, "c": 0.8, "d": 0.7, "e": 0.02}
    assert FaultJudgement(calm_fraction=0.75).suspected_faults(scores, T0) != []
    assert FaultJudgement(calm_fraction=1.0).suspected_faults(scores, T0) == []
