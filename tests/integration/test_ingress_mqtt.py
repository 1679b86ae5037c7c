"""The MQTT bridge between a real Mosquitto broker and the real Tansu broker.

Mosquitto comes from the Debian package (``tests/setup/system-packages.sh`` installs it).
"""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from pipeline.ingress.mqtt_bridge import BridgeCore, TopicRoute, run_bridge
from pipeline.ingress.settings import MqttSettings
from pipeline.kafka.broker import EmbeddedBroker, free_port, wait_for_port
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import DecodeLimits
from tests.integration.conftest import isolated_settings, read_until
from tests.setup.system_tools import require_tool

paho = pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed")
CallbackAPIVersion = paho.CallbackAPIVersion


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[int]:
    binary = require_tool("mosquitto", "mosquitto")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        assert wait_for_port("127.0.0.1", port, 10, process), "mosquitto did not start"
        yield port
    finally:
        process.terminate()
        process.wait(5)


def test_device_messages_are_validated_rekeyed_and_forwarded(
    mosquitto: int, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    topics = TopicNames.from_settings(isolated_settings(broker, tmp_path))
    core = BridgeCore(TopicRoute("riskwatch/{community}/{device}/{kind}"), topics, DecodeLimits())
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    subscribed = threading.Event()
    stopping = threading.Event()

    def send(topic: str, key: bytes, value: bytes) -> None:
        producer.send(topic, key=key, value=value).get(timeout=10)

    mqtt = MqttSettings(url=f"mqtt://127.0.0.1:{mosquitto}", client_id=f"bridge-{uuid.uuid4().hex[:6]}")
    bridge = threading.Thread(
        target=run_bridge,
        args=(mqtt, core, send, topics.deadletter),
        kwargs={"stop": stopping.is_set, "on_subscribed": subscribed.set},
    )
    bridge.start()
    try:
        assert subscribed.wait(10), "the bridge did not subscribe"
        device = paho.Client(CallbackAPIVersion.VERSION2, client_id="device-1")
        device.connect("127.0.0.1", mosquitto)
        device.loop_start()
        now = datetime.now(UTC).isoformat()
        telemetry = {
            "kind": "device_telemetry",
            "event_id": "t-1",
            "community_id": "c-7",
            "event_time": now,
            "device_id": "wl-1",
            "battery_pct": 80,
        }
        published = [
            device.publish("riskwatch/c-7/wl-1/device_telemetry", json.dumps(telemetry), qos=1),
            device.publish(
                "riskwatch/c-7/wl-1/senml", json.dumps([{"n": "water_level", "u": "mm", "v": 900}]), qos=1
            ),
            device.publish("riskwatch/c-8/wl-1/device_telemetry", json.dumps(telemetry), qos=1),
            device.publish("riskwatch/c-7/wl-1/senml", b"not json", qos=1),
        ]
        for info in published:
            info.wait_for_publish(10)
        device.loop_stop()
        device.disconnect()
        readings = read_until(broker, topics.readings, lambda rs: len(rs) >= 1)
        beats = read_until(broker, topics.telemetry, lambda rs: len(rs) >= 1)
        letters = read_until(broker, topics.deadletter, lambda rs: len(rs) >= 2)
    finally:
        stopping.set()
        bridge.join(10)
        producer.close()
    (reading,) = json.loads(readings[0].value)
    assert (readings[0].key, reading["device_id"], reading["value"], reading["unit"]) == (
        b"c-7",
        "wl-1",
        0.9,
        "m",
    )
    assert beats[0].key == b"c-7" and json.loads(beats[0].value)[0]["event_id"] == "t-1"
    reasons = sorted(
        (json.loads(r.value)["reason_class"], json.loads(r.value)["source_topic"]) for r in letters
    )
    assert reasons == [
        ("community_mismatch", "mqtt:riskwatch/c-8/wl-1/device_telemetry"),
        ("not_json", "mqtt:riskwatch/c-7/wl-1/senml"),
    ]


def test_a_message_kafka_did_not_take_is_redelivered_by_mqtt(
    mosquitto: int, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    topics = TopicNames.from_settings(isolated_settings(broker, tmp_path))
    core = BridgeCore(TopicRoute("riskwatch/{community}/{device}/{kind}"), topics, DecodeLimits())
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    subscribed = threading.Event()
    stopping = threading.Event()
    attempts: list[str] = []

    def flaky_send(topic: str, key: bytes, value: bytes) -> None:
        attempts.append(topic)
        if len(attempts) == 1:
            raise ConnectionError("Kafka is away")
        producer.send(topic, key=key, value=value).get(timeout=10)

    mqtt = MqttSettings(url=f"mqtt://127.0.0.1:{mosquitto}", client_id=f"bridge-{uuid.uuid4().hex[:6]}")
    bridge = threading.Thread(
        target=run_bridge,
        args=(mqtt, core, flaky_send, topics.deadletter),
        kwargs={"stop": stopping.is_set, "on_subscribed": subscribed.set},
    )
    bridge.start()
    try:
        assert subscribed.wait(10), "the bridge did not subscribe"
        device = paho.Client(CallbackAPIVersion.VERSION2, client_id="device-2")
        device.connect("127.0.0.1", mosquitto)
        device.loop_start()
        pack = [{"bt": datetime.now(UTC).timestamp(), "n": "smoke", "u": "%obs/m", "v": 0.4}]
        device.publish("riskwatch/c-5/sd-1/senml", json.dumps(pack), qos=1).wait_for_publish(10)
        device.loop_stop()
        device.disconnect()
        records = read_until(broker, topics.readings, lambda rs: len(rs) >= 1)
    finally:
        stopping.set()
        bridge.join(10)
        producer.close()
    assert len(attempts) >= 2, "the first, failed attempt was not retried"
    (reading,) = json.loads(records[0].value)
    assert (records[0].key, reading["device_id"], reading["sensor_type"]) == (b"c-5", "sd-1", "smoke")
