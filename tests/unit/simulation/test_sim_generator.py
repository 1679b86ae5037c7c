"""The simulator's normal behaviour: valid, deterministic, plausible events at the right cadence."""

from __future__ import annotations

import io
import json
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

from pipeline.processing.decoding import EVENT_MODELS
from pipeline.simulation.devices import COMMUNITY_LAYOUT, SENSOR_BEHAVIOURS
from pipeline.simulation.encoding import batch_json, encode_event, write_jsonl
from pipeline.simulation.generator import Batch, generate
from pipeline.simulation.scenario import Scenario
from schemas.envelope import ValidationClock
from schemas.events import SensorType

START = datetime(2026, 6, 1, tzinfo=UTC)  # Monday 08:00 in UTC+8


def quiet(communities: int = 2, hours: float = 2.0, seed: int = 5, **extra: object) -> Scenario:
    return Scenario(
        name="quiet", communities=communities, duration=timedelta(hours=hours), seed=seed, **extra
    )


def jsonl(scenario: Scenario) -> str:
    out = io.StringIO()
    write_jsonl(generate(scenario, START), out)
    return out.getvalue()


def test_the_same_seed_gives_the_same_stream_and_another_seed_does_not() -> None:
    assert jsonl(quiet(seed=5)) == jsonl(quiet(seed=5))
    assert jsonl(quiet(seed=5)) != jsonl(quiet(seed=6))


def test_adding_a_community_leaves_the_others_unchanged() -> None:
    def events_of(scenario: Scenario, community: str) -> list[dict[str, object]]:
        return [e for b in generate(scenario, START) if b.community_id == community for e in b.events]

    assert events_of(quiet(communities=2), "c002") == events_of(quiet(communities=3), "c002")


def test_every_event_passes_the_pipeline_schemas_inside_the_skew_window() -> None:
    scenario = quiet(hours=4, reports_per_day=200.0)
    clock = ValidationClock(START + scenario.duration, timedelta(days=1), timedelta(minutes=5))
    kinds: Counter[str] = Counter()
    for batch in generate(scenario, START):
        for event in batch.events:
            EVENT_MODELS[batch.kind].model_validate(event, context={"clock": clock})
            kinds[batch.kind] += 1
    assert set(kinds) == {"sensor_reading", "device_telemetry", "resident_report"}


def test_a_batch_holds_one_kind_of_one_community_and_fits_the_batch_limit() -> None:
    for batch in generate(quiet(), START):
        assert {e["community_id"] for e in batch.events} == {batch.community_id}
        assert {e["kind"] for e in batch.events} == {batch.kind}
        assert 0 < len(batch.events) <= 1000


def test_readings_stay_in_range_near_their_level() -> None:
    values: dict[str, list[float]] = {}
    for batch in generate(quiet(hours=24), START):
        if batch.kind == "sensor_reading":
            for e in batch.events:
                values.setdefault(str(e["sensor_type"]), []).append(float(e["value"]))
    for sensor_type, behaviour in SENSOR_BEHAVIOURS.items():
        seen = values[sensor_type.value]
        assert behaviour.low <= min(seen) and max(seen) <= behaviour.high
        swing = abs(behaviour.daily_amplitude) + 4 * behaviour.device_spread + 4 * behaviour.noise
        assert abs(statistics.fmean(seen) - behaviour.level) < swing, sensor_type


def test_pm25_follows_the_daily_cycle_and_weekends_swing_less() -> None:
    def pm25_at(local_hour: int, day: int) -> float:
        # local = UTC + 8; START is Monday 08:00 local.
        at = START + timedelta(days=day, hours=local_hour - 8)
        batches = generate(quiet(hours=0.5), at)
        return statistics.fmean(
            float(e["value"])
            for b in batches
            if b.kind == "sensor_reading"
            for e in b.events
            if e["sensor_type"] == "pm25"
        )

    weekday_swing = pm25_at(19, day=0) - pm25_at(7, day=0)
    weekend_swing = pm25_at(19, day=5) - pm25_at(7, day=5)
    assert weekday_swing > 10
    assert 0 < weekend_swing < weekday_swing


def test_each_device_sends_a_heartbeat_every_interval_with_a_draining_battery() -> None:
    scenario = quiet(hours=2)
    beats: dict[str, list[dict[str, object]]] = {}
    for batch in generate(scenario, START):
        if batch.kind == "device_telemetry":
            for e in batch.events:
                beats.setdefault(str(e["device_id"]), []).append(e)
    devices_per_community = sum(kind.count for kind in COMMUNITY_LAYOUT)
    assert len(beats) == 2 * devices_per_community
    for device, sent in beats.items():
        assert len(sent) in (24, 25), device  # 2 h / 5 min, staggered
        batteries = [float(e["battery_pct"]) for e in sent if "battery_pct" in e]  # type: ignore[arg-type]
        assert batteries == sorted(batteries, reverse=True)
        assert all(e["status"] == "online" for e in sent)


def test_background_reports_come_at_the_configured_daily_rate() -> None:
    scenario = quiet(communities=20, hours=24, reports_per_day=3.0)
    reports = sum(len(b.events) for b in generate(scenario, START) if b.kind == "resident_report")
    assert 30 <= reports <= 95  # 60 expected


def test_jsonl_writes_one_line_per_event() -> None:
    out = io.StringIO()
    counts = write_jsonl(
        [
            Batch("c1", "sensor_reading", 0.0, [{"a": 1}, {"b": "x},{y"}]),
            Batch("c1", "resident_report", 0.0, []),
        ],
        out,
    )
    assert out.getvalue() == '{"a":1}\n{"b":"x},{y"}\n'
    assert counts == Counter({"sensor_reading": 2})


def test_every_community_has_a_device_of_every_sensor_type() -> None:
    types = {kind.sensor_type for kind in COMMUNITY_LAYOUT}
    assert types == set(SensorType)


def test_the_fast_encoding_is_exactly_the_json_of_every_event() -> None:
    scenario = quiet(hours=1, reports_per_day=500.0)
    for batch in generate(scenario, START):
        assert json.loads(batch_json(batch)) == batch.events
        for event in batch.events:
            assert encode_event(event) == json.dumps(event, separators=(",", ":"))
