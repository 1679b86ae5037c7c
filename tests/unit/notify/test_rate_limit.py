"""The per-recipient rate limit, on a clock the test sets: a burst of ``rate_per_minute`` goes at
once, the next waits until the first is a minute old, and other recipients are not held up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pipeline.notify.deliverer import Deliverer, Job
from pipeline.notify.deliveries import DeliveryRecord
from pipeline.notify.rate import RateLimit
from pipeline.notify.settings import NotifySettings
from tests.unit.notify.test_delivery import FakeTransport, message


def test_the_n_plus_first_message_within_a_minute_waits_for_the_first_to_be_a_minute_old() -> None:
    limit = RateLimit(rate_per_minute=3)
    for now in (0.0, 10.0, 20.0):
        assert limit.wait(now) == 0.0
        limit.taken(now)
    assert limit.wait(20.0) == 40.0
    assert limit.wait(59.0) == 1.0
    assert limit.wait(60.0) == 0.0
    limit.taken(60.0)
    assert limit.wait(60.0) == 10.0, "the window slides: now the message of 10 s is the oldest"


def test_a_rate_below_one_a_minute_spaces_single_messages() -> None:
    limit = RateLimit(rate_per_minute=0.5)
    limit.taken(0.0)
    assert limit.wait(0.0) == 120.0


async def test_a_recipient_over_its_rate_waits_while_another_recipient_is_served() -> None:
    clock = [1000.0]
    waits: list[float] = []
    held, gate = asyncio.Event(), asyncio.Event()

    async def sleep(seconds: float) -> None:
        """Virtual time: a wait blocks until the test opens the gate, then the clock moves on."""
        if seconds > 0:
            waits.append(seconds)
            held.set()
            await gate.wait()
            clock[0] += seconds

    async def record(r: DeliveryRecord) -> None:
        pass

    finished: dict[str, asyncio.Event] = {}
    transport = FakeTransport()
    deliverer = Deliverer(
        NotifySettings(rate_per_minute=3),
        transport,
        record,
        lambda: datetime.now(UTC),
        clock=lambda: clock[0],
        sleep=sleep,
    )
    jobs = [message("live", f"w{n}") for n in range(1, 5)] + [message("ding", "w1")]
    for m in jobs:
        finished[m.key] = asyncio.Event()
        deliverer.submit(Job(m, finished[m.key].set))
    async with asyncio.timeout(5):
        await held.wait()
        await finished["w1:2:opened:0:ding"].wait()
    assert waits == [60.0], "the 4th message to 'live' waits the rest of the minute"
    assert sorted(transport.sent) == sorted(m.key for m in jobs if m.key != "w4:2:opened:0:live")
    assert deliverer.queued == 1
    gate.set()
    async with asyncio.timeout(5):
        await finished["w4:2:opened:0:live"].wait()
    await deliverer.close()
    assert transport.sent[-1] == "w4:2:opened:0:live" and clock[0] == 1060.0
