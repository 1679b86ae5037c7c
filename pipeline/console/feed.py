"""Keep a :class:`WarningBoard` current from every partition of the warnings topic, and tell listeners.

No consumer group: each worker's console reads the whole topic from the start,
so it shows the warnings of every community, not only its own partitions'.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from pipeline.console.board import WarningBoard
from pipeline.kafka_security import KafkaSecurity
from schemas.warning import RiskWarning

log = logging.getLogger(__name__)


class BoardFeed:
    """Applies warning records to the board and fans news out to subscribers (SSE clients)."""

    def __init__(self, board: WarningBoard, max_queued: int = 1000) -> None:
        self.board = board
        self._subscribers: set[asyncio.Queue[RiskWarning]] = set()
        self._max_queued = max_queued
        self.closed = asyncio.Event()
        """Set when the feed stops (worker shutdown): open event streams end at once."""

    def subscribe(self) -> asyncio.Queue[RiskWarning]:
        """A queue that receives every newer revision from now on."""
        queue: asyncio.Queue[RiskWarning] = asyncio.Queue(self._max_queued)
        self._subscribers.add(queue)
        return queue

    @property
    def listeners(self) -> int:
        """How many subscribers are being told of news."""
        return len(self._subscribers)

    def unsubscribe(self, queue: asyncio.Queue[RiskWarning]) -> None:
        """Stop sending to ``queue``."""
        self._subscribers.discard(queue)

    def apply(self, raw: bytes) -> None:
        """Fold one record of the warnings topic in; publish it if it is news."""
        try:
            warning = RiskWarning.model_validate_json(raw)
        except ValidationError as error:
            log.warning("ignoring an unreadable record on the warnings topic: %s", error)
            return
        if self.board.apply(warning):
            for queue in list(self._subscribers):
                if queue.full():  # a stalled browser must not hold memory: it reloads on reconnect
                    self._subscribers.discard(queue)
                else:
                    queue.put_nowait(warning)

    async def run(self, bootstrap_servers: str, topic: str, security: KafkaSecurity) -> None:
        """Follow ``topic`` from its beginning until cancelled."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            **security.aiokafka_kwargs(),
        )
        await consumer.start()
        try:
            partitions = await _partitions(consumer, topic)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        if record.value is not None:
                            self.apply(record.value)
        finally:
            self.closed.set()
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(100):
        await consumer.topics()  # refreshes metadata; the topic may still be being created
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")
