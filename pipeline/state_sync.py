"""Moving checkpoint books to and from their compacted topics (the Faust-facing half of state).

Written on a timer and for revoked partitions before they move; restored for
assigned partitions before the worker reports ready. See
:mod:`pipeline.checkpoint` for what is written and :mod:`pipeline.state_store`
for how partitions are read to their end.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pipeline.checkpoint import RestoreReport, StateRecord
from pipeline.kafka_security import KafkaSecurity
from pipeline.metrics import PipelineMetrics
from pipeline.state_store import read_latest


class CheckpointBook(Protocol):
    """What :class:`~pipeline.checkpoint.DetectorCheckpoints` and ``AssessmentCheckpoints`` share."""

    def take(self, partitions: Iterable[int] | None = None) -> list[StateRecord]:
        """Records of what changed."""
        ...

    def restore(self, states: Mapping[str, tuple[int, bytes]]) -> RestoreReport:
        """Install stored states."""
        ...

    def forget(self, partitions: Iterable[int]) -> int:
        """Drop the state of revoked partitions."""
        ...


class StateSync:
    """One compacted topic per book; ``books`` maps a label (``detector``, ``assessment``) to
    ``(topic name, book)``."""

    def __init__(
        self,
        app: Any,
        bootstrap_servers: str,
        security: KafkaSecurity,
        metrics: PipelineMetrics,
        books: dict[str, tuple[str, CheckpointBook]],
    ) -> None:
        self._app = app
        self._bootstrap = bootstrap_servers
        self._security = security
        self._metrics = metrics
        self._books = books
        self._topics = {label: app.topic(name) for label, (name, _) in books.items()}
        self.last_written = time.monotonic()
        metrics.checkpoint_age.set_function(lambda: time.monotonic() - self.last_written)

    async def write(self, partitions: Iterable[int] | None = None) -> None:
        """Send every changed state (of ``partitions``, or all) and wait until the broker has them."""
        chosen = None if partitions is None else list(partitions)
        for label, (_, book) in self._books.items():
            records = book.take(chosen)
            for record in records:
                await self._topics[label].send(
                    key=record.key.encode(), value=record.blob, partition=record.partition
                )
            self._metrics.checkpoint_records.labels(label).inc(len(records))
        await self._app.producer.flush()
        self.last_written = time.monotonic()

    async def restore(self, partitions: Iterable[int]) -> dict[str, RestoreReport]:
        """Read each book's partitions to their end and install what is there."""
        chosen = sorted(partitions)
        reports = {}
        for label, (topic, book) in self._books.items():
            stored = await read_latest(self._bootstrap, topic, chosen, security=self._security)
            report = book.restore({key.decode(): value for key, value in stored.items()})
            self._metrics.restored_states.labels(label, "restored").inc(report.restored)
            for reason, count in report.rejected.items():
                self._metrics.restored_states.labels(label, reason).inc(count)
            reports[label] = report
        return reports

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop every book's state of revoked ``partitions``."""
        chosen = list(partitions)
        for _, book in self._books.values():
            book.forget(chosen)
