"""Integration fixtures: one real Tansu broker per session, real worker processes, kafka-python clients."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.producer.future import FutureRecordMetadata

from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is marked ``integration``."""
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """A real Tansu broker on a free loopback port, for the whole session."""
    ARTIFACTS.mkdir(exist_ok=True)
    with EmbeddedBroker(log_file=ARTIFACTS / "tansu.log") as running:
        yield running


def isolated_settings(broker: EmbeddedBroker, tmp_path: Path, **overrides: object) -> Settings:
    """Settings with topics and a consumer group of their own, so tests never share state."""
    unique = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "bootstrap_servers": broker.bootstrap_servers,
        "app_id": f"rw-test-{unique}",
        "topic_prefix": f"t{unique}.",
        "partitions": 2,
        "web_port": free_port(),
        "data_dir": tmp_path / "data",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def worker_settings(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings of this module's worker; its topics exist before the worker starts."""
    settings = isolated_settings(broker, tmp_path_factory.mktemp("worker"))
    ensure_topics(settings, broker.bootstrap_servers)
    return settings


@pytest.fixture(scope="module")
def worker(worker_settings: Settings) -> Iterator[WorkerProcess]:
    """A real ``riskwatch worker`` process, ready (group joined, partitions assigned)."""
    log = ARTIFACTS / f"worker-{worker_settings.app_id}.log"
    with WorkerProcess(worker_settings, log) as running:
        running.wait_ready(60)
        yield running


@pytest.fixture(scope="module")
def topics(worker_settings: Settings) -> TopicNames:
    """This module's topic names."""
    return TopicNames.from_settings(worker_settings)


@pytest.fixture(scope="module")
def producer(broker: EmbeddedBroker) -> Iterator[KafkaProducer]:
    """A kafka-python producer, as devices and gateways use."""
    client = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=2)
    yield client
    client.close()


def publish(producer: KafkaProducer, topic: str, key: str, value: object) -> None:
    """Send one message (JSON-encoded unless already bytes) and wait for the broker's ack."""
    payload = value if isinstance(value, bytes) else json.dumps(value).encode()
    producer.send(topic, key=key.encode(), value=payload).get(timeout=10)


class MarkerStream:
    """Sends numbered invalid messages (``not json m000123``), cycling through ``keys``, until
    stopped. Each one the worker processes leaves exactly one dead letter naming its marker,
    so the dead-letter topic tells message by message what was processed.

    ``await_each``: wait for each acknowledgement before the next send (a steady stream), or
    keep sending and leave the futures in :attr:`sent` (a producer that buffers through a
    broker outage). ``producer_settings`` go to the ``KafkaProducer``.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        keys: Sequence[str] = tuple(f"c{n}" for n in range(8)),
        interval_s: float,
        await_each: bool = True,
        **producer_settings: Any,
    ) -> None:
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap, linger_ms=5, acks="all", **producer_settings
        )
        self.topic = topic
        self.keys = [key.encode() for key in keys]
        self.interval_s = interval_s
        self.await_each = await_each
        self.sent: list[tuple[str, FutureRecordMetadata]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def markers(self) -> list[str]:
        """The markers sent so far, in order."""
        return [marker for marker, _ in self.sent]

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            marker = f"m{n:06d}"
            key = self.keys[n % len(self.keys)]
            future = self.producer.send(self.topic, key=key, value=f"not json {marker}".encode())
            if self.await_each:
                future.get(10)
            self.sent.append((marker, future))
            n += 1
            self.stop.wait(self.interval_s)

    def __enter__(self) -> MarkerStream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.producer.close(timeout=10)


def await_condition(condition: Callable[[], bool], timeout_s: float, message: str) -> None:
    """Poll ``condition`` (a worker's HTTP endpoint, a stream's progress) until true; fail with ``message``.

    A connection refused while a process starts or restarts counts as "not yet".
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"not within {timeout_s} s: {message}")


def read_records(
    broker: EmbeddedBroker,
    topic: str,
    done: Callable[[list[ConsumerRecord]], bool],
    timeout_s: float = 30.0,
) -> list[ConsumerRecord]:
    """Records of ``topic`` from the start, until ``done(records)`` holds or ``timeout_s`` passes."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not done(records):
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def read_until(
    broker: EmbeddedBroker,
    topic: str,
    done: Callable[[list[ConsumerRecord]], bool],
    timeout_s: float = 30.0,
) -> list[ConsumerRecord]:
    """Read ``topic`` from the start until ``done(records)`` holds; fail with what was seen."""
    records = read_records(broker, topic, done, timeout_s)
    if done(records):
        return records
    raise AssertionError(
        f"condition not met on {topic} within {timeout_s} s; saw {len(records)} records: "
        f"{[r.value[:200] for r in records[:10]]}"
    )
