"""The device SDK: validate events with the pipeline's own schemas, then send them to Kafka.

A gateway builds a :class:`Publisher` once and sends readings, telemetry,
reports or SenML packs. Every event is validated before it leaves the device
(the same pydantic models the worker uses, so a bad event fails at the
source with the reason), keyed by its community, batched by kafka-python
(``linger_ms``) and retried by the client, with a bounded buffer: at most
``max_pending`` messages wait for the broker, and a send beyond that blocks
until one is answered (at most ``block_s``, then :class:`DeliveryError`). Each send
returns a :class:`Delivery` whose :meth:`Delivery.result` raises
:class:`DeliveryError` when the broker did not take the message. Usage::

    with Publisher("kafka-1:9092", security=load_kafka_security()) as publisher:
        publisher.send_reading(reading).result(timeout_s=10)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from pipeline.ingress.senml import decode_senml
from pipeline.kafka.kafka_security import KafkaSecurity
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import DecodeLimits, MessageDecoder
from schemas.envelope import Envelope
from schemas.events import DeviceTelemetry, ResidentReport, SensorReading


class DeliveryError(RuntimeError):
    """The broker did not acknowledge a message; the message says which event and why."""


class Delivery:
    """The outcome of one send, known once the broker answers."""

    def __init__(self, future: Any, what: str) -> None:
        self._future = future
        self.what = what

    def result(self, timeout_s: float = 30.0) -> tuple[int, int]:
        """Wait for the broker; return ``(partition, offset)`` or raise :class:`DeliveryError`."""
        try:
            metadata = self._future.get(timeout=timeout_s)
        except KafkaError as error:
            raise DeliveryError(f"{self.what} was not delivered: {type(error).__name__}: {error}") from None
        return int(metadata.partition), int(metadata.offset)


class Publisher:
    """Validates and sends events for devices and gateways (kafka-python underneath)."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topics: TopicNames,
        security: KafkaSecurity | None = None,
        limits: DecodeLimits | None = None,
        max_pending: int = 10_000,
        block_s: float = 10.0,
        linger_ms: int = 5,
        **producer_options: Any,
    ) -> None:
        self.topics = topics
        self.limits = limits or DecodeLimits()
        self._readings = MessageDecoder("sensor_reading", self.limits)
        self._pending = threading.BoundedSemaphore(max_pending)
        self._block_s = block_s
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            retries=5,
            linger_ms=linger_ms,
            max_request_size=self.limits.max_message_bytes,
            **(security or KafkaSecurity()).kafka_python_kwargs(),
            **producer_options,
        )

    def send_reading(self, reading: SensorReading | dict[str, Any]) -> Delivery:
        """Validate and send one sensor reading."""
        return self._send(self.topics.readings, SensorReading, reading)

    def send_telemetry(self, telemetry: DeviceTelemetry | dict[str, Any]) -> Delivery:
        """Validate and send one device heartbeat."""
        return self._send(self.topics.telemetry, DeviceTelemetry, telemetry)

    def send_report(self, report: ResidentReport | dict[str, Any]) -> Delivery:
        """Validate and send one resident report."""
        return self._send(self.topics.reports, ResidentReport, report)

    def send_senml(
        self, pack: list[dict[str, Any]], community_id: str, device_id: str | None = None
    ) -> Delivery:
        """Normalise a SenML pack to readings and send them as one batch; refuse it if any record is bad."""
        decoded = decode_senml(
            json.dumps(pack).encode(),
            self._readings,
            community_id=community_id,
            now=datetime.now(UTC),
            device_id=device_id,
        )
        if decoded.rejections:
            reasons = "; ".join(f"record {r.item_index}: {r.reason}" for r in decoded.rejections[:5])
            raise ValueError(f"SenML pack refused: {reasons}")
        value = b"[" + b",".join(_encode(e) for e in decoded.events) + b"]"
        what = f"SenML pack of {len(decoded.events)} readings for {community_id}"
        return self._produce(self.topics.readings, community_id, value, what)

    def _send(self, topic: str, model: type[Envelope], event: Envelope | dict[str, Any]) -> Delivery:
        validated = model.model_validate(event if isinstance(event, dict) else event.model_dump())
        return self._produce(topic, validated.community_id, _encode(validated), f"event {validated.event_id}")

    def _produce(self, topic: str, community_id: str, value: bytes, what: str) -> Delivery:
        if not self._pending.acquire(timeout=self._block_s):
            raise DeliveryError(f"{what} was not sent: the send buffer stayed full for {self._block_s} s")
        try:
            future = self._producer.send(topic, key=community_id.encode(), value=value)
        except KafkaError as error:
            self._pending.release()
            raise DeliveryError(f"{what} was not sent: {type(error).__name__}: {error}") from None
        future.add_both(lambda _: self._pending.release())
        return Delivery(future, what)

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every buffered message has been sent or failed."""
        self._producer.flush(timeout=timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush and close the connection."""
        self._producer.close(timeout=timeout_s)

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def deliver_keyed(
    producer: KafkaProducer, topic: str, records: Iterable[tuple[str, bytes | None]], timeout_s: float = 30.0
) -> None:
    """Send ``(key, value)`` records (``None`` value: a tombstone) and wait until the broker has
    taken every one: for the compacted topics operators and simulators write (silences, devices, roster)."""
    sent = [producer.send(topic, key=key.encode(), value=value) for key, value in records]
    for delivery in sent:
        delivery.get(timeout=timeout_s)


def _encode(event: Any) -> bytes:
    return str(event.model_dump_json(exclude={"received_time"})).encode()
