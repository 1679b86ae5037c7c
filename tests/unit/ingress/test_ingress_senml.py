"""SenML packs: base fields carry forward, units convert, anything unknown is refused by record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.ingress.senml import resolve_pack

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def resolve(records: list[Any], device_id: str | None = None) -> Any:
    return resolve_pack(records, community_id="c-1", now=NOW, device_id=device_id)


def test_base_name_time_and_unit_carry_forward() -> None:
    pack = resolve(
        [
            {"bn": "urn:dev:gw-4/", "bt": NOW.timestamp(), "bu": "Cel", "n": "temperature", "v": 21.5},
            {"n": "temperature", "t": -60, "v": 21.0},
        ]
    )
    assert not pack.rejections
    assert [(e["device_id"], e["value"], e["unit"]) for e in pack.events] == [
        ("urn:dev:gw-4", 21.5, "degC"),
        ("urn:dev:gw-4", 21.0, "degC"),
    ]
    assert pack.events[1]["event_time"] == (NOW - timedelta(seconds=60)).isoformat()


def test_relative_times_are_relative_to_now_and_ids_are_deterministic() -> None:
    first = resolve([{"n": "wl-1/water_level", "u": "mm", "v": 1250, "t": -5}])
    again = resolve([{"n": "wl-1/water_level", "u": "mm", "v": 1250, "t": -5}])
    assert first.events[0]["event_time"] == (NOW - timedelta(seconds=5)).isoformat()
    assert first.events[0]["value"] == pytest.approx(1.25)
    assert first.events[0]["event_id"] == again.events[0]["event_id"]


def test_a_topic_device_overrides_the_name() -> None:
    pack = resolve([{"n": "power", "u": "mV", "v": 230_000}], device_id="meter-3")
    assert (pack.events[0]["device_id"], pack.events[0]["value"]) == ("meter-3", pytest.approx(230.0))


@pytest.mark.parametrize(
    ("record", "reason_class", "words"),
    [
        ({"n": "wl-1/water_level", "u": "furlong", "v": 1}, "invalid_field", "'furlong' is not accepted"),
        ({"n": "wl-1/water_level", "v": 1}, "invalid_field", "no unit"),
        ({"n": "wl-1/humidity", "u": "%RH", "v": 50}, "invalid_field", "does not end in a sensor type"),
        ({"n": "water_level", "u": "m", "v": 1}, "invalid_field", "names no device"),
        ({"n": "wl-1/water_level", "u": "m", "vs": "high"}, "invalid_field", "only numeric"),
        ({"n": "wl-1/water_level", "u": "m", "v": True}, "invalid_field", "finite number"),
        ({"n": "wl-1/water_level", "u": "m", "v": 1, "x_": 2}, "unknown_field", "unknown SenML field"),
        ({"n": "wl-1/water_level", "u": "m"}, "invalid_field", "no value"),
        ({"n": "wl-1/temperature", "u": "K", "v": 1e308, "t": 1e300}, "invalid_field", "time"),
        ("not a record", "invalid_field", "JSON object"),
    ],
)
def test_records_that_are_not_readings_are_refused_with_the_reason(
    record: Any, reason_class: str, words: str
) -> None:
    pack = resolve([record])
    assert not pack.events
    ((rejection),) = pack.rejections
    assert (rejection.item_index, rejection.reason_class.value) == (0, reason_class)
    assert words in rejection.reason
