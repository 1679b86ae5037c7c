"""The drill's time anchoring: repeatable scenarios replay the past; the worker's window is widened to fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import Settings
from pipeline.simulation.drill import DrillError, drill_start, event_age_window
from pipeline.simulation.scenario import Scenario

NOW = datetime(2026, 11, 23, 14, 30, 27, tzinfo=UTC)


def scenario(start: datetime | None) -> Scenario:
    return Scenario(name="t", communities=1, duration=timedelta(hours=3), start=start)


def test_a_scenario_without_a_start_ends_a_minute_before_now_on_a_whole_minute() -> None:
    start = drill_start(scenario(None), NOW)
    assert start + timedelta(hours=3) == datetime(2026, 11, 23, 14, 29, tzinfo=UTC)


def test_a_fixed_start_is_kept_and_the_worker_accepts_events_that_old() -> None:
    fixed = datetime(2026, 6, 1, tzinfo=UTC)
    assert drill_start(scenario(fixed), NOW) == fixed
    window = event_age_window(Settings(), fixed, NOW)
    assert window > (NOW - fixed).total_seconds()
    recent = NOW - timedelta(hours=4)
    assert event_age_window(Settings(), recent, NOW) == Settings().max_event_age_s


def test_a_scenario_that_would_end_in_the_future_is_refused() -> None:
    with pytest.raises(DrillError, match="ends after now"):
        drill_start(scenario(NOW - timedelta(hours=1)), NOW)


def test_a_paced_drill_keeps_event_time_in_step_with_the_wall_clock() -> None:
    fixed = datetime(2026, 6, 1, tzinfo=UTC)
    start = drill_start(scenario(fixed), NOW, speedup=60.0)
    # 3 h at 60x take 3 min: the last event's time is the wall time it is sent at.
    assert start == NOW - timedelta(hours=3) + timedelta(minutes=3)
