"""The ingest agent takes a backlog in batches and still handles it message by message, in order."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess
from schemas import DeadLetter
from tests.integration.conftest import ARTIFACTS, isolated_settings, read_until

BACKLOG = 150


def batch_histogram(base_url: str) -> tuple[float, float]:
    """Count and sum of the worker's ``riskwatch_ingest_batch_messages{agent="ingest"}``."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("agent") == "ingest"
    }
    return samples["riskwatch_ingest_batch_messages_count"], samples["riskwatch_ingest_batch_messages_sum"]


def test_a_backlog_is_taken_in_batches_and_its_outputs_keep_the_input_order(
    broker: EmbeddedBroker, producer: KafkaProducer, tmp_path: Path
) -> None:
    settings = isolated_settings(broker, tmp_path)
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    for n in range(BACKLOG):  # one key: one partition, one order; each leaves one dead letter
        producer.send(topics.readings, key=b"c-backlog", value=f"not json m{n:04d}".encode())
    producer.flush(timeout=10)

    def letters(records: list[Any]) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(r.value) for r in records]

    with WorkerProcess(settings, ARTIFACTS / f"worker-{settings.app_id}.log") as worker:
        worker.wait_ready(60)
        found = letters(read_until(broker, topics.deadletter, lambda rs: len(rs) >= BACKLOG, timeout_s=60))
        count, total = batch_histogram(worker.base_url)
    assert [letter.raw for letter in found] == [f"not json m{n:04d}".encode() for n in range(BACKLOG)]
    assert [letter.offset for letter in found] == list(range(BACKLOG))
    assert total == BACKLOG, "every message is in exactly one batch"
    assert count < BACKLOG, "a waiting backlog is taken more than one message at a time"
