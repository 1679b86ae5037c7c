"""The output ledger: sends are awaited for the broker's answer, failures counted and resent."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from pipeline.state.output_ledger import OutputLedger


class FlakyTopic:
    """A topic whose first ``failures`` deliveries fail (or whose queueing raises)."""

    def __init__(self, failures: int = 0, refuse: int = 0) -> None:
        self.failures = failures
        self.refuse = refuse
        self.delivered: list[bytes | None] = []

    def get_topic_name(self) -> str:
        return "warnings"

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None) -> Awaitable[Any]:
        if self.refuse:
            self.refuse -= 1
            raise RuntimeError("producer stopped")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            future.set_exception(RuntimeError("UnknownError"))
        else:
            self.delivered.append(value)
            future.set_result("metadata")
        return future


async def test_a_failed_delivery_is_counted_resent_and_settles_on_the_next_round() -> None:
    failed: Counter[str] = Counter()
    ledger = OutputLedger(lambda topic: failed.update([topic]))
    topic = FlakyTopic(failures=1)
    await ledger.send(topic, b"c1", b"w1")
    await ledger.send(topic, b"c1", b"w2")
    assert not await ledger.settle(), "a failed record is not delivered"
    assert failed == {"warnings": 1} and len(ledger) == 1
    assert await ledger.settle()
    assert sorted(v for v in topic.delivered if v) == [b"w1", b"w2"] and len(ledger) == 0


async def test_a_record_the_producer_refused_to_queue_is_queued_again_by_settle() -> None:
    failed: Counter[str] = Counter()
    ledger = OutputLedger(lambda topic: failed.update([topic]))
    topic = FlakyTopic(refuse=1)
    await ledger.send(topic, b"c1", b"w1")
    assert failed == {"warnings": 1} and topic.delivered == []
    assert await ledger.settle()
    assert topic.delivered == [b"w1"]


async def test_an_unanswered_record_stays_pending_without_being_resent() -> None:
    class SilentTopic(FlakyTopic):
        async def send(
            self, *, key: bytes | None, value: bytes | None, partition: int | None
        ) -> Awaitable[Any]:
            self.delivered.append(value)
            return asyncio.get_running_loop().create_future()

    ledger = OutputLedger(lambda topic: None, settle_timeout_s=0.01)
    topic = SilentTopic()
    await ledger.send(topic, None, b"w1")
    assert not await ledger.settle()
    assert topic.delivered == [b"w1"] and len(ledger) == 1
