"""The worker's Alertmanager client: a background task per Alertmanager, fed without waiting.

The hot path only builds alerts and drops them into an :class:`~pipeline.alerting.outbox.Outbox`
per Alertmanager (bounded, never blocking); one task per Alertmanager pushes what waits
with aiohttp (a Faust dependency already), so an HA peer that is down or slow delays only
itself. A push that fails (no connection, a timeout, a 5xx or 429) is retried after a
backoff of 0.5 s doubling to 30 s; a batch Alertmanager refuses for good (another 4xx: the
alerts are malformed), or one that cannot even be sent (a bug here), is logged and
dropped, never retried in a loop: the pushing goes on with the next. Every attempt is
counted in ``riskwatch_alertmanager_pushes_total{outcome="sent|failed|rejected"}``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
import faust

from pipeline.alerting.alerts import LIFETIME_RESENDS, Alert, AlertBook, AlertLinks
from pipeline.alerting.outbox import Outbox, backoff
from pipeline.alerting.settings import AlertmanagerSettings
from pipeline.assess.episodes import WarningEvent
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.metrics import PipelineMetrics

log = logging.getLogger(__name__)

BATCH_ALERTS = 500
"""Alerts per POST: one request carries a whole re-push of a busy worker's open warnings."""


class PushRefused(Exception):
    """Alertmanager answered a push with an HTTP error."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status

    @property
    def retryable(self) -> bool:
        """A server error or overload passes; any other client error will not."""
        return self.status >= 500 or self.status == 429


@dataclass
class _Target:
    url: str
    outbox: Outbox
    waiting: asyncio.Event = field(default_factory=asyncio.Event)


class AlertmanagerPusher:
    """Pushes alerts to every Alertmanager of ``settings``; :meth:`run` is the background task."""

    def __init__(self, settings: AlertmanagerSettings, metrics: PipelineMetrics) -> None:
        self._settings = settings
        self._metrics = metrics
        self._targets = [_Target(url, Outbox(settings.queue_alerts)) for url in settings.urls]

    def queued(self) -> int:
        """Alerts waiting, over every Alertmanager."""
        return sum(len(target.outbox) for target in self._targets)

    def submit(self, alerts: list[Alert]) -> None:
        """Queue ``alerts`` for every Alertmanager; returns at once."""
        if not alerts:
            return
        for target in self._targets:
            dropped = target.outbox.put(alerts)
            if dropped:
                self._metrics.alertmanager_alerts_dropped.inc(dropped)
            target.waiting.set()

    async def run(self) -> None:
        """Push until cancelled (the worker stops)."""
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(*(self._deliver(session, target) for target in self._targets))

    async def _deliver(self, session: aiohttp.ClientSession, target: _Target) -> None:
        failures = 0
        while True:
            await target.waiting.wait()
            target.waiting.clear()
            while batch := target.outbox.peek(BATCH_ALERTS):
                try:
                    await self._post(session, target.url, batch)
                except PushRefused as refused:
                    if refused.retryable:
                        failures = await self._failed(target.url, refused, failures)
                        continue
                    self._metrics.alertmanager_pushes.labels("rejected").inc()
                    log.error("Alertmanager %s refused %d alerts: %s", target.url, len(batch), refused)
                except (aiohttp.ClientError, TimeoutError) as error:
                    failures = await self._failed(target.url, error, failures)
                    continue
                except Exception:  # a bug of ours: retrying cannot help, and must not stop the pushing
                    self._metrics.alertmanager_pushes.labels("rejected").inc()
                    log.exception("could not push %d alerts to Alertmanager %s", len(batch), target.url)
                else:
                    self._metrics.alertmanager_pushes.labels("sent").inc()
                    failures = 0
                target.outbox.remove(batch)

    async def _post(self, session: aiohttp.ClientSession, url: str, batch: list[Alert]) -> None:
        async with session.post(f"{url}/api/v2/alerts", json=[alert.payload() for alert in batch]) as answer:
            if answer.status >= 400:
                raise PushRefused(answer.status, await answer.text())

    async def _failed(self, url: str, error: Exception, failures: int) -> int:
        """Count a failed push, wait out the backoff, and return the failures in a row."""
        failures += 1
        self._metrics.alertmanager_pushes.labels("failed").inc()
        delay = backoff(failures)
        log.warning("Alertmanager %s unreachable (%r); retrying in %.1f s", url, error, delay)
        await asyncio.sleep(delay)
        return failures


@dataclass(frozen=True)
class WarningAlerts:
    """What the worker calls: :attr:`revise` with each warning event it emits, :attr:`replayed`
    with each one it re-derived after a crash and does not emit again, :attr:`refresh` when its
    partitions changed (a worker that took some over pushes their open warnings now, instead of
    at the next re-push, so an escalation soon after ends the right old alert)."""

    revise: Callable[[WarningEvent], None]
    replayed: Callable[[WarningEvent], None]
    refresh: Callable[[], None]


def _nothing(*args: object) -> None:
    """No Alertmanager is configured."""


def install_alertmanager(
    app: faust.App,
    settings: Settings,
    metrics: PipelineMetrics,
    clock: Clock,
    open_warnings: Callable[[], list[WarningEvent]],
) -> WarningAlerts:
    """Push ``app``'s warnings to Alertmanager when configured (else do nothing).

    ``open_warnings`` is the worker's open warnings now (the ones of its partitions): they are
    re-pushed every ``resend_interval_s``.
    """
    config = settings.alertmanager
    if not config.urls:
        return WarningAlerts(revise=_nothing, replayed=_nothing, refresh=_nothing)
    links = AlertLinks(settings.alert_links_url)
    book = AlertBook(
        settings.assessment, links, timedelta(seconds=config.resend_interval_s * LIFETIME_RESENDS)
    )
    pusher = AlertmanagerPusher(config, metrics)
    metrics.alertmanager_queued.set_function(pusher.queued)

    @app.task  # type: ignore[untyped-decorator]
    async def push_alerts() -> None:
        await pusher.run()

    def refresh() -> None:
        pusher.submit(book.refresh(open_warnings(), clock.now()))

    @app.timer(interval=config.resend_interval_s)  # type: ignore[untyped-decorator]
    async def repush_open_alerts() -> None:
        refresh()

    def revise(event: WarningEvent) -> None:
        pusher.submit(book.revise(event, clock.now()))

    def replayed(event: WarningEvent) -> None:
        book.replayed(event, clock.now())

    return WarningAlerts(revise=revise, replayed=replayed, refresh=refresh)
