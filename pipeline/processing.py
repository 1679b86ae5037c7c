"""The worker's decisions, free of Kafka and Faust: decode, score, assess.

The Faust agents hand each consumed message to :meth:`EventProcessor.handle`,
each operator action to :meth:`EventProcessor.act`, and call
:meth:`EventProcessor.tick` from a timer; they send what comes back. Everything
that decides something is here (or below) and is tested without a broker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from detectors.base import Detector
from detectors.ewma import EwmaZScore
from detectors.limits import PhysicalLimits
from detectors.series import SeriesDetectors
from pipeline.assess.assessor import AssessmentOutput, Assessor
from pipeline.assess.fusion import SourceSignal
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.decoding import DecodeLimits, MessageDecoder, dead_letters
from pipeline.metrics import PipelineMetrics
from pipeline.sensor_profiles import SENSOR_PROFILES
from pipeline.signals import ReportSignals, SensorSignals, TelemetrySignals
from pipeline.topics import TopicNames
from schemas.deadletter import DeadLetter
from schemas.events import DeviceTelemetry, ResidentReport, SensorReading, SensorType
from schemas.feedback import Feedback
from schemas.warning import RiskWarning


@dataclass(frozen=True)
class InboundMessage:
    """One consumed Kafka message, as the processor needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_s: float | None = None
    """The producer's timestamp (seconds since the epoch), for the latency metric."""


@dataclass
class Outcome:
    """What to send after handling one message, action or tick."""

    dead_letters: list[DeadLetter] = field(default_factory=list)
    assessment: AssessmentOutput = field(default_factory=AssessmentOutput)

    @property
    def warnings(self) -> list[RiskWarning]:
        """Warning revisions for the warnings topic, in order."""
        return [event.warning for event in self.assessment.events]


def detector_for(settings: Settings) -> SeriesDetectors:
    """A detector bank whose new series get the defaults of their sensor type.

    The live pipeline scores readings with :class:`~detectors.ewma.EwmaZScore`: its
    score stays high for as long as a deviation lasts (learning protection holds the
    baseline), which the tier ladder's N-of-M entry, dwell and hysteresis need.
    The NAB-tuned default (:func:`detectors.ensemble.default_detector`) scores how
    *new* a deviation is and goes quiet inside a sustained incident: right for
    NAB's earliest-detection reward, wrong for a ladder that must keep a flood at
    its tier.
    """

    def build(sensor_type: str) -> Detector:
        profile = SENSOR_PROFILES[SensorType(sensor_type)]
        return EwmaZScore(
            alpha=settings.detector_alpha,
            warmup=settings.detector_warmup,
            min_spread=profile.min_spread,
            direction=profile.direction,
        )

    return SeriesDetectors(build)


def series_kind(series_key: str) -> str:
    """The sensor type of a series key ``community/device/sensor_type``.

    >>> series_kind("c1/wl-1/water_level")
    'water_level'
    """
    return series_key.rsplit("/", 1)[-1]


class EventProcessor:
    """Validates, scores and assesses every message of the input topics."""

    def __init__(
        self,
        settings: Settings,
        metrics: PipelineMetrics,
        clock: Clock,
        detectors: SeriesDetectors | None = None,
        series_changed: Callable[[str, int], None] | None = None,
        community_changed: Callable[[str, int], None] | None = None,
    ) -> None:
        """``series_changed(series, partition)`` is told of every series a reading updates, and
        ``community_changed(community, partition)`` of every community whose assessment may change."""
        self.metrics = metrics
        self.clock = clock
        self._series_changed = series_changed
        self.community_changed = community_changed
        topics = TopicNames.from_settings(settings)
        limits = DecodeLimits(
            max_message_bytes=settings.max_message_bytes,
            max_batch_events=settings.max_batch_events,
            max_event_age=settings.max_event_age,
            max_event_ahead=settings.max_event_ahead,
        )
        self.max_raw_bytes = settings.max_message_bytes
        self.decoders = {topic: MessageDecoder(kind, limits) for topic, kind in topics.input_kinds().items()}
        self.detectors = detectors if detectors is not None else detector_for(settings)
        self.sensors = SensorSignals(self.detectors, PhysicalLimits())
        self.telemetry = TelemetrySignals()
        self.reports = ReportSignals()
        self.assessor = Assessor(settings.assessment, clock)
        self._stream_times: dict[tuple[str, int], datetime] = {}
        self._partition_of: dict[str, int] = {}
        self._topics = topics
        """Latest event time processed per input topic partition: device silence is judged against it,
        not the wall clock, so a replay, a drill or a catch-up does not find every device silent."""
        metrics.track_series(lambda: len(self.detectors), self.detectors.warming_up_count)
        metrics.track_active_warnings(lambda: [event.warning for event in self.assessor.open_warnings()])

    def handle(self, message: InboundMessage) -> Outcome:
        """Decode one message, assess its events, and return dead letters and warning changes."""
        decoder = self.decoders[message.topic]
        kind = decoder.expected_kind
        now = self.clock.now()
        self.metrics.messages_received.labels(kind).inc()
        decoded = decoder.decode(message.value, message.key, now)
        outcome = Outcome()
        if decoded.rejections:
            outcome.dead_letters = dead_letters(
                message.value,
                message.key,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                rejections=decoded.rejections,
                now=now,
                max_raw_bytes=self.max_raw_bytes,
            )
            for rejection in decoded.rejections:
                self.metrics.dead_letters.labels(rejection.reason_class.value).inc()
        if decoded.events:
            self.metrics.events_received.labels(kind).inc(len(decoded.events))
        if decoded.events:
            latest = max(event.event_time for event in decoded.events)
            position = (message.topic, message.partition)
            known = self._stream_times.get(position)
            if known is None or latest > known:
                self._stream_times[position] = latest
            self._partition_of[decoded.events[0].community_id] = message.partition
        for event in decoded.events:
            for signal in self._signals(event, message.partition):
                self._merge(outcome.assessment, self.assessor.observe(signal))
            # Quiet events are not forwarded; their event time still lets open ladders dwell.
            if (moved := self.assessor.advance(event.community_id, event.event_time)) is not None:
                self._merge(outcome.assessment, moved)
        if decoded.events and self.community_changed is not None:
            self.community_changed(decoded.events[0].community_id, message.partition)
        if message.timestamp_s is not None:
            self.metrics.latency.labels(kind).observe(max(0.0, now.timestamp() - message.timestamp_s))
        return outcome

    def act(self, feedback: Feedback, partition: int) -> Outcome:
        """Apply an operator's action (from feedback ``partition``, which is its community's)."""
        outcome = Outcome()
        self._merge(outcome.assessment, self.assessor.act(feedback))
        if self.community_changed is not None:
            self.community_changed(feedback.community_id, partition)
        return outcome

    def tick(self) -> Outcome:
        """Time-driven work: silent devices, repeats, overdue acknowledgements, silence expiry."""
        outcome = Outcome()
        telemetry_times = {
            p: t for (topic, p), t in self._stream_times.items() if topic == self._topics.telemetry
        }
        for signal in self.telemetry.silent(telemetry_times):
            self._merge(outcome.assessment, self.assessor.observe(signal))
        self._merge(outcome.assessment, self.assessor.tick(self._community_stream_time))
        return outcome

    def _community_stream_time(self, community: str) -> datetime | None:
        """The latest event time of the community's partition of the readings topic."""
        partition = self._partition_of.get(community)
        return None if partition is None else self._stream_times.get((self._topics.readings, partition))

    def _signals(self, event: object, partition: int) -> list[SourceSignal]:
        if isinstance(event, SensorReading):
            signal = self.sensors.signal_for(event)
            if self._series_changed is not None:
                self._series_changed(event.series_key, partition)
            return [signal] if signal is not None else []
        if isinstance(event, DeviceTelemetry):
            return self.telemetry.signals_for(event, partition)
        if isinstance(event, ResidentReport):
            return [self.reports.signal_for(event)]
        return []

    def _merge(self, into: AssessmentOutput, new: AssessmentOutput) -> None:
        for event in new.events:
            self.metrics.warning_changes.labels(event.warning.tier.name, event.warning.change.value).inc()
        for feedback in new.false_alarms:
            self.sensors.learn_false_alarm(feedback)
        for notification in new.notifications:
            routed = "suppressed" if notification.suppressed_by else "routed"
            self.metrics.notifications.labels(notification.kind.value, routed).inc()
        into.events.extend(new.events)
        into.notifications.extend(new.notifications)
        into.device_faults.extend(new.device_faults)
        into.false_alarms.extend(new.false_alarms)
