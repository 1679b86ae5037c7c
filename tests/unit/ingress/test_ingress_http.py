"""HTTP ingest handler: authentication, community scope, limits, per-item results and dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.ingress.http_ingest import HttpIngest, IngestAnswer, IngestRequest
from pipeline.ingress.senml import SENML_CONTENT_TYPE
from pipeline.ingress.settings import IngestToken
from pipeline.processing.decoding import DecodeLimits

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "gateway-secret-0123456789"
OTHER_TOKEN = "other-secret-abcdefghijkl"
INGEST = HttpIngest(
    [
        IngestToken(name="gw-1", token=TOKEN, communities=["c-1", "c-2"]),
        IngestToken(name="gw-9", token=OTHER_TOKEN, communities=["c-9"]),
    ],
    DecodeLimits(max_message_bytes=4096, max_batch_events=5),
)


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


def post(body: object, token: str | None = TOKEN, kind: str = "sensor_reading", **extra: Any) -> IngestAnswer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = IngestRequest(
        kind=kind,
        authorization=None if token is None else f"Bearer {token}",
        content_type=extra.pop("content_type", "application/json"),
        body=raw,
        **extra,
    )
    return INGEST.handle(request, NOW)


def test_a_batch_is_accepted_item_by_item_and_rejects_become_dead_letters() -> None:
    answer = post([reading(0), reading(1, unit="cm"), reading(2)])
    assert answer.status == 202
    assert (answer.body["accepted"], answer.body["rejected"]) == (2, 1)
    assert [(i["index"], i["status"]) for i in answer.body["items"]] == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "accepted"),
    ]
    assert answer.body["items"][1]["reason_class"] == "invalid_field"
    assert [m.key for m in answer.messages] == [b"c-1"]
    sent = json.loads(answer.messages[0].value)
    assert [e["event_id"] for e in sent] == ["e-0", "e-2"]
    assert "received_time" not in sent[0]
    assert [(d.item_index, d.reason_class.value, d.key) for d in answer.dead_letters] == [
        (1, "invalid_field", "c-1")
    ]
    assert answer.client == "gw-1"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_requests_without_a_known_token_are_refused_and_produce_nothing(authorization: str | None) -> None:
    request = IngestRequest(
        "sensor_reading", authorization, "application/json", json.dumps(reading()).encode()
    )
    answer = INGEST.handle(request, NOW)
    assert answer.status == 401
    assert answer.headers == {"WWW-Authenticate": "Bearer"}
    assert not answer.messages and not answer.dead_letters


def test_a_token_cannot_publish_for_a_community_outside_its_scope() -> None:
    answer = post([reading(0, community_id="c-9")])
    assert answer.status == 403
    assert not answer.messages and not answer.dead_letters
    assert post([reading(0, community_id="c-9")], token=OTHER_TOKEN).status == 202


def test_unknown_kind_and_media_type_are_refused() -> None:
    assert post(reading(), kind="bogus").status == 404
    assert post(reading(), content_type="text/plain").status == 415


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"x" * 5000, 413, "too_large"),
        ([reading(n) for n in range(6)], 413, "batch_too_large"),
        (b"{not json", 400, "not_json"),
        (b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" * 40, 400, "not_json"),
        (b"7", 400, "wrong_shape"),
    ],
)
def test_bodies_that_are_not_events_are_refused_whole_and_dead_lettered(
    body: object, status: int, reason: str
) -> None:
    answer = post(body)
    assert answer.status == status
    assert [d.reason_class.value for d in answer.dead_letters] == [reason]
    assert answer.body["items"][0]["index"] is None
    assert not answer.messages


def test_a_single_invalid_event_is_answered_with_its_reason_and_422_as_nothing_was_accepted() -> None:
    answer = post(reading(extra_field=1))
    assert answer.status == 422
    assert answer.body["items"] == [
        {
            "index": None,
            "status": "rejected",
            "reason_class": "unknown_field",
            "reason": answer.dead_letters[0].reason,
        }
    ]


def test_senml_needs_a_community_in_scope_and_is_normalised() -> None:
    pack = [{"bn": "wl-1/", "n": "water_level", "u": "cm", "v": 150}, {"n": "water_level", "u": "ft", "v": 1}]
    assert post(pack, content_type=SENML_CONTENT_TYPE).status == 403
    assert post(pack, content_type=SENML_CONTENT_TYPE, community="c-9").status == 403
    answer = post(pack, content_type=SENML_CONTENT_TYPE, community="c-2")
    assert answer.status == 202
    assert [(i["index"], i["status"]) for i in answer.body["items"]] == [(0, "accepted"), (1, "rejected")]
    assert "'ft' is not accepted for water_level" in answer.body["items"][1]["reason"]
    (event,) = json.loads(answer.messages[0].value)
    assert (event["community_id"], event["value"], event["unit"]) == ("c-2", 1.5, "m")
    assert answer.messages[0].key == b"c-2"


def test_accepted_events_are_split_into_messages_within_the_size_limit() -> None:
    ingest = HttpIngest(
        [IngestToken(name="gw-1", token=TOKEN, communities=["c-1"])],
        DecodeLimits(max_message_bytes=2048, max_batch_events=1000),
    )
    pack = [{"bn": "wl-1/", "bt": NOW.timestamp(), "bu": "m", "n": "water_level", "v": 1}] + [
        {"n": "water_level", "t": n, "v": 1} for n in range(1, 30)
    ]
    request = IngestRequest(
        "sensor_reading", f"Bearer {TOKEN}", SENML_CONTENT_TYPE, json.dumps(pack).encode(), community="c-1"
    )
    answer = ingest.handle(request, NOW)
    assert answer.body["accepted"] == 30
    assert len(answer.messages) > 1
    assert all(len(m.value) <= 2048 for m in answer.messages)
    assert sum(len(json.loads(m.value)) for m in answer.messages) == 30


def test_tokens_never_appear_in_answers_or_reprs() -> None:
    answers = [post(reading(), token=TOKEN + "x"), post(reading()), post(b"{", token=TOKEN)]
    token_config = IngestToken(name="gw-1", token=TOKEN, communities=["c-1"])
    texts = [repr(token_config), str(token_config), token_config.model_dump_json()]
    texts += [json.dumps(a.body) + repr(a) for a in answers]
    assert all(TOKEN not in text for text in texts)


def test_short_tokens_are_refused_at_configuration_without_echoing_them() -> None:
    with pytest.raises(ValueError) as caught:
        IngestToken(name="gw-1", token="short-secret", communities=["c-1"])
    assert "short-secret" not in str(caught.value)
