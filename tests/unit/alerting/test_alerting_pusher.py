"""The Alertmanager client against an HTTP server on loopback: delivery, retries, refusals, HA peers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp import web

from pipeline.alerting.alerts import Alert
from pipeline.alerting.pusher import AlertmanagerPusher
from pipeline.alerting.settings import AlertmanagerSettings
from pipeline.kafka.broker import free_port
from pipeline.metrics import PipelineMetrics

AT = datetime(2026, 1, 1, tzinfo=UTC)


def alert(warning: str) -> Alert:
    return Alert({"alertname": "RiskwatchWarning", "warning_id": warning}, {}, AT, AT, "")


class FakeAlertmanager:
    """Answers ``POST /api/v2/alerts`` with the next scripted status (then 200) and keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[list[dict[str, object]]] = []

    async def alerts(self, request: web.Request) -> web.Response:
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append(json.loads(await request.text()))
        return web.Response(status=status, text="scripted")


@asynccontextmanager
async def serving(fake: FakeAlertmanager) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/api/v2/alerts", fake.alerts)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def pushing(
    *urls: str, queue_alerts: int = 100
) -> AsyncIterator[tuple[AlertmanagerPusher, PipelineMetrics]]:
    metrics = PipelineMetrics()
    pusher = AlertmanagerPusher(
        AlertmanagerSettings(url=",".join(urls), timeout_s=2, queue_alerts=queue_alerts), metrics
    )
    task = asyncio.create_task(pusher.run())
    try:
        yield pusher, metrics
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll ``condition`` on the loop until true; fail after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def pushes(metrics: PipelineMetrics, outcome: str) -> float:
    return metrics.alertmanager_pushes.labels(outcome)._value.get()


async def test_alerts_reach_alertmanager_in_one_post() -> None:
    fake = FakeAlertmanager([])
    async with serving(fake) as url, pushing(url) as (pusher, metrics):
        pusher.submit([alert("w1"), alert("w2")])
        await until(lambda: pusher.queued() == 0)
    assert [[a["labels"]["warning_id"] for a in batch] for batch in fake.received] == [["w1", "w2"]]  # type: ignore[index]
    assert pushes(metrics, "sent") == 1 and pushes(metrics, "failed") == 0


async def test_a_failing_alertmanager_is_retried_until_it_takes_them() -> None:
    fake = FakeAlertmanager([503, 503])
    async with serving(fake) as url, pushing(url) as (pusher, metrics):
        pusher.submit([alert("w1")])
        await until(lambda: len(fake.received) == 1)
    assert pushes(metrics, "failed") == 2 and pushes(metrics, "sent") == 1


async def test_a_refused_batch_is_counted_and_dropped_not_retried() -> None:
    fake = FakeAlertmanager([400])
    async with serving(fake) as url, pushing(url) as (pusher, metrics):
        pusher.submit([alert("w1")])
        await until(lambda: pushes(metrics, "rejected") == 1)
        assert pusher.queued() == 0
        pusher.submit([alert("w2")])
        await until(lambda: len(fake.received) == 1)
    assert fake.received[0][0]["labels"] == {"alertname": "RiskwatchWarning", "warning_id": "w2"}


async def test_a_dead_peer_of_an_ha_pair_does_not_hold_up_the_live_one() -> None:
    fake = FakeAlertmanager([])
    dead = f"http://127.0.0.1:{free_port()}"
    async with serving(fake) as url, pushing(dead, url) as (pusher, metrics):
        pusher.submit([alert("w1")])
        # "sent" is counted once the live one's answer is read and its outbox emptied: the fake
        # holds the request before that, so waiting on what it received alone races the pusher.
        await until(lambda: pushes(metrics, "sent") == 1 and pushes(metrics, "failed") >= 1)
        assert len(fake.received) == 1
        assert pusher.queued() == 1, "the dead one's alert waits for it"


async def test_submitting_never_waits_and_a_full_outbox_drops_the_oldest() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with pushing(dead, queue_alerts=10) as (pusher, metrics):
        pusher.submit([alert(f"w{n}") for n in range(25)])
        assert pusher.queued() == 10
        assert metrics.alertmanager_alerts_dropped._value.get() == 15


async def test_a_batch_that_cannot_be_sent_is_dropped_and_pushing_goes_on() -> None:
    fake = FakeAlertmanager([])
    unsendable = Alert({"warning_id": "w1"}, {"summary": AT}, AT, AT, "")  # type: ignore[dict-item]
    async with serving(fake) as url, pushing(url) as (pusher, metrics):
        pusher.submit([unsendable])
        await until(lambda: pushes(metrics, "rejected") == 1)
        pusher.submit([alert("w2")])
        await until(lambda: len(fake.received) == 1)
    assert [a["labels"]["warning_id"] for a in fake.received[0]] == ["w2"]  # type: ignore[index]
