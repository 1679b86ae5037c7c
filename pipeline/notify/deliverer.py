"""Per-recipient delivery: one queue and one task per recipient, retries with backoff, a rate limit.

Why one task per recipient: a dead endpoint retried with growing backoff, or an
SMTP server that answers slowly, holds up only the messages of that recipient;
every other recipient's task keeps sending. Within one recipient messages go in
order, at most ``rate_per_minute`` in any minute (:class:`RateLimit`). Every attempt
is recorded (``record``) before the next starts, and a message counts as finished
(``Job.finished``) only once its final outcome is recorded, so input offsets are
committed after the outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pipeline.notify.deliveries import DeliveryRecord, Outcome
from pipeline.notify.messages import Message
from pipeline.notify.rate import RateLimit
from pipeline.notify.settings import NotifySettings
from pipeline.notify.transport import DeliveryFailed

log = logging.getLogger("riskwatch.notify")


class Transport(Protocol):
    """Makes one attempt; raises :class:`DeliveryFailed`."""

    async def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class Job:
    """A message to deliver, and what to call once its final outcome is recorded."""

    message: Message
    finished: Callable[[], None]


def backoff(settings: NotifySettings, attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: ``backoff_s`` doubling, at most ``backoff_max_s``.

    >>> [backoff(NotifySettings(backoff_s=1, backoff_max_s=5), a) for a in (1, 2, 3, 4)]
    [1.0, 2.0, 4.0, 5.0]
    """
    return float(min(settings.backoff_s * 2 ** (attempt - 1), settings.backoff_max_s))


class Deliverer:
    """Delivers jobs, each recipient on its own task."""

    def __init__(
        self,
        settings: NotifySettings,
        transport: Transport,
        record: Callable[[DeliveryRecord], Awaitable[None]],
        now: Callable[[], datetime],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``now`` stamps the records; ``clock`` (seconds) and ``sleep`` pace the rate limit and
        the retries, so tests can stand in for time."""
        self.settings = settings
        self.transport = transport
        self.record = record
        self.now = now
        self.clock = clock
        self.sleep = sleep
        self._queues: dict[str, asyncio.Queue[Job]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.in_flight: set[str] = set()
        """Idempotency keys queued or being attempted (not offered twice)."""

    def submit(self, job: Job) -> None:
        """Queue ``job`` on its recipient's task (started on first use)."""
        recipient = job.message.recipient.id
        self.in_flight.add(job.message.key)
        if recipient not in self._queues:
            self._queues[recipient] = asyncio.Queue()
            self._tasks[recipient] = asyncio.create_task(self._run(recipient), name=f"deliver-{recipient}")
        self._queues[recipient].put_nowait(job)

    @property
    def queued(self) -> int:
        """Messages waiting or being attempted, over every recipient."""
        return len(self.in_flight)

    async def _run(self, recipient: str) -> None:
        queue = self._queues[recipient]
        limit = RateLimit(self.settings.rate_per_minute)
        while True:
            job = await queue.get()
            await self.sleep(limit.wait(self.clock()))
            limit.taken(self.clock())
            try:
                await self._deliver(job)
            except Exception:  # a bug must not silence this recipient for good
                log.exception("delivering %s failed unexpectedly; it stays uncommitted", job.message.key)
                continue
            self.in_flight.discard(job.message.key)
            job.finished()

    async def _deliver(self, job: Job) -> None:
        message = job.message
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                await self.transport.send(message)
            except DeliveryFailed as failure:
                last = failure.permanent or attempt == self.settings.max_attempts
                await self.record(
                    self._outcome(message, Outcome.GAVE_UP if last else Outcome.FAILED, attempt, str(failure))
                )
                if last:
                    log.warning("gave up on %s after %d attempt(s): %s", message.key, attempt, failure)
                    return
                await self.sleep(backoff(self.settings, attempt))
            else:
                await self.record(self._outcome(message, Outcome.DELIVERED, attempt, None))
                return

    def _outcome(self, message: Message, outcome: Outcome, attempt: int, error: str | None) -> DeliveryRecord:
        n, r = message.notification, message.recipient
        return DeliveryRecord(
            key=message.key,
            warning_id=n.warning_id,
            revision=n.revision,
            community_id=n.community_id,
            kind=n.kind.value,
            recipient_id=r.id,
            recipient_name=r.name,
            channel=r.channel,
            outcome=outcome,
            attempt=attempt,
            error=error,
            at=self.now(),
        )

    async def close(self) -> None:
        """Stop every recipient's task (what is unfinished is read again on the next start)."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
