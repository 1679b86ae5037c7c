"""Keep a :class:`WarningBoard` current from every partition of the warnings topic, and tell listeners.

No consumer group: each worker's console reads the whole topic from the start,
so it shows the warnings of every community, not only its own partitions'.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import ValidationError

from pipeline.console.board import WarningBoard
from pipeline.kafka.kafka_security import KafkaSecurity
from pipeline.kafka.topic_follower import follow_topic
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
        try:
            await follow_topic(bootstrap_servers, topic, security, self._record)
        finally:
            self.closed.set()

    def _record(self, key: bytes | None, value: bytes | None) -> None:
        if value is not None:
            self.apply(value)
