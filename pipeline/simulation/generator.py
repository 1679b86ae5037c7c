"""The deterministic event stream of a scenario: one batch per community, event kind and tick.

Every reading tick, each community's gateway sends one batch of readings
(one per device); devices send a heartbeat every ``heartbeat`` (staggered);
reports arrive as Poisson draws. Events are JSON-ready dicts in the exact
shape of :mod:`schemas.events`, built without pydantic on the hot path so
the simulator is never the bottleneck of a benchmark. The same ``seed``
gives the same stream: each community draws from its own random generator,
so adding a community does not change the others.

>>> from datetime import UTC, datetime, timedelta
>>> scenario = Scenario(name="doc", communities=2, duration=timedelta(minutes=10))
>>> batches = list(generate(scenario, datetime(2026, 6, 1, tzinfo=UTC)))
>>> batches[0].community_id, batches[0].kind, len(batches[0].events)
('c001', 'sensor_reading', 14)
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pipeline.simulation.devices import SENSOR_BEHAVIOURS, Device, community_devices
from pipeline.simulation.incidents import (
    DRIFT_FLOORS,
    drifting_noise_step,
    envelope_at,
    faulty_spike_offsets,
    incident_effect,
    is_decoy_device,
)
from pipeline.simulation.reports import (
    FESTIVAL_REPORTS_PER_HOUR,
    INCIDENT_REPORTS_PER_HOUR,
    ReportDraft,
    background_draft,
    festival_draft,
    incident_draft,
    poisson,
    waking_factor,
)
from pipeline.simulation.scenario import DecoyKind, DecoySpec, IncidentKind, IncidentSpec, Scenario
from schemas.events import DeviceStatus, EventKind, SensorType

#: Flood reports start once the water is this far up (it has reached the basements).
FLOOD_REPORTS_FROM_STRENGTH = 0.4
#: A faulty detector's spike reads this share of its measuring range.
SPIKE_SHARE_OF_RANGE = 0.9
_LOW_BATTERY_PCT = 15.0

ReportSource = IncidentKind | Literal["background", "festival"]
"""Why a report is sent: an incident, the everyday background, or a festival night."""


@dataclass(frozen=True)
class Batch:
    """One message's worth of events: one kind, one community, one tick."""

    community_id: str
    kind: EventKind
    offset_s: float
    """Seconds since the scenario's start (for pacing)."""
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class TickContext:
    """What every community shares at one tick: the time and each sensor type's normal level."""

    index: int
    offset_s: float
    at: datetime
    event_time: str
    local_hour: float
    levels: dict[SensorType, float]

    @classmethod
    def build(cls, index: int, start: datetime, offset_s: float, utc_offset_hours: float) -> TickContext:
        """The context of tick ``index``, ``offset_s`` after ``start``."""
        at = start + timedelta(seconds=offset_s)
        local = at + timedelta(hours=utc_offset_hours)
        hour = local.hour + local.minute / 60.0 + local.second / 3600.0
        weekend = local.weekday() >= 5
        levels = {t: b.expected(hour, weekend) for t, b in SENSOR_BEHAVIOURS.items()}
        return cls(index, offset_s, at, at.isoformat(), hour, levels)


def _integral(incident: IncidentSpec) -> float:
    """Seconds of full strength an incident's envelope amounts to (to spread its reports)."""
    rise = (incident.peak - incident.start).total_seconds() / 2.0
    held = incident.plateau_until - incident.peak if incident.plateau_until is not None else timedelta(0)
    rise += held.total_seconds()
    tail = (incident.end - incident.peak - held).total_seconds()
    holds = incident.kind in (IncidentKind.POWER_OUTAGE, IncidentKind.PUBLIC_SECURITY)
    return rise + (tail if holds else tail / 2.0)


@dataclass
class CommunitySimulator:
    """One community's devices and reporters, stepped tick by tick.

    Incidents and decoys may be appended while running (the live demo does).
    """

    community_id: str
    seed: int
    tick_s: float
    heartbeat_s: float
    reports_per_day: float
    incidents: list[IncidentSpec] = field(default_factory=list)
    decoys: list[DecoySpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.devices: list[Device] = community_devices(self.community_id, self.seed)
        self._rng = random.Random(f"{self.seed}:{self.community_id}:stream")
        self._type_counts = Counter(d.sensor_type for d in self.devices)
        self._heartbeat_ticks = max(1, round(self.heartbeat_s / self.tick_s))
        self._stuck_values: dict[tuple[str, str], float] = {}
        self._excursions: dict[tuple[str, str], float] = {}
        self._report_count = 0

    def step(self, tick: TickContext) -> list[Batch]:
        """The batches this community sends at ``tick`` (readings, then telemetry, then reports)."""
        active = [
            (incident, strength)
            for incident in self.incidents
            if (strength := self._strength(incident, tick.offset_s)) > 0.0
        ]
        decoys = [d for d in self.decoys if d.start.total_seconds() <= tick.offset_s <= d.end.total_seconds()]
        readings: list[dict[str, Any]] = []
        telemetry: list[dict[str, Any]] = []
        uninstalled = [
            d
            for d in self.decoys
            if d.kind is DecoyKind.NEW_DEVICE and tick.offset_s < d.start.total_seconds()
        ]
        quiet = not active and not decoys and not uninstalled
        gauss = self._rng.gauss
        for position, device in enumerate(self.devices):
            behaviour = device.behaviour
            if any(is_decoy_device(d, device) for d in uninstalled):
                continue
            if quiet:  # the common case, inlined: the simulator must never be a benchmark's bottleneck
                level = tick.levels[device.sensor_type] + device.offset
                value = behaviour.clip(level + gauss(0.0, behaviour.noise))
            else:
                value, silenced = self._reading(device, tick, active, decoys)
                if silenced:
                    continue
            readings.append(
                {
                    "kind": "sensor_reading",
                    "event_id": f"{device.device_id}.r{tick.index}",
                    "community_id": self.community_id,
                    "event_time": tick.event_time,
                    "device_id": device.device_id,
                    "sensor_type": behaviour.type_name,
                    "value": value,
                    "unit": behaviour.unit,
                }
            )
            if (tick.index + position) % self._heartbeat_ticks == 0:
                telemetry.append(self._heartbeat(device, tick, active))
        batches = [Batch(self.community_id, "sensor_reading", tick.offset_s, readings)] if readings else []
        if telemetry:
            batches.append(Batch(self.community_id, "device_telemetry", tick.offset_s, telemetry))
        if reports := self._reports(tick, active, decoys):
            batches.append(Batch(self.community_id, "resident_report", tick.offset_s, reports))
        return batches

    @staticmethod
    def _strength(incident: IncidentSpec, offset_s: float) -> float:
        return envelope_at(
            incident.kind,
            start=incident.start.total_seconds(),
            peak=incident.peak.total_seconds(),
            end=incident.end.total_seconds(),
            at=offset_s,
            plateau_until=incident.plateau_until.total_seconds() if incident.plateau_until else None,
        )

    def _reading(
        self,
        device: Device,
        tick: TickContext,
        active: list[tuple[IncidentSpec, float]],
        decoys: list[DecoySpec],
    ) -> tuple[float, bool]:
        behaviour = device.behaviour
        level = tick.levels[device.sensor_type] + device.offset
        delta, silenced = 0.0, False
        for incident, strength in active:
            effect = incident_effect(incident, strength, device, self._type_counts[device.sensor_type], level)
            delta += effect.delta
            silenced = silenced or effect.silenced
        value = behaviour.clip(level + delta + self._rng.gauss(0.0, behaviour.noise))
        for decoy in decoys:
            if not is_decoy_device(decoy, device):
                continue
            if decoy.kind is DecoyKind.DEVICE_OFFLINE:
                silenced = True
            elif decoy.kind is DecoyKind.STUCK_SENSOR:
                value = self._stuck_values.setdefault((decoy.id, device.device_id), value)
            elif decoy.kind is DecoyKind.DRIFTING_NOISE:
                value = behaviour.clip(value + self._drifting(decoy, device, tick.offset_s))
            elif decoy.kind is DecoyKind.FAULTY_SPIKE and any(
                tick.offset_s <= spike < tick.offset_s + self.tick_s for spike in faulty_spike_offsets(decoy)
            ):
                value = behaviour.clip(behaviour.high * SPIKE_SHARE_OF_RANGE)
        return value, silenced

    def _drifting(self, decoy: DecoySpec, device: Device, offset_s: float) -> float:
        """The wandering and drift a ``drifting_noise`` decoy adds to ``device`` now."""
        noise = device.behaviour.noise
        key = (decoy.id, device.device_id)
        excursion = drifting_noise_step(
            self._excursions.get(key, 0.0), noise, self.tick_s, self._rng.gauss(0, 1)
        )
        self._excursions[key] = excursion
        window = (decoy.end - decoy.start).total_seconds()
        return excursion + DRIFT_FLOORS * noise * (offset_s - decoy.start.total_seconds()) / window

    def _heartbeat(
        self, device: Device, tick: TickContext, active: list[tuple[IncidentSpec, float]]
    ) -> dict[str, Any]:
        status = DeviceStatus.ONLINE
        event: dict[str, Any] = {
            "kind": "device_telemetry",
            "event_id": f"{device.device_id}.h{tick.index}",
            "community_id": self.community_id,
            "event_time": tick.event_time,
            "device_id": device.device_id,
        }
        if device.battery_start_pct is not None:
            hours = tick.offset_s / 3600.0
            battery = max(0.0, device.battery_start_pct - device.battery_drain_pct_per_h * hours)
            event["battery_pct"] = round(battery, 1)
            if battery < _LOW_BATTERY_PCT:
                status = DeviceStatus.DEGRADED
        on_backup = device.sensor_type is SensorType.POWER and any(
            i.kind is IncidentKind.POWER_OUTAGE and s >= 0.5 for i, s in active
        )
        if on_backup:
            status = DeviceStatus.DEGRADED
        event["status"] = status.value
        event["signal_dbm"] = round(min(0.0, device.signal_dbm + self._rng.gauss(0.0, 2.0)), 1)
        event["heartbeat_interval_s"] = self.heartbeat_s
        return event

    def _report_mean(
        self, tick: TickContext, active: list[tuple[IncidentSpec, float]], festival: bool
    ) -> list[tuple[float, ReportSource]]:
        """Expected report counts this tick, by source."""
        tick_h = self.tick_s / 3600.0
        means: list[tuple[float, ReportSource]] = [
            (self.reports_per_day / 24.0 * tick_h * waking_factor(tick.local_hour), "background")
        ]
        for incident, strength in active:
            if incident.kind is IncidentKind.PUBLIC_SECURITY:
                mean = incident.intensity * strength * self.tick_s / _integral(incident)
            elif incident.kind is IncidentKind.FLOOD and strength < FLOOD_REPORTS_FROM_STRENGTH:
                mean = 0.0
            else:
                mean = INCIDENT_REPORTS_PER_HOUR[incident.kind] * strength * tick_h
            means.append((mean, incident.kind))
        if festival:
            means.append((FESTIVAL_REPORTS_PER_HOUR * tick_h, "festival"))
        return means

    def _reports(
        self, tick: TickContext, active: list[tuple[IncidentSpec, float]], decoys: list[DecoySpec]
    ) -> list[dict[str, Any]]:
        festival = any(d.kind is DecoyKind.FESTIVAL_NIGHT for d in decoys)
        drafts: list[ReportDraft] = []
        for mean, source in self._report_mean(tick, active, festival):
            for _ in range(poisson(self._rng, mean)):
                if source == "background":
                    drafts.append(background_draft(self._rng))
                elif source == "festival":
                    drafts.append(festival_draft(self._rng))
                else:
                    drafts.append(incident_draft(self._rng, source))
        return [self._report(draft, tick) for draft in drafts]

    def _report(self, draft: ReportDraft, tick: TickContext) -> dict[str, Any]:
        self._report_count += 1
        report_id = f"{self.community_id}.rp{self._report_count}"
        seen = tick.at - timedelta(seconds=self._rng.uniform(0.0, min(600.0, self.tick_s * 5)))
        return {
            "kind": "resident_report",
            "event_id": report_id,
            "community_id": self.community_id,
            "event_time": tick.event_time,
            "report_id": report_id,
            "reporter_role": draft.role.value,
            "category": draft.category.value,
            "description": draft.description(self._rng),
            "observed_time": seen.isoformat(),
            "severity": draft.severity,
        }


def community_simulators(scenario: Scenario) -> list[CommunitySimulator]:
    """One simulator per community of ``scenario``, with its incidents and decoys attached."""
    simulators = {
        cid: CommunitySimulator(
            cid,
            scenario.seed,
            tick_s=scenario.tick.total_seconds(),
            heartbeat_s=scenario.heartbeat.total_seconds(),
            reports_per_day=scenario.reports_per_day,
        )
        for cid in scenario.community_ids
    }
    for incident in scenario.incidents:
        for cid in incident.communities:
            simulators[cid].incidents.append(incident)
    for decoy in scenario.decoys:
        simulators[decoy.community].decoys.append(decoy)
    return list(simulators.values())


def tick_count(scenario: Scenario) -> int:
    """Ticks in ``scenario``: one at the start, then one every ``tick`` up to its end."""
    return math.floor(scenario.duration / scenario.tick) + 1


def generate(scenario: Scenario, start: datetime) -> Iterator[Batch]:
    """Every batch of ``scenario`` started at ``start``, in time order."""
    simulators = community_simulators(scenario)
    tick_s = scenario.tick.total_seconds()
    for index in range(tick_count(scenario)):
        tick = TickContext.build(index, start, index * tick_s, scenario.utc_offset_hours)
        for simulator in simulators:
            yield from simulator.step(tick)
