"""The device SDK against the real Tansu broker: validated, keyed by community, failures reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config import Settings
from pipeline.ingress.publish import DeliveryError, Publisher
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.topics import TopicNames
from tests.integration.conftest import isolated_settings, read_until


def test_readings_and_senml_packs_arrive_keyed_by_community(broker: EmbeddedBroker, tmp_path: Path) -> None:
    topics = TopicNames.from_settings(isolated_settings(broker, tmp_path))
    reading = {
        "kind": "sensor_reading",
        "event_id": "sdk-1",
        "community_id": "c-3",
        "event_time": datetime.now(UTC).isoformat(),
        "device_id": "gas-1",
        "sensor_type": "gas_co",
        "value": 12.0,
        "unit": "ppm",
    }
    with Publisher(broker.bootstrap_servers, topics=topics) as publisher:
        with pytest.raises(ValidationError):
            publisher.send_reading({**reading, "unit": "mg/m3"})
        with pytest.raises(ValueError, match="'furlong' is not accepted"):
            publisher.send_senml([{"n": "gas-1/gas_co", "u": "furlong", "v": 1}], community_id="c-3")
        assert publisher.send_reading(reading).result(10)[1] >= 0
        publisher.send_senml([{"n": "gas-1/gas_co", "u": "ppm", "v": 15}], community_id="c-3").result(10)
    records = read_until(broker, topics.readings, lambda rs: len(rs) >= 2)
    assert [r.key for r in records] == [b"c-3", b"c-3"]
    assert json.loads(records[0].value)["event_id"] == "sdk-1"
    assert json.loads(records[1].value)[0]["value"] == 15.0


def test_a_delivery_failure_is_reported_to_the_caller(tmp_path: Path) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    topics = TopicNames.from_settings(Settings(topic_prefix="x."))
    publisher = Publisher(nowhere, topics=topics, api_version=(2, 5), max_block_ms=500)
    telemetry = {
        "kind": "device_telemetry",
        "event_id": "t-1",
        "community_id": "c-3",
        "event_time": datetime.now(UTC).isoformat(),
        "device_id": "gas-1",
    }
    try:
        with pytest.raises(DeliveryError, match=r"event t-1 was not (sent|delivered)"):
            publisher.send_telemetry(telemetry).result(timeout_s=2)
    finally:
        publisher.close(timeout_s=1)
