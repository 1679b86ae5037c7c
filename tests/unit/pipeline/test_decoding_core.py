"""The decoder's core-only fast path accepts what the models accept, with equal events, and a
message decodes to the same events and rejections (classes, reason texts, items) as the plain
model path validating it item by item."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pipeline.processing.decoding import EVENT_MODELS, CoreValidators, DecodeLimits, MessageDecoder
from schemas.envelope import ValidationClock
from schemas.events import CANONICAL_UNITS, EventKind, SensorType

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LIMITS = DecodeLimits(max_batch_events=4)
CLOCK = ValidationClock(NOW, LIMITS.max_event_age, LIMITS.max_event_ahead)
"""Its window's ends are whole seconds: the core's window is the clock's own."""
MISSING = object()
MICROSECOND = timedelta(microseconds=1)

TIMES = [
    NOW.isoformat(),
    CLOCK.latest.isoformat(),
    (CLOCK.latest + MICROSECOND).isoformat(),
    CLOCK.earliest.isoformat(),
    (CLOCK.earliest - MICROSECOND).isoformat(),
    (CLOCK.latest + timedelta(hours=8)).isoformat().replace("+00:00", "+08:00"),
    (CLOCK.latest + timedelta(hours=8) + MICROSECOND).isoformat().replace("+00:00", "+08:00"),
    (NOW - timedelta(minutes=3)).isoformat(),
    "2026-11-23T20:00:00+08:00",
    (NOW + timedelta(hours=1)).isoformat(),
    (NOW - timedelta(days=8)).isoformat(),
    "2026-11-23T12:00:00",
    "not a time",
    1_795_000_000,
]
UNITS = [*CANONICAL_UNITS.values(), " m ", "M", "", "m\n", 3]


def field(valid: Any, wrong: list[Any]) -> st.SearchStrategy[Any]:
    """``valid`` nine times in ten; else one of ``wrong`` or the field left out."""
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from([*wrong, MISSING] if n == 0 else [valid]))


@st.composite
def items(draw: st.DrawFn) -> Any:
    """A batch item near a valid reading or heartbeat, with each field possibly wrong or absent."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from([7, "x", None, [], {}]))
    kind = draw(st.sampled_from(["sensor_reading", "device_telemetry"]))
    sensor_type = draw(st.sampled_from(SensorType))
    fields = {
        "kind": field(kind, ["resident_report", "weather", "sensor_reading"]),
        "event_id": field("e-1", ["", "bad id!", 7]),
        "community_id": field("c-1", ["c-2", "bad/id"]),
        "event_time": st.sampled_from(TIMES),
        "received_time": field(MISSING, [None, NOW.isoformat(), "2026-11-23T12:00:00"]),
        "schema_version": field(MISSING, [1, 2, "1"]),
        "device_id": field("wl-1", ["", "wl 1"]),
    }
    if kind == "sensor_reading":
        fields["sensor_type"] = field(sensor_type.value, [*SensorType, "lux", 1])
        fields["value"] = st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**20), 10**20)
        ) | field(1.5, [True, "1.5", None])
        fields["unit"] = field(CANONICAL_UNITS[sensor_type], [f" {CANONICAL_UNITS[sensor_type]} ", *UNITS])
    else:
        fields["status"] = field("online", ["fault", "broken"])
        fields["heartbeat_interval_s"] = field(60, [0, 90000.5, True])
    fields["surprise"] = field(MISSING, [1])
    drawn = {name: draw(strategy) for name, strategy in fields.items()}
    return {name: value for name, value in drawn.items() if value is not MISSING}


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """One item or a batch of 0–5 (the limit is 4), JSON-encoded, sometimes after whitespace."""
    payload = draw(items()) if draw(st.booleans()) else draw(st.lists(items(), max_size=5))
    text = json.dumps(payload)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return (draw(st.sampled_from(["", " ", "\n\t", "\x0c"])) + text).encode()


@settings(max_examples=600, deadline=None)
@given(kind=st.sampled_from(sorted(EVENT_MODELS)), raw=messages())
def test_the_core_accepts_what_the_model_and_clock_accept_with_equal_events(kind: str, raw: bytes) -> None:
    model = EVENT_MODELS[kind]
    plain: TypeAdapter[Any] = TypeAdapter(model | list[model])  # type: ignore[valid-type]
    try:
        expected = plain.validate_json(raw)
    except ValidationError:
        expected = None
    core = CoreValidators(model)
    found = core.validate(raw, CLOCK)
    as_list = expected if isinstance(expected, list) else [expected]
    if expected is None or (core.judges_time and any(CLOCK.problem(e.event_time) for e in as_list)):
        assert found is None
        return
    assert isinstance(found, tuple)
    events, batch = found
    assert batch == isinstance(expected, list)
    assert pickle.dumps(events) == pickle.dumps(as_list)
    assert [e.model_fields_set for e in events] == [e.model_fields_set for e in as_list]


@settings(max_examples=600, deadline=None)
@given(
    kind=st.sampled_from(["sensor_reading", "device_telemetry"]),
    raw=messages(),
    key=st.sampled_from([b"c-1", b"c-2", b"", None]),
    now=st.sampled_from([NOW, NOW + MICROSECOND, NOW - timedelta(seconds=0.5)]),
)
def test_a_message_decodes_as_the_plain_model_path_decodes_it(
    kind: EventKind, raw: bytes, key: bytes | None, now: datetime
) -> None:
    decoder = MessageDecoder(kind, LIMITS)
    decoded = decoder.decode(raw, key, now)
    clock = ValidationClock(now, LIMITS.max_event_age, LIMITS.max_event_ahead)
    community = key.decode() if key else None
    plain = decoder._decode_items(raw, community, clock)
    assert decoded.rejections == plain.rejections
    # One event at a time: a JSON parser that shares equal strings between events changes
    # how a list pickles, not what it holds.
    assert [pickle.dumps(e) for e in decoded.events] == [pickle.dumps(e) for e in plain.events]


def test_the_core_validators_call_no_python_for_a_sensor_reading_and_judge_its_time() -> None:
    validators = CoreValidators(EVENT_MODELS["sensor_reading"])
    _, one, many = validators._for((CLOCK.earliest, CLOCK.latest))
    assert "function" not in repr(one) + repr(many)
    assert validators.judges_time
