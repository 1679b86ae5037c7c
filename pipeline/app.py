"""The Faust app: topics, one ingest agent, and the worker's web views.

Thin by design: the agent hands each message to
:class:`~pipeline.processing.EventProcessor` and sends what it returns.
"""

from __future__ import annotations

from typing import Any

from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.consumer_lag import PartitionProgress
from pipeline.faust_transport import RiskwatchFaustApp
from pipeline.metrics import EXPOSITION_CONTENT_TYPE, PipelineMetrics
from pipeline.processing import EventProcessor, InboundMessage
from pipeline.topics import TopicNames


def create_app(settings: Settings, bootstrap_servers: str) -> RiskwatchFaustApp:
    """Build the worker's Faust app for ``bootstrap_servers``."""
    app = RiskwatchFaustApp(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")],
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        producer_max_request_size=settings.max_record_bytes,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        datadir=str(settings.data_dir),
    )
    app.riskwatch_fetch_max_wait_ms = settings.consumer_fetch_max_wait_ms
    names = TopicNames.from_settings(settings)
    metrics = PipelineMetrics()
    processor = EventProcessor(settings, metrics, SystemClock())
    inputs = app.topic(*names.input_kinds())
    warnings_topic = app.topic(names.warnings)
    deadletter_topic = app.topic(names.deadletter)
    state = {"assigned": False}
    progress = PartitionProgress()
    input_topics = set(names.input_kinds())

    def consumer_lag() -> dict[tuple[str, int], int]:
        consumer = app.consumer
        highwaters = {
            (tp.topic, tp.partition): consumer.highwater(tp)
            for tp in consumer.assignment()
            if tp.topic in input_topics
        }
        return progress.lag(highwaters)

    metrics.track_consumer_lag(consumer_lag)

    @app.agent(inputs, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            outcome = processor.handle(
                InboundMessage(
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    key=message.key,
                    value=message.value,
                    timestamp_s=message.timestamp,
                )
            )
            for letter in outcome.dead_letters:
                await deadletter_topic.send(key=message.key, value=letter.model_dump_json().encode())
            for warning in outcome.warnings:
                await warnings_topic.send(
                    key=warning.community_id.encode(), value=warning.model_dump_json().encode()
                )
            progress.processed(message.topic, message.partition, message.offset)

    # mode types receivers as positional-only; any callable taking (sender, ..., signal=) works.
    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    def _assigned(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        state["assigned"] = True

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(metrics.exposition(), headers={"Content-Type": EXPOSITION_CONTENT_TYPE})

    @app.page("/ready")
    async def ready_view(web: Any, request: Any) -> Any:
        ready = state["assigned"] and not app.rebalancing
        return web.json({"ready": ready}, status=200 if ready else 503)

    return app
