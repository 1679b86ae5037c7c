"""Faust's Kafka transport with the two behaviours of Faust we must change.

* Faust 0.15.3 builds its worker consumer with ``fetch_max_wait_ms=1500``: on a
  quiet partition every fetch waits 1.5 s, which put a Faust agent's p99
  produce→consume latency at 1.6 s on Tansu (10–22 ms with 10 ms, measured).
  This subclass sets the fetch wait from :class:`~pipeline.config.Settings`.
* After every rebalance Faust seeks each assigned partition to its committed
  offset and then resumes the flow of messages. riskwatch resumes where its
  checkpointed *state* ends instead (:mod:`pipeline.state.checkpoint_generations`):
  committed offsets may be ahead of it (lost inputs) or behind what a worker that
  kept a partition has processed (inputs applied twice). The consumer restores
  state and seeks to the app's resume points right there, before the flow
  resumes, so no message is read ahead of its state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

if TYPE_CHECKING:
    from pipeline.config import Settings


class LowLatencyConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """The aiokafka consumer thread with a configurable fetch wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = cast(RiskwatchFaustApp, self.app).riskwatch_fetch_max_wait_ms
        return consumer


ResumePoints = Callable[[set[TP], Mapping[TP, int | None]], Awaitable[Mapping[TP, int]]]
"""``resume_points(assigned, committed)``: restore state for the assigned partitions and
answer where each of them is to be read from (partitions not named keep Faust's seek)."""


class LowLatencyConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer using :class:`LowLatencyConsumerThread`, resuming at the app's
    checkpointed positions."""

    def _new_consumer_thread(self) -> LowLatencyConsumerThread:
        return LowLatencyConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def perform_seek(self) -> None:
        """Seek to committed offsets as Faust does, then to where the app's state resumes."""
        await super().perform_seek()
        resume_points = cast(RiskwatchFaustApp, self.app).riskwatch_resume_points
        if resume_points is None:
            return
        assigned = set(self.assignment())
        committed = {tp: self._committed_offset.get(tp) for tp in assigned}
        for tp, offset in (await resume_points(assigned, committed)).items():
            await self.seek(tp, offset)


class LowLatencyTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport using :class:`LowLatencyConsumer`."""

    Consumer = LowLatencyConsumer


class RiskwatchFaustApp(faust.App):
    """A Faust app whose consumer transport is :class:`LowLatencyTransport`, and which closes
    the clients of ``riskwatch_after_stop`` once it has stopped its own."""

    riskwatch_fetch_max_wait_ms: int = 10
    riskwatch_resume_points: ResumePoints | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.riskwatch_after_stop: list[Callable[[], Awaitable[None]]] = []
        """Closed after Faust's stop: its consumer's last revoke (the final checkpoint) may still
        send through them, so they must outlive it."""

    async def on_stop(self) -> None:
        """Faust's stop (consumer, then its producer), then every ``riskwatch_after_stop``."""
        await super().on_stop()
        for close in self.riskwatch_after_stop:
            await close()

    def _new_transport(self) -> LowLatencyTransport:
        return LowLatencyTransport(self.conf.broker_consumer, self)


def worker_faust_app(
    app_id: str, settings: Settings, bootstrap_servers: str, **options: Any
) -> RiskwatchFaustApp:
    """A :class:`RiskwatchFaustApp` with the worker's broker, consumer and storage settings;
    ``options`` add to them (the worker's topics, producer and web server).

    The worker and ``riskwatch bench pipeline``'s Faust ceiling
    (:mod:`pipeline.benchmarks.faust_ceiling`) are built by it, so the ceiling measures the
    consumer the worker has."""
    app = RiskwatchFaustApp(
        app_id,
        broker=[f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")],
        broker_credentials=settings.kafka.faust_credentials(),
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        datadir=str(settings.data_dir),
        **options,
    )
    app.riskwatch_fetch_max_wait_ms = settings.consumer_fetch_max_wait_ms
    return app
