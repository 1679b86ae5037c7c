"""The worker's decisions for one message, free of Kafka and Faust: decode, score, assess.

The Faust agent hands each consumed message to :meth:`EventProcessor.handle`
and sends what comes back; everything that decides something is here and is
tested without a broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import version

from detectors.base import Detector
from detectors.ewma import EwmaZScore
from detectors.series import SeriesDetectors
from pipeline.assessment import EpisodeAssessment, RiskSignal
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.decoding import DecodeLimits, MessageDecoder, dead_letters
from pipeline.metrics import PipelineMetrics
from pipeline.sensor_profiles import SENSOR_PROFILES
from pipeline.topics import TopicNames
from schemas.deadletter import DeadLetter
from schemas.events import SensorReading, SensorType
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
    """What to send after handling one message."""

    dead_letters: list[DeadLetter] = field(default_factory=list)
    warnings: list[RiskWarning] = field(default_factory=list)


def detector_for(settings: Settings) -> SeriesDetectors:
    """A detector bank whose new series get the defaults of their sensor type."""

    def build(sensor_type: str) -> Detector:
        profile = SENSOR_PROFILES[SensorType(sensor_type)]
        return EwmaZScore(
            alpha=settings.detector_alpha,
            warmup=settings.detector_warmup,
            min_spread=profile.min_spread,
            direction=profile.direction,
        )

    return SeriesDetectors(build)


class EventProcessor:
    """Validates, scores and assesses every message of the input topics."""

    def __init__(self, settings: Settings, metrics: PipelineMetrics, clock: Clock) -> None:
        self.metrics = metrics
        self.clock = clock
        topics = TopicNames.from_settings(settings)
        limits = DecodeLimits(
            max_message_bytes=settings.max_message_bytes,
            max_batch_events=settings.max_batch_events,
            max_event_age=settings.max_event_age,
            max_event_ahead=settings.max_event_ahead,
        )
        self.max_raw_bytes = settings.max_message_bytes
        self.decoders = {topic: MessageDecoder(kind, limits) for topic, kind in topics.input_kinds().items()}
        self.detectors = detector_for(settings)
        self.assessment = EpisodeAssessment(timedelta(seconds=settings.resolve_after_s))
        self.model_version = f"{EwmaZScore.kind}/river-{version('river')}"
        metrics.track_series(lambda: len(self.detectors), self.detectors.warming_up_count)
        metrics.track_active_warnings(self.assessment.active)

    def handle(self, message: InboundMessage) -> Outcome:
        """Decode one message, score its readings, and return dead letters and warnings."""
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
        for event in decoded.events:
            if isinstance(event, SensorReading) and (warning := self._assess_reading(event)):
                outcome.warnings.append(warning)
                self.metrics.warning_changes.labels(warning.tier.name, warning.change.value).inc()
        if message.timestamp_s is not None:
            self.metrics.latency.labels(kind).observe(max(0.0, now.timestamp() - message.timestamp_s))
        return outcome

    def _assess_reading(self, reading: SensorReading) -> RiskWarning | None:
        series = reading.series_key
        score = self.detectors.observe(series, reading.sensor_type.value, reading.value)
        signal = RiskSignal(
            community_id=reading.community_id,
            hazard=SENSOR_PROFILES[reading.sensor_type].hazard,
            observed_at=reading.event_time,
            surprise=score.surprise,
            risk=score.score,
            series=series,
            value=reading.value,
            expected=score.expected,
            model=self.model_version,
        )
        return self.assessment.observe(signal)
