"""The worker's decisions, free of Kafka and Faust: decode, score, assess.

The Faust agents hand each consumed message to :meth:`EventProcessor.handle`,
each operator action to :meth:`EventProcessor.act`, and call
:meth:`EventProcessor.tick` from a timer; they send what comes back. Everything
that decides something is here (or below) and is tested without a broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter

from detectors.limits import PhysicalLimits
from detectors.series import SeriesDetectors
from pipeline.assess.assessor import DISTRICT_KEY_PREFIX, AssessmentOutput, Assessor
from pipeline.assess.fusion import SourceSignal
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.devices.registry import DeviceRegistry
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.decoding import MessageDecoder, dead_letters
from pipeline.processing.live_detector import live_detector
from pipeline.processing.signals import ReportSignals, SensorSignals, TelemetrySignals, never_warned
from schemas.deadletter import DeadLetter
from schemas.events import DeviceTelemetry, ResidentReport, SensorReading
from schemas.feedback import OperatorAction, Rebaseline
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
    refusals: list[str] = field(default_factory=list)
    """Operator actions refused, and why (logged by the worker; nothing changed)."""

    @property
    def warnings(self) -> list[RiskWarning]:
        """Warning revisions for the warnings topic, in order."""
        return [event.warning for event in self.assessment.events]


def detector_for(settings: Settings) -> SeriesDetectors:
    """A detector bank whose new series get the live model of their sensor type.

    The model is decided in one place, :func:`pipeline.processing.live_detector.live_series_model`,
    which ``riskwatch replay`` uses too: for the product's sensor types an EWMA z-score
    on the sensor's noise floor, whose evidence lasts as long as a deviation does,
    which the tier ladder's N-of-M entry, dwell and hysteresis need (the measured
    choice: see :mod:`detectors.ensemble`).
    """
    return SeriesDetectors(lambda sensor_type: live_detector(settings, sensor_type))


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
        roll_up_locally: bool = True,
        registry: DeviceRegistry | None = None,
    ) -> None:
        """``series_changed(series, partition)`` is told of every series a reading updates, and
        ``community_changed(community, partition)`` of every community whose assessment may change.
        ``registry`` holds the devices' site lines and people, as the worker follows them; its
        rules are looked up live, so a change applies from the next reading on."""
        self.metrics = metrics
        self.clock = clock
        self._series_changed = series_changed
        self.community_changed = community_changed
        topics = TopicNames.from_settings(settings)
        limits = settings.decode_limits
        self.max_raw_bytes = settings.max_message_bytes
        self.decoders = {topic: MessageDecoder(kind, limits) for topic, kind in topics.input_kinds().items()}
        self.detectors = detectors if detectors is not None else detector_for(settings)
        self.registry = registry if registry is not None else DeviceRegistry()
        self.sensors = SensorSignals(
            self.detectors,
            PhysicalLimits(device_rules=self.registry.rules),
            metrics.detector_scores.observe,
            self.registry.people,
            self._warned if settings.hold_while_warned else never_warned,
        )
        self.telemetry = TelemetrySignals()
        self.reports = ReportSignals()
        self.assessor = Assessor(settings.assessment, clock, roll_up_locally=roll_up_locally)
        self.rebaseline_after_s = settings.rebaseline_after_s
        self._stream_times: dict[tuple[str, int], datetime] = {}
        self._partition_of: dict[str, int] = {}
        self._last_event_at: dict[str, datetime] = {}
        """Wall-clock time of the last accepted event per community, for the silence alert."""
        self._readings_at_last_tick: dict[int, datetime] = {}
        self._topics = topics
        """Latest event time processed per input topic partition: device silence is judged against it,
        not the wall clock, so a replay, a drill or a catch-up does not find every device silent."""
        metrics.track_series(lambda: len(self.detectors), self.detectors.warming_up_count)
        metrics.track_unregistered_devices(self.unregistered_devices)
        metrics.track_frozen(self.sensors.frozen)
        metrics.track_active_warnings(lambda: [event.warning for event in self.assessor.open_warnings()])
        metrics.track_community_activity(lambda: self._last_event_at)

    def handle(self, message: InboundMessage) -> Outcome:
        """Decode one message, assess its events, and return dead letters and warning changes.

        Stage latencies are observed once per message: decode (with the dead letters), score
        (the events' signals, timed per event and summed), assess (the rest of the event loop,
        held signals released, change notice)."""
        decoder = self.decoders[message.topic]
        kind = decoder.expected_kind
        now = self.clock.now()
        self.metrics.messages_received.labels(kind, message.topic).inc()
        started = perf_counter()
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
            self.metrics.events_received.labels(kind, message.topic).inc(len(decoded.events))
            latest = max(event.event_time for event in decoded.events)
            position = (message.topic, message.partition)
            known = self._stream_times.get(position)
            if known is None or latest > known:
                self._stream_times[position] = latest
            self._partition_of[decoded.events[0].community_id] = message.partition
            self._last_event_at[decoded.events[0].community_id] = now
        from_readings = message.topic == self._topics.readings
        # Only a report or a finding is ever held, so a readings message that finds nothing held
        # holds nothing later on: asked once, not per reading.
        releasing = from_readings and self.assessor.holding
        decoded_at = perf_counter()
        scoring = 0.0
        for event in decoded.events:
            if releasing and self.assessor.holding:  # what was read ahead and this reading has reached
                self._release(outcome.assessment, message.partition, event.event_time)
            scoring_from = perf_counter()
            signals = self._signals(event, message.partition)
            scoring += perf_counter() - scoring_from
            for signal in signals:
                self._fold(outcome.assessment, signal, message.partition, from_readings)
            # Quiet events are not forwarded; their event time still lets open ladders dwell.
            in_step = from_readings or not self._ahead_of_readings(event.event_time, message.partition)
            if in_step and (moved := self.assessor.advance(event.community_id, event.event_time)):
                self._merge(outcome.assessment, moved)
        if decoded.events and self.community_changed is not None:
            self.community_changed(decoded.events[0].community_id, message.partition)
        stages = self.metrics.stage_latency
        stages.observe("decode", decoded_at - started)
        stages.observe("score", scoring)
        stages.observe("assess", perf_counter() - decoded_at - scoring)
        if message.timestamp_s is not None:
            self.metrics.latency.observe(kind, max(0.0, now.timestamp() - message.timestamp_s))
        return outcome

    def act(self, action: OperatorAction, partition: int) -> Outcome:
        """Apply an operator's action (from feedback ``partition``, which is its community's).

        A refused rebaseline changes nothing; the outcome says why (:attr:`Outcome.refusals`).
        """
        outcome = Outcome()
        if isinstance(action, Rebaseline):
            self._rebaseline(action, partition, outcome)
        else:
            self._merge(outcome.assessment, self.assessor.act(action))
        if self.community_changed is not None:
            self.community_changed(action.community_id, partition)
        return outcome

    def _rebaseline(self, request: Rebaseline, partition: int, outcome: Outcome) -> None:
        """Accept the series' new normal (and record it on the warnings resting on it), or refuse."""
        refused = self.sensors.rebaseline(
            request.series, series_kind(request.series), self.rebaseline_after_s
        )
        self.metrics.rebaselines.labels("refused" if refused else "accepted").inc()
        if refused is not None:
            outcome.refusals.append(f"rebaseline by {request.operator} refused: {refused}")
            return
        if self._series_changed is not None:
            self._series_changed(request.series, partition)
        self._merge(outcome.assessment, self.assessor.note_rebaseline(request))

    def roll_up(self, district: str, warning: RiskWarning, partition: int) -> Outcome:
        """Fold a community warning of ``district`` (from the districts topic's ``partition``) into
        the district's roll-up; only the worker owning that partition calls this."""
        outcome = Outcome()
        self._merge(outcome.assessment, self.assessor.note_member(district, warning))
        self._changed(f"{DISTRICT_KEY_PREFIX}{district}", partition)
        return outcome

    def _warned(self, community_id: str, sensor_type: str) -> bool:
        """Whether the reading's hazard has an open warning in its community (hold while warned)."""
        return self.assessor.warns_for(community_id, sensor_type)

    def tick(self, readings_caught_up: Callable[[int], bool | None] | None = None) -> Outcome:
        """Time-driven work: silent devices, held signals, repeats, overdue acknowledgements, silences.

        ``readings_caught_up(partition)`` says whether the worker has processed every
        reading the broker holds for that partition (None: not known yet); without
        it, readings whose time stood still since the last tick count as caught up.
        """
        outcome = Outcome()
        telemetry_times = {
            p: t for (topic, p), t in self._stream_times.items() if topic == self._topics.telemetry
        }
        for signal in self.telemetry.silent(telemetry_times):
            self._fold(outcome.assessment, signal, self._partition_of.get(signal.community_id), False)
        self._release_idle(outcome.assessment, readings_caught_up)
        self._merge(outcome.assessment, self.assessor.tick(self._community_stream_time))
        return outcome

    def unregistered_devices(self) -> int:
        """Devices with a series on this worker that the registry does not know (their type's
        defaults apply); computed at scrape time, never per reading."""
        devices = {key.split("/")[1] for key in self.detectors.series_keys()}
        return sum(1 for device in devices if device not in self.registry)

    def stream_times_of(self, partition: int) -> dict[str, datetime]:
        """The latest event time processed per input topic of ``partition``, for its checkpoint."""
        return {topic: at for (topic, p), at in self._stream_times.items() if p == partition}

    def resume_partition(self, partition: int, stream_times: Mapping[str, datetime]) -> None:
        """Continue ``partition`` from a checkpoint's :meth:`stream_times_of`."""
        for topic, at in stream_times.items():
            self._stream_times[(topic, partition)] = at

    def forget_partitions(self, partitions: Iterable[int]) -> None:
        """Drop the event times of partitions that moved to another worker."""
        gone = set(partitions)
        self._stream_times = {key: at for key, at in self._stream_times.items() if key[1] not in gone}
        self._partition_of = {c: p for c, p in self._partition_of.items() if p not in gone}

    def adopt(self, community: str, partition: int) -> None:
        """A restored ``community`` arrives on input ``partition``."""
        self._partition_of[community] = partition

    def _readings_time(self, partition: int | None) -> datetime | None:
        return None if partition is None else self._stream_times.get((self._topics.readings, partition))

    def _ahead_of_readings(self, at: datetime, partition: int | None) -> bool:
        """True when ``at`` is later than any reading of ``partition`` processed so far."""
        readings_time = self._readings_time(partition)
        return readings_time is None or at > readings_time

    def _fold(
        self, into: AssessmentOutput, signal: SourceSignal, partition: int | None, from_readings: bool
    ) -> None:
        """Assess ``signal`` now, or hold it while it is ahead of its community's readings.

        Readings are never held: they set the pace. A report or a device finding
        ahead of the readings of its partition waits (:meth:`Assessor.hold`) until
        the readings catch up or, if they stand still, until the next tick.
        """
        if not from_readings and self._ahead_of_readings(signal.observed_at, partition):
            self.assessor.hold(signal)
        else:
            self._merge(into, self.assessor.observe(signal))

    def _release(self, into: AssessmentOutput, partition: int, up_to: datetime | None) -> None:
        """Fold in the held signals of ``partition``'s communities up to ``up_to``, a reading's time."""
        for community in self.assessor.held_communities():
            if self._partition_of.get(community) == partition:
                self._merge(into, self.assessor.release(community, up_to))
                self._changed(community, partition)

    def _release_idle(self, into: AssessmentOutput, caught_up: Callable[[int], bool | None] | None) -> None:
        """On a tick, fold in everything held on partitions whose readings are caught up.

        Nothing earlier is still to come there, so waiting longer would only delay a
        report-driven warning. The broker's word (``caught_up``) decides when given: a
        worker too busy to fetch also sees its readings' time stand still, and releasing
        then would fold reports in ahead of readings still queued; and while the broker's
        word is not known yet (a worker just started or restarted, nothing fetched), held
        signals stay held, or a replay after a crash would fold them in an order the
        first run did not. Without ``caught_up`` (offline use), readings whose time stood
        still since the last tick count as caught up.
        """
        readings = self._topics.readings
        readings_now = {p: t for (topic, p), t in self._stream_times.items() if topic == readings}
        for community in self.assessor.held_communities():
            partition = self._partition_of.get(community)
            current = readings_now.get(partition) if partition is not None else None
            if caught_up is not None:
                idle = partition is not None and caught_up(partition) is True
            else:
                idle = current is None or current == self._readings_at_last_tick.get(partition or 0)
            if not idle and current is None:
                continue  # nothing known of this partition's readings yet: keep holding
            self._merge(into, self.assessor.release(community, None if idle else current))
            if partition is not None:
                self._changed(community, partition)
        self._readings_at_last_tick = readings_now

    def _changed(self, community: str, partition: int) -> None:
        if self.community_changed is not None:
            self.community_changed(community, partition)

    def _community_stream_time(self, community: str) -> datetime | None:
        """The latest event time of the community's partition of the readings topic."""
        partition = self._partition_of.get(community)
        return None if partition is None else self._stream_times.get((self._topics.readings, partition))

    def _signals(self, event: object, partition: int) -> list[SourceSignal]:
        if isinstance(event, SensorReading):
            series = event.series_key
            signals = self.sensors.signals_for(event, series)
            if self._series_changed is not None:
                self._series_changed(series, partition)
            return signals
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
        into.extend(new)
