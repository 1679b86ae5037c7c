"""The Faust app: topics, one ingest agent, and the worker's web views.

Thin by design: the agent hands each message to
:class:`~pipeline.processing.processor.EventProcessor` and sends what it returns.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from functools import partial
from time import perf_counter
from typing import Any, TypeVar

from faust.types import TP
from pydantic import ValidationError

from pipeline.alerting.pusher import install_alertmanager
from pipeline.assess.silences import silence_record
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.console.board import WarningBoard
from pipeline.console.devices_web import install_devices
from pipeline.console.feed import BoardFeed
from pipeline.console.frozen_web import install_frozen
from pipeline.console.response_web import install_response
from pipeline.console.silences_web import install_silences
from pipeline.console.web import install_console
from pipeline.ingress.http_ingest import HttpIngest
from pipeline.ingress.ingest_view import install_ingest
from pipeline.kafka.broker_link import CHECK_INTERVAL_S, cluster_reachable, producer_client
from pipeline.kafka.consumer_lag import PartitionProgress
from pipeline.kafka.faust_transport import RiskwatchFaustApp, worker_faust_app
from pipeline.kafka.state_producer import StateProducer
from pipeline.kafka.state_store import read_logs
from pipeline.kafka.topic_follower import follow_topic
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import EXPOSITION_CONTENT_TYPE, PipelineMetrics
from pipeline.notify.deliveries import DeliveryBook, DeliveryRecord
from pipeline.processing.processor import EventProcessor, InboundMessage, Outcome, detector_for, series_kind
from pipeline.state.checkpoint import AssessmentCheckpoints, DetectorCheckpoints
from pipeline.state.output_ledger import OutputLedger
from pipeline.state.revision_fence import RevisionFence
from pipeline.state.state_key import ack_link_key, worker_state_key
from pipeline.state.state_sync import StateSync
from pipeline.worker.log_throttle import throttle_repeats
from pipeline.worker.readiness import Readiness
from schemas.feedback import OPERATOR_ACTION, OperatorAction
from schemas.warning import RiskWarning

Record = TypeVar("Record")
"""A record type an internal topic carries (feedback, district warnings)."""


def revision_bytes(warning: RiskWarning, number: int) -> bytes:
    """The warnings topic record of ``warning`` emitted as revision ``number``."""
    renumbered = warning if number == warning.revision else warning.model_copy(update={"revision": number})
    return renumbered.model_dump_json().encode()


def create_app(settings: Settings, bootstrap_servers: str) -> RiskwatchFaustApp:
    """Build the worker's Faust app for ``bootstrap_servers``."""
    app = worker_faust_app(
        settings.app_id,
        settings,
        bootstrap_servers,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        producer_max_request_size=settings.max_record_bytes,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
    )
    names = TopicNames.from_settings(settings)
    metrics = PipelineMetrics()
    detectors = detector_for(settings)
    detector_books = DetectorCheckpoints(detectors, worker_state_key(settings, app.log), series_kind)
    processor = EventProcessor(
        settings,
        metrics,
        SystemClock(),
        detectors,
        series_changed=detector_books.touched,
        roll_up_locally=False,
    )
    assessment_books = AssessmentCheckpoints(
        processor.assessor,
        processor.sensors,
        telemetry=processor.telemetry,
        reports=processor.reports,
        adopt=processor.adopt,
    )
    processor.community_changed = assessment_books.touched
    ledger = OutputLedger(lambda topic: metrics.send_failures.labels(topic).inc())
    fence = RevisionFence()
    processing = asyncio.Lock()
    """Held while a batch of messages is handled and its outputs queued: a checkpoint never sees
    half of one."""
    inputs = app.topic(*names.input_kinds())
    warnings_topic = app.topic(names.warnings)
    deadletter_topic = app.topic(names.deadletter)
    feedback_topic = app.topic(names.feedback)
    districts_topic = app.topic(names.districts)
    device_faults_topic = app.topic(names.device_faults)
    responder_topics = {name: app.topic(name) for name in names.responders}
    board_feed = BoardFeed(WarningBoard())

    async def send_feedback(action: OperatorAction) -> None:
        await feedback_topic.send(key=action.community_id.encode(), value=action.model_dump_json().encode())

    install_console(app, board_feed, send_feedback, SystemClock(), settings.assessment)
    response_book = DeliveryBook()
    deliveries_topic = app.topic(names.deliveries)

    async def record_answer(record: DeliveryRecord) -> None:
        key = (record.warning_id or record.community_id).encode()
        await deliveries_topic.send(key=key, value=record.model_dump_json().encode())

    ack_key = ack_link_key(settings, app.log)
    install_response(
        app, board_feed.board, response_book, ack_key, send_feedback, record_answer, SystemClock()
    )

    def apply_delivery(key: bytes | None, value: bytes | None) -> None:
        try:
            response_book.apply(key, value)
        except ValueError as error:
            app.log.warning("ignoring an unreadable record on the deliveries topic: %s", error)

    @app.task  # type: ignore[untyped-decorator]
    async def follow_deliveries() -> None:
        await follow_topic(bootstrap_servers, names.deliveries, settings.kafka, apply_delivery)

    install_frozen(app, processor.sensors.frozen, send_feedback, SystemClock(), settings.rebaseline_after_s)
    install_ingest(app, HttpIngest(settings.ingest_tokens, settings.decode_limits), names)
    alerts = install_alertmanager(app, settings, metrics, SystemClock(), processor.assessor.open_warnings)

    @app.task  # type: ignore[untyped-decorator]
    async def follow_warnings() -> None:
        await board_feed.run(bootstrap_servers, names.warnings, settings.kafka)

    def apply_silence(key: bytes | None, value: bytes | None) -> None:
        try:
            silence_id, silence = silence_record(key, value)
        except ValueError as error:
            app.log.warning("ignoring an unreadable record on the silences topic: %s", error)
            return
        if silence is None:
            processor.assessor.remove_silence(silence_id)
        else:
            processor.assessor.add_silence(silence)

    @app.task  # type: ignore[untyped-decorator]
    async def follow_silences() -> None:
        await follow_topic(bootstrap_servers, names.silences, settings.kafka, apply_silence)

    silences_topic = app.topic(names.silences)

    async def send_silence(silence_id: str, value: bytes | None) -> None:
        await silences_topic.send(key=silence_id.encode(), value=value)

    install_silences(app, processor.assessor.silences, send_silence, SystemClock())

    def apply_device(key: bytes | None, value: bytes | None) -> None:
        try:
            processor.registry.apply(key, value)
        except ValueError as error:
            app.log.warning("ignoring an unreadable record on the devices topic: %s", error)

    @app.task  # type: ignore[untyped-decorator]
    async def follow_devices() -> None:
        await follow_topic(bootstrap_servers, names.devices, settings.kafka, apply_device)

    install_devices(app, processor.registry, processor.unregistered_devices)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    def _close_event_streams(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        board_feed.closed.set()  # open console streams end now, not at their next keep-alive

    readiness = Readiness()
    progress = PartitionProgress()
    input_topics = set(names.input_kinds())
    state_topics = {*input_topics, names.feedback, names.districts}
    """Every topic whose records change checkpointed state: a checkpoint covers its offsets."""

    def consumer_lag() -> dict[tuple[str, int], int]:
        """Lag per input partition; unknown (absent) while the broker cannot be reached."""
        if readiness.broker_unreachable:
            return {}
        consumer = app.consumer
        highwaters = {
            (tp.topic, tp.partition): consumer.highwater(tp)
            for tp in consumer.assignment()
            if tp.topic in input_topics
        }
        return progress.lag(highwaters)

    metrics.track_consumer_lag(consumer_lag)

    def readings_caught_up(partition: int) -> bool | None:
        highwater = app.consumer.highwater(TP(names.readings, partition))
        return progress.caught_up(names.readings, partition, highwater)

    @app.task  # type: ignore[untyped-decorator]
    async def watch_broker() -> None:
        throttle_repeats()
        while not app.should_stop:
            reachable = await cluster_reachable(lambda: producer_client(app))
            metrics.broker_connected.set(reachable)
            readiness.broker_checked(reachable)
            await reread_lost_inputs()
            await app.sleep(CHECK_INTERVAL_S)

    async def reread_lost_inputs() -> None:
        """A broker whose input partitions end below what this worker processed lost them (a new,
        empty broker): keep the state in memory, read those partitions from their beginning, and
        have the next checkpoint write every state of them again."""
        consumer = app.consumer
        lost = [
            tp
            for tp in consumer.assignment()
            if tp.topic in state_topics
            and (high := consumer.highwater(tp)) is not None
            and high < (progress.next_offset(tp.topic, tp.partition) or 0)
        ]
        if not lost:
            return
        metrics.state_resets.labels("input_offsets_gone").inc(len(lost))
        app.log.warning(
            "the broker no longer holds inputs this worker processed (%s): keeping the state in memory, "
            "reading those partitions from their beginning, and checkpointing all their state again",
            ", ".join(f"{tp.topic}[{tp.partition}] ends at {consumer.highwater(tp)}" for tp in lost),
        )
        async with processing:
            for tp in lost:
                progress.resume(tp.topic, tp.partition, 0)
                await consumer.seek(tp, 0)
            sync.rewrite({tp.partition for tp in lost})

    async def send(outcome: Outcome, key: bytes | None = None) -> None:
        for refusal in outcome.refusals:
            app.log.warning("%s", refusal)
        for letter in outcome.dead_letters:
            await ledger.send(deadletter_topic, key, letter.model_dump_json().encode())
        renumbered: dict[tuple[str, int], int] = {}
        for event in outcome.assessment.events:
            warning = event.warning
            number = fence.admit(warning.warning_id, warning.revision, partial(revision_bytes, warning))
            if number is None:  # a replay after a crash re-derived exactly what is on the topic
                alerts.replayed(event)
                continue
            renumbered[(warning.warning_id, warning.revision)] = number
            value = revision_bytes(warning, number)
            await ledger.send(warnings_topic, warning.community_id.encode(), value)
            alerts.revise(event)
            if event.scope == "community" and event.district_id is not None:
                await ledger.send(districts_topic, event.district_id.encode(), value)
        for notification in outcome.assessment.notifications:
            if notification.warning_id is not None and notification.revision is not None:
                # name the revision as published (the fence may have renumbered it)
                number = renumbered.get((notification.warning_id, notification.revision))
                if number is not None:
                    notification = notification.model_copy(update={"revision": number})
            for topic in notification.topics:
                await ledger.send(
                    responder_topics[settings.topic_prefix + topic],
                    notification.community_id.encode(),
                    notification.model_dump_json().encode(),
                )
        for fault in outcome.assessment.device_faults:
            await ledger.send(
                device_faults_topic, fault.community_id.encode(), fault.model_dump_json().encode()
            )

    @app.agent(inputs, name="ingest")
    async def ingest(stream: Any) -> None:
        """Take what is waiting in one go (Faust acks a batch's events once the next is asked for)
        and handle it under one hold of the lock, message by message in consumed order, each
        message's outputs queued before the next is handled: the order of outputs and what a
        checkpoint covers stay those of one message at a time."""
        within_s = settings.ingest_batch_within_ms / 1000
        async for events in stream.take_events(settings.ingest_batch_messages, within=within_s):
            metrics.ingest_batches.observe("ingest", len(events))
            async with processing:
                for event in events:
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
                    emitting = perf_counter()
                    await send(outcome, message.key)
                    metrics.stage_latency.observe("emit", perf_counter() - emitting)
                    progress.processed(message.topic, message.partition, message.offset)

    async def apply_records(
        stream: Any, parse: Callable[[bytes], Record], topic: str, act: Callable[[Record, Any], Outcome]
    ) -> None:
        """Validate each record of ``stream`` with ``parse``, apply it with ``act(record, event)`` and
        send what comes of it; an invalid record is logged and skipped (its offset still counts)."""
        async for event in stream.events():
            message = event.message
            async with processing:
                try:
                    record = parse(event.value)
                except ValidationError as error:
                    app.log.warning("ignoring an invalid record on the %s topic: %s", topic, error)
                else:
                    await send(act(record, event))
                progress.processed(message.topic, message.partition, message.offset)

    @app.agent(feedback_topic, name="operator-actions")
    async def operator_actions(stream: Any) -> None:
        await apply_records(
            stream,
            OPERATOR_ACTION.validate_json,
            "feedback",
            lambda feedback, event: processor.act(feedback, event.message.partition),
        )

    @app.agent(districts_topic, name="district-roll-up")
    async def district_roll_up(stream: Any) -> None:
        await apply_records(
            stream,
            RiskWarning.model_validate_json,
            "districts",
            lambda warning, event: processor.roll_up(event.key.decode(), warning, event.message.partition),
        )

    @app.timer(interval=settings.tick_interval_s)  # type: ignore[untyped-decorator]
    async def tick() -> None:
        async with processing:
            await send(processor.tick(readings_caught_up))

    def position_of(partition: int) -> tuple[dict[str, int], dict[str, Any]]:
        return progress.next_offsets(partition), processor.stream_times_of(partition)

    state_producer = StateProducer(bootstrap_servers, settings.kafka, settings.max_record_bytes)
    app.riskwatch_after_stop.append(state_producer.stop)
    sync = StateSync(
        state_producer,
        bootstrap_servers,
        settings.kafka,
        metrics,
        {
            "detector": (names.detector_state, detector_books),
            "assessment": (names.warnings_state, assessment_books),
        },
        ledger,
        processing,
        position_of,
    )

    @app.timer(interval=settings.checkpoint_interval_s)  # type: ignore[untyped-decorator]
    async def checkpoint() -> None:
        if not await sync.write():
            app.log.warning("checkpoint incomplete (%d records not yet on the broker); retrying", len(ledger))

    def partitions_of(tps: Any) -> set[int]:
        return {tp.partition for tp in tps if tp.topic in state_topics}

    # mode types receivers as positional-only; any callable taking (sender, ..., signal=) works.
    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _revoked(sender: Any, revoked: Any, *, signal: Any, **kwargs: Any) -> None:
        """Checkpoint what may move; the state stays until the assignment says who owns it."""
        readiness.assigned = False
        await sync.write(partitions_of(revoked) & sync.owned)

    def release(partitions: set[int]) -> None:
        fence.forget(partitions)
        sync.forget(partitions)
        progress.forget(partitions)
        processor.forget_partitions(partitions)

    async def learn_emitted(partitions: set[int]) -> None:
        """Tell the fence every revision already on the warnings topic for ``partitions``."""
        logs = await read_logs(bootstrap_servers, names.warnings, partitions, security=settings.kafka)
        for partition, records in logs.items():
            for _, value in records:
                try:
                    emitted = json.loads(value or b"")
                    fence.learn(partition, emitted["warning_id"], int(emitted["revision"]), value or b"")
                except (ValueError, KeyError, TypeError):
                    app.log.warning("ignoring an unreadable record on the warnings topic")

    async def resume_points(assigned: set[TP], committed: Mapping[TP, int | None]) -> dict[TP, int]:
        """Drop the partitions given away, restore the ones taken over, then resume every state
        topic partition where the state held for it ends (the beginning, when no checkpoint
        ever covered it)."""
        release(sync.owned - partitions_of(assigned))
        taken_over = partitions_of(assigned) - sync.owned
        markers = await sync.restore(taken_over)
        await learn_emitted(taken_over)
        for partition, marker in markers.items():
            if marker is None:
                if any(offset for tp, offset in committed.items() if tp.partition == partition):
                    metrics.state_resets.labels("checkpoint_missing").inc()
                    app.log.warning(
                        "partition %d: the group has committed offsets but no checkpoint exists; "
                        "its state starts empty and its inputs are read from the beginning",
                        partition,
                    )
                continue
            for topic, offset in marker.resume_at.items():
                progress.resume(topic, partition, offset)
            processor.resume_partition(partition, marker.stream_times)
        alerts.refresh()
        app.log.info(
            "restored partitions %s: %s",
            sorted(taken_over),
            {p: None if m is None else m.resume_at for p, m in markers.items()},
        )
        readiness.assigned = True
        return {
            tp: progress.next_offset(tp.topic, tp.partition) or 0
            for tp in assigned
            if tp.topic in state_topics
        }

    app.riskwatch_resume_points = resume_points

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        return web.bytes(metrics.exposition(), headers={"Content-Type": EXPOSITION_CONTENT_TYPE})

    @app.page("/ready")
    async def ready_view(web: Any, request: Any) -> Any:
        reason = readiness.reason(app.rebalancing)
        body = {"ready": True} if reason is None else {"ready": False, "reason": reason}
        return web.json(body, status=200 if reason is None else 503)

    @app.page("/live")
    async def live_view(web: Any, request: Any) -> Any:
        """200 while the event loop answers: a stuck loop times the probe out. A lost broker is
        no reason to restart (``/ready`` says so)."""
        return web.json({"live": True})

    return app
