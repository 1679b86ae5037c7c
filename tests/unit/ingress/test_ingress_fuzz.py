"""Hostile input: random and mutated bodies never crash the ingest path, and every item is accounted for.

For each body that passes authentication, every item either is accepted (and
produced) or becomes exactly one dead letter: in = accepted + dead-lettered.
"""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingress.http_ingest import HttpIngest, IngestRequest
from pipeline.ingress.senml import SENML_CONTENT_TYPE
from pipeline.ingress.settings import IngestToken
from pipeline.processing.decoding import DecodeLimits, MessageDecoder

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "fuzz-secret-0123456789abc"
LIMITS = DecodeLimits(max_message_bytes=8192, max_batch_events=20)
INGEST = HttpIngest([IngestToken(name="fuzz", token=TOKEN, communities=["c-1", "c-2"])], LIMITS)

VALID = {
    "kind": "sensor_reading",
    "event_id": "e-1",
    "community_id": "c-1",
    "event_time": NOW.isoformat(),
    "device_id": "wl-1",
    "sensor_type": "water_level",
    "value": 1.0,
    "unit": "m",
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=20), children, max_size=8)
    ),
    max_leaves=40,
)


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid reading with fields replaced, dropped or added."""
    event: dict[str, Any] = dict(VALID)
    for name in draw(st.lists(st.sampled_from([*VALID, "extra", "location"]), max_size=4)):
        action = draw(st.sampled_from(["replace", "drop"]))
        if action == "drop":
            event.pop(name, None)
        else:
            event[name] = draw(json_values)
    return event


bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_events().map(lambda e: json.dumps(e).encode()),
    st.lists(mutated_events(), min_size=1, max_size=30).map(lambda b: json.dumps(b).encode()),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 20_000).map(lambda n: json.dumps({**VALID, "unit": "m" * n}).encode()),
)


def count_items(body: bytes) -> int | None:
    """How many items a parseable body within the limits holds (1 for an object), else None."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if len(body) > LIMITS.max_message_bytes:
        return None
    if isinstance(payload, dict):
        return 1
    if isinstance(payload, list) and 0 < len(payload) <= LIMITS.max_batch_events:
        return len(payload)
    return None


def test_an_unhashable_kind_is_rejected_not_raised() -> None:
    result = MessageDecoder("sensor_reading", LIMITS).decode(b'{"kind": []}', b"c-1", NOW)
    assert [r.reason_class.value for r in result.rejections] == ["unknown_kind"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, senml=st.booleans())
def test_every_item_of_a_hostile_body_is_accepted_or_dead_lettered(body: bytes, senml: bool) -> None:
    request = IngestRequest(
        "sensor_reading",
        f"Bearer {TOKEN}",
        SENML_CONTENT_TYPE if senml else "application/json",
        body,
        community="c-1",
    )
    answer = INGEST.handle(request, NOW)
    assert answer.status in (202, 400, 403, 413, 422)
    if answer.status == 403:
        assert not answer.messages and not answer.dead_letters
        return
    produced = sum(len(json.loads(m.value)) for m in answer.messages)
    assert produced == answer.body["accepted"]
    assert len(answer.dead_letters) == answer.body["rejected"]
    assert len(answer.body["items"]) == produced + len(answer.dead_letters)
    assert (answer.status == 202) == (produced > 0), "202 exactly when something was accepted"
    if answer.status == 422:
        assert answer.dead_letters, "422: events, each one rejected"
    items = count_items(body)
    if items is not None and answer.status in (202, 422):
        assert produced + len(answer.dead_letters) == items
    assert all(
        len(letter.model_dump_json()) <= 4 * LIMITS.max_message_bytes for letter in answer.dead_letters
    )


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_the_decoder_accounts_for_every_item(body: bytes) -> None:
    result = MessageDecoder("sensor_reading", LIMITS).decode(body, b"c-1", NOW)
    items = count_items(body)
    if items is not None:
        assert len(result.events) + len(result.rejections) == items
    else:
        assert result.rejections


def test_memory_stays_bounded_over_many_hostile_requests() -> None:
    big = json.dumps([{**VALID, "event_id": f"e-{n}", "unit": "x" * 300} for n in range(20)]).encode()
    bodies = [big, b"[" * 4000, b"\xff" * 8192, b"x" * 100_000]

    def run(rounds: int) -> None:
        for _ in range(rounds):
            for body in bodies:
                INGEST.handle(IngestRequest("sensor_reading", f"Bearer {TOKEN}", None, body), NOW)

    run(20)
    tracemalloc.start()
    run(50)
    after_50 = tracemalloc.get_traced_memory()[0]
    run(200)
    after_250 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after_250 - after_50 < 256 * 1024
