"""HTTP ingest on the worker's Faust web server, producing to the real Tansu broker.

The view is the worker's own (:func:`pipeline.ingress.ingest_view.install_ingest`): the
pure handler answers, and accepted events reach the input topic and rejected
items the dead-letter topic before the client gets its 202.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from pipeline.config import Settings
from pipeline.ingress.http_ingest import HttpIngest
from pipeline.ingress.senml import SENML_CONTENT_TYPE
from pipeline.ingress.settings import IngestToken
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import DecodeLimits
from tests.integration.conftest import read_until
from tests.integration.ingress_http_server import serve_ingest

TOKEN = "it-secret-token-0123456789"


@pytest.fixture
def server(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[tuple[str, str]]:
    prefix = f"h{uuid.uuid4().hex[:8]}."
    topics = TopicNames.from_settings(Settings(topic_prefix=prefix))
    ingest = HttpIngest([IngestToken(name="gw-1", token=TOKEN, communities=["c-1"])], DecodeLimits())
    with serve_ingest(ingest, broker.bootstrap_servers, topics, tmp_path) as url:
        yield url, prefix


def reading(n: int) -> dict[str, object]:
    return {
        "kind": "sensor_reading",
        "event_id": f"http-{n}",
        "community_id": "c-1",
        "event_time": datetime.now(UTC).isoformat(),
        "device_id": "wl-1",
        "sensor_type": "water_level",
        "value": 1.0 + n,
        "unit": "m",
    }


async def test_posted_events_reach_the_input_topic_and_rejects_the_dead_letter_topic(
    server: tuple[str, str], broker: EmbeddedBroker
) -> None:
    url, prefix = server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/ingest/sensor_reading", json=reading(0)) as refused:
            assert refused.status == 401
        batch = [reading(1), {**reading(2), "unit": "cm"}]
        async with session.post(f"{url}/ingest/sensor_reading", json=batch, headers=auth) as answer:
            assert answer.status == 202
            assert [i["status"] for i in (await answer.json())["items"]] == ["accepted", "rejected"]
        pack = json.dumps([{"bn": "wl-2/", "n": "water_level", "u": "cm", "v": 250}])
        async with session.post(
            f"{url}/ingest/sensor_reading?community=c-1",
            data=pack,
            headers={**auth, "Content-Type": SENML_CONTENT_TYPE},
        ) as answer:
            assert answer.status == 202, await answer.text()

    def events(records: list) -> list[dict]:  # type: ignore[type-arg]
        return [e for r in records for e in json.loads(r.value)]

    readings = read_until(broker, f"{prefix}sensor.readings", lambda rs: len(events(rs)) >= 2)
    assert sorted((e["device_id"], e["value"]) for e in events(readings)) == [("wl-1", 2.0), ("wl-2", 2.5)]
    assert {r.key for r in readings} == {b"c-1"}
    letters = read_until(broker, f"{prefix}deadletter", lambda rs: len(rs) >= 1)
    (letter,) = [json.loads(r.value) for r in letters]
    assert (letter["item_index"], letter["reason_class"], letter["source_topic"]) == (
        1,
        "invalid_field",
        "http:/ingest/sensor_reading",
    )
