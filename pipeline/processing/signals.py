"""From validated events to the assessment's inputs: one :class:`SourceSignal` per observation that matters.

Pure (no Kafka, no Faust). Three translators, one per event kind:

* :class:`SensorSignals` — scores each reading with its series' detector and the
  physical limits. A reading is forwarded only while it matters: when its score
  reaches :data:`FORWARD_MIN`, when it breaks a limit, or when it is the first
  quiet reading after one that mattered (it replaces that series' signal in
  fusion). Quiet series cost the assessment nothing, which keeps the hot path
  at detector speed. A series that jumps to an alarming reading and is back to
  normal at the very next one has *spiked*: for :data:`SPIKE_SUSPICION` its
  alarming readings come with a ``suspected_fault`` finding for their device, so
  a lone repeat is a device-fault notice, not a hazard (a real leak or flood
  stays up for more than one reading, and reaches other devices).
* :class:`TelemetrySignals` — heartbeats and reported status become device-health
  signals (offline, fault, silent), and ``ok`` once a device recovers.
* :class:`ReportSignals` — each report is a witness; a burst of reports of one
  category in one community (Poisson surprise against the learned rate) raises
  its score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from importlib.metadata import version

from pydantic import BaseModel, Field

from detectors.base import Score
from detectors.device_health import HeartbeatMonitor
from detectors.hold import HeldBaseline
from detectors.limits import PhysicalLimits
from detectors.reports.rate import ReportBursts
from detectors.series import SeriesDetectors
from pipeline.assess.episodes import FalseAlarmFeedback
from pipeline.assess.fusion import SourceSignal, sensor_score
from schemas.events import SENSOR_TYPE_NAMES, DeviceStatus, DeviceTelemetry, ResidentReport, SensorReading
from schemas.hazard import Impact

FORWARD_MIN = 0.2
"""Sensor scores below this never change fusion (its witnesses start at 0.5): not forwarded."""

FALSE_ALARM_PENALTY = 1.0
"""Decades of surprise a series needs on top of its model after each false alarm on it ..."""
MAX_FALSE_ALARM_PENALTY = 3.0
"""... up to this many: an operator's false alarm raises that series' threshold."""

SPIKE_MIN = 0.85
"""A reading this strong (tier II's enter risk), or beyond a limit, is alarming."""
SPIKE_SUSPICION = timedelta(hours=6)
"""How long a series that spiked and came straight back stays suspect."""

_RIVER = version("river")
_UNHEALTHY_STATUS = {
    DeviceStatus.OFFLINE: "offline",
    DeviceStatus.FAULT: "fault",
    DeviceStatus.MAINTENANCE: "offline",
}


class SeriesSignalState(BaseModel):
    """What :class:`SensorSignals` knows of a community's series beyond their detectors: which
    have a live signal in fusion, which are alarming or suspect, and operators' false-alarm
    penalties. Checkpointed with the community's assessment, so a restarted worker still sends
    the quiet reading that ends a forwarded signal, still suspects a series that spiked, and
    keeps the thresholds operators raised."""

    forwarded: list[str] = Field(default_factory=list)
    alarming: list[str] = Field(default_factory=list)
    suspect_until: dict[str, datetime] = Field(default_factory=dict)
    penalty: dict[str, float] = Field(default_factory=dict)


class TelemetryState(BaseModel):
    """What :class:`TelemetrySignals` knows of a community's devices: each one's last heartbeat
    with its expected interval, and which are unhealthy. Checkpointed with the community, so a
    restarted worker neither forgets a device that then goes silent nor reports a fault twice."""

    heartbeats: dict[str, tuple[datetime, float]] = Field(default_factory=dict)
    unhealthy: list[str] = Field(default_factory=list)


class Gate(Enum):
    """What becomes of one scored reading (:meth:`SignalGate.step`)."""

    DROP = "drop"
    """Quiet, and the series' signal in fusion is quiet already: nothing to say."""
    FORWARD = "forward"
    FORWARD_SUSPECT = "forward_suspect"
    """Forward it with a ``suspected_fault`` finding for its device (:func:`suspected_fault`)."""


class SignalGate:
    """Which scored readings reach fusion, per series; shared by the worker and ``riskwatch replay``.

    >>> from datetime import UTC, datetime, timedelta
    >>> gate, t = SignalGate(), datetime(2026, 1, 1, tzinfo=UTC)
    >>> [gate.step("s", strength, False, t + timedelta(minutes=i)).value
    ...  for i, strength in enumerate([0.01, 0.9, 0.01, 0.01, 0.9])]
    ['drop', 'forward', 'forward', 'drop', 'forward_suspect']
    """

    def __init__(self) -> None:
        self._forwarded: set[str] = set()
        self._alarming: set[str] = set()
        self._suspect_until: dict[str, datetime] = {}

    def step(self, series: str, strength: float, breach: bool, at: datetime) -> Gate:
        """Judge the reading of ``series`` at ``at`` scored ``strength`` (``breach``: past a limit)."""
        if not breach and strength < FORWARD_MIN:
            if series not in self._forwarded:
                return Gate.DROP
            self._forwarded.discard(series)
            if series in self._alarming:
                self._alarming.discard(series)
                self._suspect_until[series] = at + SPIKE_SUSPICION
            return Gate.FORWARD
        self._forwarded.add(series)
        if not breach and strength < SPIKE_MIN:
            self._alarming.discard(series)
            return Gate.FORWARD
        self._alarming.add(series)
        until = self._suspect_until.get(series)
        if until is None:
            return Gate.FORWARD
        if at >= until:
            del self._suspect_until[series]
            return Gate.FORWARD
        return Gate.FORWARD_SUSPECT

    def export_by_community(self) -> dict[str, SeriesSignalState]:
        """The state of every community's series, in one pass (series keys start ``community/``)."""
        states: dict[str, SeriesSignalState] = {}

        def of(series: str) -> SeriesSignalState:
            return states.setdefault(_community_of(series), SeriesSignalState())

        for series in sorted(self._forwarded):
            of(series).forwarded.append(series)
        for series in sorted(self._alarming):
            of(series).alarming.append(series)
        for series, until in self._suspect_until.items():
            of(series).suspect_until[series] = until
        return states

    def resume(self, state: SeriesSignalState) -> None:
        """Take back one community's part of :meth:`export_by_community`."""
        self._forwarded.update(state.forwarded)
        self._alarming.update(state.alarming)
        self._suspect_until.update(state.suspect_until)

    def forget(self, communities: set[str]) -> None:
        """Drop the series of ``communities``, in one pass."""
        self._forwarded = {s for s in self._forwarded if _community_of(s) not in communities}
        self._alarming = {s for s in self._alarming if _community_of(s) not in communities}
        self._suspect_until = {
            s: t for s, t in self._suspect_until.items() if _community_of(s) not in communities
        }


def _community_of(series: str) -> str:
    """``"c1/wl-1/water_level"`` → ``"c1"`` (identifiers hold no ``/``)."""
    return series.partition("/")[0]


def suspected_fault(community_id: str, device_id: str, at: datetime) -> SourceSignal:
    """The finding that comes with an alarming reading of a series that spiked before."""
    return SourceSignal(
        source="device_health",
        community_id=community_id,
        series=f"{community_id}/{device_id}/spikes",
        signal_type="suspected_fault",
        device_id=device_id,
        observed_at=at,
        score=1.0,
        model="spike_and_return",
    )


def sensor_signal(
    series: str,
    reading: SensorReading,
    score: Score,
    strength: float,
    *,
    limits: PhysicalLimits,
    limit: bool,
    model: str,
    people: int | None = None,
    graded: bool = True,
) -> SourceSignal:
    """The signal a forwarded reading of ``series`` makes, scored ``strength`` by ``model``
    (``limit``: past a limit, which the model's name then says).

    Shared by the worker (:class:`SensorSignals`) and ``riskwatch replay``, so the impact axis
    grades both on the same fields: the value, its device's site lines in ``limits`` (as
    ``site_impact``), the people the device watches over. ``graded=False`` leaves the value
    out, for a series with no unit, whose value no line can grade (replay's generic files).
    A non-finite expected value (a device model that has none) is shown as none.
    """
    site_rule = limits.device_rules.get((reading.device_id, reading.sensor_type)) if graded else None
    site_impact = None
    if site_rule is not None:
        step = site_rule.breached_step(reading.value)
        site_impact = Impact.of(step.tier) if step is not None else Impact.MINOR
    return SourceSignal(
        source="sensor",
        community_id=reading.community_id,
        series=series,
        signal_type=reading.sensor_type.value,
        device_id=reading.device_id,
        observed_at=reading.event_time,
        score=strength,
        value=reading.value if graded else None,
        expected=score.expected if score.expected is not None and math.isfinite(score.expected) else None,
        warming_up=score.warming_up,
        limit_exceeded=limit,
        site_impact=site_impact,
        people=people,
        model=model + ("+limits" if limit else ""),
    )


def never_warned(community_id: str, sensor_type: str) -> bool:
    """No series is held by its community's warnings (``Settings.hold_while_warned`` off)."""
    return False


class SensorSignals:
    """Detectors and limits of every series on this worker."""

    def __init__(
        self,
        detectors: SeriesDetectors,
        limits: PhysicalLimits,
        record_score: Callable[[str, float], None] | None = None,
        people: Callable[[str], int | None] = lambda device_id: None,
        warned: Callable[[str, str], bool] = never_warned,
    ) -> None:
        """``record_score(sensor_type, surprise)`` is told :attr:`Score.surprise` of every reading
        a warmed-up detector scores (warming-up scores are 0 by rule and would only pile up at 0).
        Every reading, not a sample or a batch maximum: the rare high scores are what matters,
        and a :class:`~pipeline.metrics.TallyHistogram` counts one in ~0.35 µs. Surprise, not
        :attr:`Score.risk`, because it is computed here anyway (``risk`` would compute it again).
        ``warned(community_id, sensor_type)`` says whether the reading's hazard has an open
        warning in its community (:meth:`pipeline.assess.assessor.Assessor.warns_for`): its
        series' held baseline then learns nothing."""
        self.detectors = detectors
        self.limits = limits
        self._people = people
        """How many people a device watches over (None: not registered); ``limits.device_rules``
        are the devices' site lines, both from the registry."""
        self._record_score = record_score
        self._warned = warned
        self._gate = SignalGate()
        self._penalty: dict[str, float] = {}

    def signals_for(self, reading: SensorReading, series: str | None = None) -> list[SourceSignal]:
        """Score ``reading`` (and learn it); the signals to forward (none when it changes nothing).

        ``series`` is the reading's :attr:`~schemas.events.SensorReading.series_key`, when the
        caller has built it already: the key and the sensor type's name are made once a reading."""
        if series is None:
            series = reading.series_key
        kind = SENSOR_TYPE_NAMES[reading.sensor_type]
        warned = self._warned(reading.community_id, kind)
        score = self.detectors.observe(series, kind, reading.value, reading.event_time, warned=warned)
        surprise = score.surprise
        if self._record_score is not None and not score.warming_up:
            self._record_score(kind, surprise)
        breach = self.limits.check(reading.sensor_type, reading.device_id, reading.value)
        strength = sensor_score(surprise - self._penalty.get(series, 0.0))
        gate = self._gate.step(series, strength, breach is not None, reading.event_time)
        if gate is Gate.DROP:
            return []
        signal = self._signal(series, reading, score, strength, breach is not None)
        if gate is Gate.FORWARD:
            return [signal]
        return [suspected_fault(reading.community_id, reading.device_id, reading.event_time), signal]

    def _signal(
        self, series: str, reading: SensorReading, score: Score, strength: float, limit: bool
    ) -> SourceSignal:
        detector = self.detectors.get(series)
        kind = detector.kind if detector is not None else "unknown"
        return sensor_signal(
            series,
            reading,
            score,
            strength,
            limits=self.limits,
            limit=limit,
            people=self._people(reading.device_id),
            model=f"{kind}/river-{_RIVER}",
        )

    def learn_false_alarm(self, feedback: FalseAlarmFeedback) -> None:
        """Raise the threshold of every series the false alarm rested on."""
        for series in feedback.series:
            raised = self._penalty.get(series, 0.0) + FALSE_ALARM_PENALTY
            self._penalty[series] = min(raised, MAX_FALSE_ALARM_PENALTY)

    def rebaseline(self, series: str, kind: str, min_frozen_s: float) -> str | None:
        """Start ``series``' model afresh on its new normal, if its baseline has been frozen for
        ``min_frozen_s`` of its own event time; otherwise the reason it was refused.

        The fresh model is quiet until calibrated on the new record (physical limits still
        warn): the old record is what the operator declared void.
        """
        detector = self.detectors.get(series)
        if not isinstance(detector, HeldBaseline):
            model = (
                "no model on this worker"
                if detector is None
                else f"a {detector.kind} model, which never freezes"
            )
            return f"{series} has {model}: nothing to rebaseline"
        frozen_for = detector.frozen_for_s
        if frozen_for is None:
            return (
                f"{series} is not frozen: its baseline follows its readings, there is no new normal to accept"
            )
        if frozen_for < min_frozen_s:
            return (
                f"{series} has been frozen for {frozen_for / 3600:.1f} h, less than the "
                f"{min_frozen_s / 3600:.1f} h before a new normal may be accepted (rebaseline_after_s)"
            )
        self.detectors.install(series, self.detectors.fresh(kind))
        return None

    def frozen(self) -> list[tuple[str, float]]:
        """(series, seconds frozen) of every series whose baseline is frozen, longest first.

        Parked series (restored, not read since) are not unpacked to look: they are counted
        once they read again, as :meth:`SeriesDetectors.warming_up_count` does."""
        found = [
            (series, seconds)
            for series, detector in self.detectors.items()
            if isinstance(detector, HeldBaseline) and (seconds := detector.frozen_for_s) is not None
        ]
        return sorted(found, key=lambda pair: -pair[1])

    def penalty(self, series: str) -> float:
        """Extra decades of surprise ``series`` needs after operators' false alarms."""
        return self._penalty.get(series, 0.0)

    def export_by_community(self) -> dict[str, SeriesSignalState]:
        """Each community's series state, for its checkpoint; communities with none are absent."""
        states = self._gate.export_by_community()
        for series, penalty in self._penalty.items():
            states.setdefault(_community_of(series), SeriesSignalState()).penalty[series] = penalty
        return states

    def import_community(self, state: SeriesSignalState) -> None:
        """Resume a community's series from its part of :meth:`export_by_community`."""
        self._gate.resume(state)
        self._penalty.update(state.penalty)

    def forget_communities(self, communities: Iterable[str]) -> None:
        """Drop the communities whose partitions moved to another worker."""
        gone = set(communities)
        self._gate.forget(gone)
        self._penalty = {s: p for s, p in self._penalty.items() if _community_of(s) not in gone}


class TelemetrySignals:
    """Device status and heartbeats as device-health signals.

    Silence is judged per input partition, against that partition's latest event
    time: a partition's events arrive in order, but partitions are consumed at
    different speeds, so a worker-wide clock (or the wall clock, during a replay
    or a catch-up) would find the devices of a lagging partition silent.
    """

    def __init__(self, missed_beats: int = 3) -> None:
        self._missed_beats = missed_beats
        self._heartbeats: dict[int, HeartbeatMonitor] = {}
        self._unhealthy: set[str] = set()

    def signals_for(self, telemetry: DeviceTelemetry, partition: int) -> list[SourceSignal]:
        """A health signal when the device reports a problem, or ``ok`` when one clears."""
        device = f"{telemetry.community_id}/{telemetry.device_id}"
        monitor = self._heartbeats.get(partition)
        if monitor is None:
            monitor = self._heartbeats[partition] = HeartbeatMonitor(self._missed_beats)
        monitor.beat(device, telemetry.event_time, telemetry.heartbeat_interval_s)
        finding = _UNHEALTHY_STATUS.get(telemetry.status)
        if finding is None and device not in self._unhealthy:
            return []
        if finding is None:
            self._unhealthy.discard(device)
            return [self._health(device, "ok", telemetry.event_time, 0.0)]
        self._unhealthy.add(device)
        return [self._health(device, finding, telemetry.event_time, 1.0)]

    def export_by_community(self) -> dict[str, TelemetryState]:
        """Each community's device state, for its checkpoint, in one pass."""
        states: dict[str, TelemetryState] = {}
        for monitor in self._heartbeats.values():
            for device, beat in monitor.last_beats.items():
                states.setdefault(_community_of(device), TelemetryState()).heartbeats[device] = beat
        for device in sorted(self._unhealthy):
            states.setdefault(_community_of(device), TelemetryState()).unhealthy.append(device)
        return states

    def import_community(self, state: TelemetryState, partition: int) -> None:
        """Resume a community's devices (of input ``partition``) from :meth:`export_by_community`."""
        monitor = self._heartbeats.setdefault(partition, HeartbeatMonitor(self._missed_beats))
        for device, (at, interval_s) in state.heartbeats.items():
            monitor.beat(device, at, interval_s)
        self._unhealthy.update(state.unhealthy)

    def forget_communities(self, communities: Iterable[str]) -> None:
        """Drop the devices of communities whose partitions moved to another worker."""
        gone = set(communities)
        for monitor in self._heartbeats.values():
            for device in [d for d in monitor.last_beats if _community_of(d) in gone]:
                monitor.forget(device)
        self._unhealthy = {d for d in self._unhealthy if _community_of(d) not in gone}

    def silent(self, stream_times: Mapping[int, datetime]) -> list[SourceSignal]:
        """Health signals for devices that newly missed their heartbeats, each judged at the
        latest event time of its partition."""
        found = []
        for partition, now in stream_times.items():
            monitor = self._heartbeats.get(partition)
            for finding in monitor.silent(now) if monitor is not None else ():
                if finding.device_id not in self._unhealthy:
                    self._unhealthy.add(finding.device_id)
                    found.append(self._health(finding.device_id, "silent", now, 1.0))
        return found

    def _health(self, device: str, finding: str, at: datetime, score: float) -> SourceSignal:
        community, device_id = device.split("/", 1)
        return SourceSignal(
            source="device_health",
            community_id=community,
            series=f"{device}/health",
            signal_type=finding,
            device_id=device_id,
            observed_at=at,
            score=score,
            model="device_health",
        )


class ReportSignals:
    """Resident reports as witnesses, stronger when they come in a burst."""

    def __init__(self, bursts: ReportBursts | None = None) -> None:
        self.bursts = bursts or ReportBursts()

    def signal_for(self, report: ResidentReport) -> SourceSignal:
        """The report as a witness of its category's hazard.

        Its score is the reporter's own severity (1 → 0.5 … 5 → 0.9), raised to the
        burst's strength when this category's reports in this community are far
        above their learned rate.
        """
        burst = self.bursts.observe(report.community_id, report.category, report.event_time)
        score = max(0.4 + 0.1 * report.severity, sensor_score(burst.score.surprise))
        return SourceSignal(
            source="report",
            community_id=report.community_id,
            series=f"{report.community_id}/reports/{report.category.value}",
            signal_type=report.category.value,
            observed_at=report.event_time,
            score=min(score, 1.0),
            value=float(burst.count),
            expected=burst.expected,
            report_id=report.report_id,
            reporter_role=report.reporter_role,
            severity=report.severity,
            model="report_burst",
        )
