"""The ``riskwatch notify`` process: responder topics in, deliveries to people out.

It runs in its own consumer group (``<app_id>-notify``), apart from the workers,
so delivery scales and fails on its own. On start it reads ``riskwatch.deliveries``
to its end (which idempotency keys were delivered) and the roster, then follows
the roster. Each notification goes to the recipients :func:`recipients` picks;
each (warning, revision, notice, recipient) is delivered at most once per key as
far as the record shows: the outcome is written to ``riskwatch.deliveries`` and
acknowledged by the broker before the input offset is committed, so a crash
re-reads only what has no outcome yet. The one window left is a crash between a
channel's "taken" and that record: the message goes again on restart with the
same ``Idempotency-Key`` header (and body field), by which a receiver drops it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import start_http_server
from pydantic import ValidationError

from pipeline.assess.episodes import NoticeKind, Notification
from pipeline.config import Settings
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.state_store import read_to_end
from pipeline.kafka.topic_follower import follow_topic
from pipeline.kafka.topics import TopicNames
from pipeline.notify.deliverer import Deliverer, Job
from pipeline.notify.deliveries import DeliveryBook, DeliveryRecord, idempotency_key
from pipeline.notify.messages import Message
from pipeline.notify.metrics import NotifyMetrics
from pipeline.notify.offsets import PendingOffsets
from pipeline.notify.recipients import recipients
from pipeline.notify.roster import Roster, RosterEntry
from pipeline.notify.signing import AckClaim, expiry, issue_token
from pipeline.notify.transport import ChannelTransport
from pipeline.processing.decoding import Rejection, dead_letters
from pipeline.state.state_key import ack_link_key
from schemas.deadletter import DeadLetter, RejectReason

log = logging.getLogger("riskwatch.notify")

MAX_IN_FLIGHT = 1000
"""Records read whose deliveries are unfinished, before reading pauses (dead recipients' backlog)."""


def ack_url(settings: Settings, key: bytes, notification: Notification, recipient: RosterEntry) -> str | None:
    """The signed link by which ``recipient`` acknowledges the notification's warning revision
    (none for a device fault, or for a warning that the notice says is closed)."""
    if notification.warning_id is None or notification.revision is None:
        return None
    if notification.kind in (NoticeKind.RESOLVED, NoticeKind.FALSE_ALARM):
        return None
    claim = AckClaim(
        notification.warning_id,
        notification.revision,
        recipient.id,
        expiry(datetime.now(UTC), settings.notify.ack_ttl_s),
        recipient.name,
    )
    return f"{settings.ack_links_url.rstrip('/')}/ack/{issue_token(key, claim)}"


class _Forget(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, offsets: PendingOffsets) -> None:
        self.offsets = offsets

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.offsets.forget([(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        pass


class NotifyService:
    """One ``riskwatch notify`` process."""

    def __init__(self, settings: Settings, metrics: NotifyMetrics) -> None:
        if settings.bootstrap_servers is None:
            raise ValueError("riskwatch notify needs RISKWATCH_BOOTSTRAP_SERVERS (the workers' broker)")
        self.settings = settings
        self.bootstrap = settings.bootstrap_servers
        self.names = TopicNames.from_settings(settings)
        self.metrics = metrics
        self.book = DeliveryBook()
        self.roster = Roster()
        self.offsets = PendingOffsets()
        self.key = ack_link_key(settings, log)
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", **settings.kafka.aiokafka_kwargs()
        )
        self.transport = ChannelTransport(settings.notify)
        self.deliverer = Deliverer(settings.notify, self.transport, self.record, lambda: datetime.now(UTC))
        metrics.queued.set_function(lambda: self.deliverer.queued)
        self._pending: set[asyncio.Task[None]] = set()
        """Dead letters being written (kept referenced until done)."""

    async def record(self, record: DeliveryRecord) -> None:
        """Write one outcome to ``riskwatch.deliveries`` and wait for the broker; retried until taken."""
        value = record.model_dump_json().encode()
        key = (record.warning_id or record.community_id).encode()
        while True:
            try:
                await self.producer.send_and_wait(self.names.deliveries, value, key=key)
                break
            except KafkaError as error:
                log.warning("cannot record a delivery outcome yet (%s); retrying", error)
                await asyncio.sleep(1.0)
        self.book.add(record)
        self.metrics.attempts.labels(
            record.channel.value if record.channel else "none", record.outcome.value
        ).inc()

    def _apply_roster(self, key: bytes | None, value: bytes | None) -> None:
        try:
            self.roster.apply(key, value)
        except (ValueError, ValidationError) as error:
            log.warning("ignoring an unreadable roster record: %s", error)

    async def _load(self) -> None:
        security = self.settings.kafka
        for record in await read_to_end(self.bootstrap, self.names.deliveries, security=security):
            try:
                self.book.apply(record.key, record.value)
            except (ValueError, ValidationError) as error:
                log.warning("ignoring an unreadable deliveries record: %s", error)
        for record in await read_to_end(self.bootstrap, self.names.roster, security=security):
            self._apply_roster(record.key, record.value)
        log.info(
            "read %d delivered keys and %d roster entries", len(self.book.delivered), len(self.roster.entries)
        )

    async def _dead_letter(self, letter: DeadLetter) -> None:
        """Keep an unreadable notification on the dead-letter topic; its offset counts once it is there."""
        value = letter.model_dump_json().encode()
        while True:
            try:
                await self.producer.send_and_wait(
                    self.names.deadletter, value, key=(letter.key or "").encode()
                )
                break
            except KafkaError as error:
                log.warning("cannot dead-letter an unreadable notification yet (%s); retrying", error)
                await asyncio.sleep(1.0)
        self.offsets.finish(letter.source_topic, letter.partition, letter.offset)

    def handle(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None) -> None:
        """Start the deliveries of one responder-topic record."""
        try:
            notification = Notification.model_validate_json(value or b"")
        except ValidationError as error:
            log.warning("dead-lettering an unreadable notification at %s[%d]@%d", topic, partition, offset)
            self.metrics.skipped.labels("unreadable").inc()
            self.offsets.add(topic, partition, offset, 1)
            rejection = Rejection(RejectReason.WRONG_SHAPE, f"not a notification: {error}"[:2000])
            (letter,) = dead_letters(
                value,
                key,
                topic=topic,
                partition=partition,
                offset=offset,
                rejections=[rejection],
                now=datetime.now(UTC),
                max_raw_bytes=self.settings.max_message_bytes,
            )
            task = asyncio.create_task(self._dead_letter(letter))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        if datetime.now(UTC) - notification.at > timedelta(seconds=self.settings.notify.max_age_s):
            self.metrics.skipped.labels("stale").inc()
            self.offsets.add(topic, partition, offset, 0)
            return
        route = topic.removeprefix(self.settings.topic_prefix)
        chosen = recipients(
            self.roster.entries.values(),
            route,
            notification.community_id,
            notification.covers,
            notification.hazard,
            notification.tier,
            notification.at,
        )
        if not chosen:
            self.metrics.skipped.labels("no_recipient").inc()
            log.info(
                "nobody on the roster (%d entries) takes %s %s notices of %s",
                len(self.roster.entries),
                route,
                notification.hazard.value,
                notification.community_id,
            )
        jobs = []
        for recipient in chosen:
            n = notification
            once = idempotency_key(n.warning_id, n.revision, n.kind.value, n.level, recipient.id, n.at)
            if once in self.book.delivered or once in self.deliverer.in_flight:
                self.metrics.skipped.labels("duplicate").inc()
                continue
            message = Message(n, recipient, once, ack_url(self.settings, self.key, n, recipient))
            jobs.append(Job(message, partial(self.offsets.finish, topic, partition, offset)))
        self.offsets.add(topic, partition, offset, len(jobs))
        for job in jobs:
            self.deliverer.submit(job)

    async def run(self) -> None:
        """Deliver until cancelled."""
        await asyncio.to_thread(ensure_topics, self.settings, self.bootstrap)
        await self._load()
        roster_follower = asyncio.create_task(
            follow_topic(self.bootstrap, self.names.roster, self.settings.kafka, self._apply_roster)
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=f"{self.settings.app_id}-notify",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(max(self.settings.session_timeout_s, 6.0) * 1000),
            heartbeat_interval_ms=int(self.settings.heartbeat_interval_s * 1000),
            **self.settings.kafka.aiokafka_kwargs(),
        )
        await self.producer.start()
        await consumer.start()
        consumer.subscribe(list(self.names.responders), listener=_Forget(self.offsets))
        self.metrics.ready.set(1)
        try:
            while True:
                if self.offsets.in_flight < MAX_IN_FLIGHT:
                    batches = await consumer.getmany(timeout_ms=200, max_records=200)
                    for tp, records in batches.items():
                        for record in records:
                            self.handle(tp.topic, tp.partition, record.offset, record.key, record.value)
                else:
                    await asyncio.sleep(0.2)
                await self._commit(consumer)
        finally:
            self.metrics.ready.set(0)
            roster_follower.cancel()
            await self.deliverer.close()
            await self._commit(consumer)
            await consumer.stop()
            await self.producer.stop()
            await self.transport.close()

    async def _commit(self, consumer: AIOKafkaConsumer) -> None:
        offsets = self.offsets.committable()
        if not offsets:
            return
        try:
            await consumer.commit({TopicPartition(t, p): n for (t, p), n in offsets.items()})
        except (CommitFailedError, KafkaError) as error:
            log.warning("could not commit %s (a rebalance?): %s", offsets, error)


def serve_metrics(settings: Settings, metrics: NotifyMetrics) -> None:
    """``GET /metrics`` of the process, on ``RISKWATCH_NOTIFY_HOST:PORT``."""
    start_http_server(settings.notify.port, addr=settings.notify.host, registry=metrics.registry)
