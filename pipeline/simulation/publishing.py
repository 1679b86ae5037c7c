"""Send a simulated stream to Kafka: one message per batch, keyed by community, paced.

Pacing has two independent limits: ``speedup`` (simulated seconds per wall
second; ``None`` is as fast as possible) and ``rate`` (events per second).
The :class:`Pacer` takes its clock and sleep as arguments, so the pacing
rule is tested without waiting.

>>> waits = []
>>> pacer = Pacer(rate=10.0, speedup=None, clock=lambda: 0.0, sleep=waits.append)
>>> pacer.wait(offset_s=0.0, events=5); pacer.wait(offset_s=0.0, events=5)
>>> waits
[0.5]
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kafka import KafkaProducer

from pipeline.kafka.topics import TopicNames
from pipeline.simulation.encoding import batch_json
from pipeline.simulation.generator import Batch


@dataclass
class Pacer:
    """Holds the sender back so neither the simulated-time speedup nor the event rate is exceeded."""

    rate: float | None
    speedup: float | None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _started: float | None = field(default=None, init=False)
    _sent: int = field(default=0, init=False)

    def wait(self, offset_s: float, events: int) -> None:
        """Sleep until a batch of ``events`` at ``offset_s`` simulated seconds may go."""
        now = self.clock()
        if self._started is None:
            self._started = now
        due = self._started
        if self.speedup is not None:
            due = max(due, self._started + offset_s / self.speedup)
        if self.rate is not None:
            due = max(due, self._started + self._sent / self.rate)
        self._sent += events
        if due > now:
            self.sleep(due - now)


def live_start(now: datetime, duration: timedelta, speedup: float | None) -> datetime:
    """Where to start simulated time so no event is ever ahead of the wall clock when sent.

    Live (``speedup`` 1) starts now; as fast as possible (``None``) ends now; in
    between, the last event is sent when the wall clock reaches its time.

    >>> from datetime import UTC
    >>> now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    >>> live_start(now, timedelta(hours=2), 4.0).isoformat()
    '2026-06-01T10:30:00+00:00'
    """
    if speedup is None:
        return now - duration
    return now - duration + duration / speedup


def publish(
    producer: KafkaProducer, topics: TopicNames, batches: Iterable[Batch], pacer: Pacer
) -> tuple[Counter[str], Counter[str]]:
    """Send every batch to its kind's topic; return (messages, events) sent per kind."""
    topic_of = {kind: topic for topic, kind in topics.input_kinds().items()}
    messages: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for batch in batches:
        pacer.wait(batch.offset_s, len(batch.events))
        producer.send(topic_of[batch.kind], key=batch.community_id.encode(), value=batch_json(batch))
        messages[batch.kind] += 1
        events[batch.kind] += len(batch.events)
    producer.flush()
    return messages, events
