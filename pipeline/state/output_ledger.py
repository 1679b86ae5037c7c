"""Every record the worker produces, awaited for its result before a checkpoint counts on it.

A send through Faust only queues a record; the broker's answer comes later, and a
failure used to be dropped ("Future exception was never retrieved") while metrics
counted success. :class:`OutputLedger` keeps each record until the broker has
acknowledged it. :meth:`OutputLedger.settle` awaits them all, resends the ones that
failed, and answers whether everything sent so far is on the broker: a checkpoint
writes its marker only then, so the inputs behind a lost output stay uncovered and are
processed again after a crash (see :mod:`pipeline.state.checkpoint_generations`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Topic(Protocol):
    """What the ledger needs of a Faust topic."""

    def get_topic_name(self) -> str:
        """The topic's name."""
        ...

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None) -> Awaitable[Any]:
        """Queue a record; the awaitable resolves when the broker acknowledged it."""
        ...


@dataclass
class _Record:
    topic: Topic
    key: bytes | None
    value: bytes | None
    partition: int | None
    delivery: Awaitable[Any] | None
    """None when queueing itself failed: the record is still to be sent."""


class OutputLedger:
    """Records sent and not yet known to be on the broker.

    ``failed(topic)`` is called once per failed attempt (the send failure counter);
    ``settle_timeout_s`` bounds how long :meth:`settle` waits for answers: a record
    still unanswered then stays pending, and is neither resent nor taken as delivered.
    """

    def __init__(self, failed: Callable[[str], None], settle_timeout_s: float = 10.0) -> None:
        self._failed = failed
        self._timeout_s = settle_timeout_s
        self._pending: list[_Record] = []

    def __len__(self) -> int:
        return len(self._pending)

    async def send(
        self, topic: Topic, key: bytes | None, value: bytes | None, partition: int | None = None
    ) -> None:
        """Queue one record and keep it until :meth:`settle` sees it delivered."""
        record = _Record(topic, key, value, partition, None)
        await self._queue(record)
        self._pending.append(record)

    async def _queue(self, record: _Record) -> None:
        try:
            record.delivery = await record.topic.send(
                key=record.key, value=record.value, partition=record.partition
            )
        except Exception:  # the producer refused to queue it (stopped, broker gone): try again later
            record.delivery = None
            self._failed(record.topic.get_topic_name())

    async def settle(self) -> bool:
        """Await every record sent before the call, resending each failed one once; True when all
        of them are delivered.

        Records that failed again, or got no answer within the timeout, stay pending for the
        next call, in their original order.
        """
        pending, self._pending = self._pending, []
        for record in pending:
            if record.delivery is None:
                await self._queue(record)
        deliveries = [asyncio.ensure_future(r.delivery) for r in pending if r.delivery is not None]
        if deliveries:
            await asyncio.wait(deliveries, timeout=self._timeout_s)
        unsettled = []
        futures = iter(deliveries)
        for record in pending:
            future = next(futures) if record.delivery is not None else None
            if future is not None and future.done() and not future.cancelled() and future.exception() is None:
                continue
            if future is not None and future.done():
                self._failed(record.topic.get_topic_name())
                await self._queue(record)
            unsettled.append(record)
        self._pending = unsettled + self._pending  # records sent meanwhile come after
        return not unsettled
