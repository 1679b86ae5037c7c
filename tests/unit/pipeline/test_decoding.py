"""Message decoding: every kind of bad input gets its own reason class, and valid items survive."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.processing.decoding import DecodeLimits, MessageDecoder, dead_letters
from schemas import RejectReason, SensorReading

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DECODER = MessageDecoder("sensor_reading", DecodeLimits(max_message_bytes=4096, max_batch_events=3))


def reading(n: int = 0, **changes: Any) -> dict[str, Any]:
    base = {
        "kind": "sensor_reading",
        "event_id": f"e-{n}",
        "community_id": "c-1",
        "event_time": NOW.isoformat(),
        "device_id": "wl-1",
        "sensor_type": "water_level",
        "value": 1.0 + n,
        "unit": "m",
    }
    return {**base, **changes}


def decode(raw: bytes, key: bytes | None = b"c-1") -> list[tuple[int | None, RejectReason]]:
    result = DECODER.decode(raw, key, NOW)
    return [(r.item_index, r.reason_class) for r in result.rejections]


def test_one_valid_event_and_a_valid_batch_are_accepted() -> None:
    result = DECODER.decode(json.dumps(reading()).encode(), b"c-1", NOW)
    assert result.rejections == []
    [event] = result.events
    assert isinstance(event, SensorReading) and event.value == 1.0
    batch = DECODER.decode(json.dumps([reading(0), reading(1)]).encode(), b"c-1", NOW)
    assert [e.event_id for e in batch.events] == ["e-0", "e-1"] and batch.rejections == []


def test_fast_and_slow_paths_judge_skew_and_community_alike() -> None:
    late = reading(1, event_time=(NOW + timedelta(hours=1)).isoformat())
    alone = DECODER.decode(json.dumps(late).encode(), b"c-1", NOW).rejections
    beside_a_bad_item = DECODER.decode(json.dumps([late, {"kind": "x"}]).encode(), b"c-1", NOW).rejections
    assert [(r.reason_class, r.reason) for r in alone] == [
        (beside_a_bad_item[0].reason_class, beside_a_bad_item[0].reason)
    ]
    assert beside_a_bad_item[0].item_index == 0 and alone[0].item_index is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\xff not json", RejectReason.NOT_JSON),
        (b'{"kind": "sensor_reading", "value": NaN}', RejectReason.NOT_JSON),
        (b'{"value": Infinity}', RejectReason.NOT_JSON),
        (b"[" * 5000, RejectReason.TOO_LARGE),
        (b"[" * 3000 + b"]" * 3000, RejectReason.TOO_LARGE),
        (b'"just a string"', RejectReason.WRONG_SHAPE),
        (b"[]", RejectReason.WRONG_SHAPE),
        (json.dumps([reading(i) for i in range(4)]).encode(), RejectReason.BATCH_TOO_LARGE),
        (json.dumps(reading(kind="weather_report")).encode(), RejectReason.UNKNOWN_KIND),
        (json.dumps(reading(kind=["sensor_reading"])).encode(), RejectReason.UNKNOWN_KIND),
        (json.dumps(reading(kind={"a": 1})).encode(), RejectReason.UNKNOWN_KIND),
        (json.dumps(reading(kind="device_telemetry")).encode(), RejectReason.WRONG_TOPIC),
        (
            json.dumps({k: v for k, v in reading().items() if k != "kind"}).encode(),
            RejectReason.MISSING_FIELD,
        ),
        (
            json.dumps({k: v for k, v in reading().items() if k != "value"}).encode(),
            RejectReason.MISSING_FIELD,
        ),
        (json.dumps(reading(value="high")).encode(), RejectReason.INVALID_FIELD),
        (json.dumps(reading(value=1.5)).replace("1.5", "1e400").encode(), RejectReason.NON_FINITE),
        (json.dumps(reading(extra=1)).encode(), RejectReason.UNKNOWN_FIELD),
        (
            json.dumps(reading(event_time=(NOW + timedelta(hours=1)).isoformat())).encode(),
            RejectReason.CLOCK_SKEW,
        ),
        (json.dumps(reading(community_id="c-2")).encode(), RejectReason.COMMUNITY_MISMATCH),
    ],
)
def test_each_bad_message_is_rejected_with_its_class(raw: bytes, reason: RejectReason) -> None:
    assert [r for _, r in decode(raw)] == [reason]


def test_deep_nesting_within_the_size_limit_is_not_json_not_a_crash() -> None:
    decoder = MessageDecoder("sensor_reading", DecodeLimits(max_message_bytes=1_000_000))
    result = decoder.decode(b"[" * 200_000 + b"]" * 200_000, b"c-1", NOW)
    assert [r.reason_class for r in result.rejections] == [RejectReason.NOT_JSON]


def test_a_batch_keeps_its_valid_items_and_names_the_bad_ones() -> None:
    raw = json.dumps([reading(0), reading(1, value=7.5), reading(2, community_id="c-9")])
    result = DECODER.decode(raw.replace("7.5", "1e400").encode(), b"c-1", NOW)
    assert [e.event_id for e in result.events] == ["e-0"]  # type: ignore[attr-defined]
    assert [(r.item_index, r.reason_class) for r in result.rejections] == [
        (1, RejectReason.NON_FINITE),
        (2, RejectReason.COMMUNITY_MISMATCH),
    ]


def test_without_a_key_the_first_event_fixes_the_community() -> None:
    raw = json.dumps([reading(0), reading(1, community_id="c-2")]).encode()
    assert decode(raw, key=None) == [(1, RejectReason.COMMUNITY_MISMATCH)]


def test_reasons_are_sentences_a_producer_can_act_on() -> None:
    result = DECODER.decode(json.dumps(reading(value="high")).encode(), b"c-1", NOW)
    assert "field 'value': Input should be a valid number (got 'high')" in result.rejections[0].reason
    result = DECODER.decode(json.dumps(reading(kind="device_telemetry")).encode(), b"c-1", NOW)
    assert "does not belong on this topic" in result.rejections[0].reason


def test_dead_letters_carry_the_raw_bytes_and_origin() -> None:
    raw = b'{"broken": '
    rejections = DECODER.decode(raw, b"c-1", NOW).rejections
    [letter] = dead_letters(
        raw, b"c-1", topic="t", partition=2, offset=41, rejections=rejections, now=NOW, max_raw_bytes=100
    )
    assert letter.raw == raw
    assert (letter.raw_size, letter.raw_truncated) == (len(raw), False)
    assert base64.b64decode(letter.raw_base64) == raw
    assert (letter.source_topic, letter.partition, letter.offset, letter.key) == ("t", 2, 41, "c-1")
    assert letter.reason_class is RejectReason.NOT_JSON
    assert letter.rejected_at == NOW


def test_an_oversized_message_keeps_its_head_size_and_digest() -> None:
    raw = b"x" * 5000
    rejections = DECODER.decode(raw, b"c-1", NOW).rejections
    [letter] = dead_letters(
        raw, None, topic="t", partition=0, offset=0, rejections=rejections, now=NOW, max_raw_bytes=4096
    )
    assert letter.reason_class is RejectReason.TOO_LARGE
    assert letter.raw == raw[:4096]
    assert (letter.raw_size, letter.raw_truncated) == (5000, True)
    assert letter.raw_sha256 == hashlib.sha256(raw).hexdigest()
