"""The real ``riskwatch worker`` with the ingress wiring: HTTP ingest on its web port, and Kafka over TLS.

These tests need the wiring of issue 7 in ``pipeline/config.py`` and
``pipeline/worker/app.py`` (settings ``ingest_tokens`` and ``kafka``); until it is
applied they skip and say so.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from pipeline.config import Settings
from pipeline.ingress.openapi import ingest_openapi
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess
from tests.integration.conftest import ARTIFACTS, isolated_settings, read_until
from tests.integration.secure_broker import make_certificates, tls_only_broker

TOKEN = "worker-ingest-token-0123456789"

pytestmark = pytest.mark.skipif(
    not {"ingest_tokens", "kafka"} <= Settings.model_fields.keys(),
    reason="the ingress wiring (Settings.ingest_tokens, Settings.kafka) is not applied yet",
)


def reading(unit: str = "m") -> dict[str, object]:
    return {
        "kind": "sensor_reading",
        "event_id": f"w-{unit}",
        "community_id": "c-1",
        "event_time": datetime.now(UTC).isoformat(),
        "device_id": "wl-1",
        "sensor_type": "water_level",
        "value": 1.0,
        "unit": unit,
    }


def post(url: str, body: object, token: str | None) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_worker_serves_http_ingest(broker: EmbeddedBroker, tmp_path: Path) -> None:
    tokens = [{"name": "gw-1", "token": TOKEN, "communities": ["c-1"]}]
    settings = isolated_settings(broker, tmp_path, ingest_tokens=tokens)
    ensure_topics(settings, broker.bootstrap_servers)
    names = TopicNames.from_settings(settings)
    with WorkerProcess(settings, ARTIFACTS / f"worker-{settings.app_id}.log") as worker:
        worker.wait_ready(60)
        url = f"{worker.base_url}/ingest/sensor_reading"
        assert post(url, [reading()], None)[0] == 401
        status, body = post(url, [reading(), reading("cm")], TOKEN)
        assert (status, body["accepted"], body["rejected"]) == (202, 1, 1)
        status, body = post(url, [reading("ft")], TOKEN)
        assert (status, body["accepted"], body["rejected"]) == (422, 0, 1), "nothing accepted: 422"
        with urllib.request.urlopen(f"{worker.base_url}/openapi.json", timeout=10) as answer:
            assert json.loads(answer.read()) == json.loads(json.dumps(ingest_openapi()))
        records = read_until(broker, names.readings, lambda rs: len(rs) >= 1)
        letters = read_until(broker, names.deadletter, lambda rs: len(rs) >= 2)
    assert [e["event_id"] for e in json.loads(records[0].value)] == ["w-m"]
    assert json.loads(letters[0].value)["source_topic"] == "http:/ingest/sensor_reading"


def test_the_worker_runs_against_a_broker_reachable_only_over_tls(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    certificates = make_certificates(tmp_path / "tls")
    with tls_only_broker(certificates) as bootstrap:
        tls = {"security_protocol": "SSL", "ssl_cafile": str(certificates.ca_file)}
        settings = isolated_settings(broker, tmp_path, bootstrap_servers=bootstrap, kafka=tls)
        ensure_topics(settings, bootstrap)
        names = TopicNames.from_settings(settings)
        security = settings.kafka.kafka_python_kwargs()  # type: ignore[attr-defined]
        with WorkerProcess(settings, ARTIFACTS / f"worker-{settings.app_id}.log") as worker:
            worker.wait_ready(60)
            producer = KafkaProducer(bootstrap_servers=bootstrap, **security)
            producer.send(names.readings, key=b"c-1", value=json.dumps(reading("ft")).encode()).get(10)
            producer.close()
            consumer = KafkaConsumer(
                names.deadletter,
                bootstrap_servers=bootstrap,
                auto_offset_reset="earliest",
                consumer_timeout_ms=30_000,
                **security,
            )
            try:
                letter = json.loads(next(iter(consumer)).value)
            finally:
                consumer.close()
    assert (letter["reason_class"], letter["key"]) == ("invalid_field", "c-1")
