"""Event schemas: what is accepted, what is refused, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import (
    DeviceTelemetry,
    ResidentReport,
    RiskWarning,
    SensorReading,
    Tier,
    ValidationClock,
)
from schemas.export import EXPORTED, export_json_schemas

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def reading(**changes: Any) -> dict[str, Any]:
    base = {
        "kind": "sensor_reading",
        "event_id": "e-1",
        "community_id": "c-1",
        "event_time": NOW.isoformat(),
        "device_id": "wl-1",
        "sensor_type": "water_level",
        "value": 1.25,
        "unit": "m",
    }
    return {**base, **changes}


def report(**changes: Any) -> dict[str, Any]:
    base = {
        "kind": "resident_report",
        "event_id": "e-2",
        "community_id": "c-1",
        "event_time": NOW.isoformat(),
        "report_id": "r-1",
        "reporter_role": "grid_worker",
        "category": "flood",
        "description": "water in the basement of block 4",
        "observed_time": (NOW - timedelta(minutes=5)).isoformat(),
        "severity": 3,
    }
    return {**base, **changes}


def error_types(payload: dict[str, Any], model: type = SensorReading, **context: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload, context=context or None)
    return [e["type"] for e in caught.value.errors()]


def test_valid_events_of_each_kind_parse() -> None:
    assert SensorReading.model_validate(reading()).series_key == "c-1/wl-1/water_level"
    assert ResidentReport.model_validate(report()).severity == 3
    telemetry = DeviceTelemetry.model_validate(
        {
            "kind": "device_telemetry",
            "event_id": "e-3",
            "community_id": "c-1",
            "event_time": NOW.isoformat(),
            "device_id": "wl-1",
            "battery_pct": 41.5,
        }
    )
    assert telemetry.status.value == "online"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"value": float("nan")}, "finite_number"),
        ({"value": float("inf")}, "finite_number"),
        ({"value": True}, "float_type"),
        ({"value": "1.5"}, "float_type"),
        ({"event_time": "2026-11-23T12:00:00"}, "timezone_aware"),
        ({"colour": "red"}, "extra_forbidden"),
        ({"device_id": "wl 1; drop"}, "string_pattern_mismatch"),
        ({"community_id": "x" * 65}, "string_pattern_mismatch"),
        ({"sensor_type": "radiation"}, "enum"),
        ({"unit": "cm"}, "value_error"),
        ({"schema_version": 2}, "literal_error"),
    ],
)
def test_bad_readings_are_refused(changes: dict[str, Any], expected: str) -> None:
    assert expected in error_types(reading(**changes))


def test_missing_field_is_named() -> None:
    payload = reading()
    del payload["value"]
    with pytest.raises(ValidationError) as caught:
        SensorReading.model_validate(payload)
    assert caught.value.errors()[0]["loc"] == ("value",)


def test_unit_error_says_which_unit_to_send() -> None:
    with pytest.raises(ValidationError, match="send the value converted to 'm'"):
        SensorReading.model_validate(reading(unit="cm"))


def test_report_bounds() -> None:
    assert "string_too_long" in error_types(report(description="x" * 2001), ResidentReport)
    assert "int_type" in error_types(report(severity=2.5), ResidentReport)
    assert "less_than_equal" in error_types(report(severity=6), ResidentReport)
    later = (NOW + timedelta(minutes=1)).isoformat()
    with pytest.raises(ValidationError, match="after the report was submitted"):
        ResidentReport.model_validate(report(observed_time=later))


def test_clock_skew_window_applies_when_a_clock_is_given() -> None:
    clock = ValidationClock(NOW, max_age=timedelta(hours=1), max_ahead=timedelta(minutes=5))
    future = (NOW + timedelta(minutes=6)).isoformat()
    past = (NOW - timedelta(hours=2)).isoformat()
    assert error_types(reading(event_time=future), clock=clock) == ["clock_skew"]
    assert error_types(reading(event_time=past), clock=clock) == ["clock_skew"]
    inside = (NOW + timedelta(minutes=4)).isoformat()
    assert SensorReading.model_validate(reading(event_time=inside), context={"clock": clock})
    # Offline use (no clock) does not judge the time.
    assert SensorReading.model_validate(reading(event_time=past))


def test_tier_order_colour_and_label() -> None:
    assert [t.label for t in sorted(Tier, key=lambda t: t.severity)] == [
        "IV blue",
        "III yellow",
        "II orange",
        "I red",
    ]


def test_warning_round_trips_through_json() -> None:
    warning = RiskWarning(
        warning_id="w-1",
        revision=1,
        community_id="c-1",
        hazard="flood",
        tier=Tier.III,
        status="active",
        change="opened",
        opened_at=NOW,
        updated_at=NOW,
        risk=0.99,
        caused_by="riskwatch/assessment",
    )
    assert RiskWarning.model_validate_json(warning.model_dump_json()) == warning


def test_json_schema_export_writes_every_kind(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"{n}.schema.json" for n in EXPORTED)
    reading_schema = json.loads((tmp_path / "out" / "sensor_reading.schema.json").read_text())
    assert reading_schema["additionalProperties"] is False
    assert "value" in reading_schema["required"]
