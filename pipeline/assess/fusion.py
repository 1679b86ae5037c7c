"""Fusion of one community's source signals into a risk per hazard, with the reasons.

Sources are sensors (detector scores), device health findings and people's
reports. Each signal maps to a hazard through configuration (sensor type or
report category → hazard). Signals are grouped into **independent witnesses**:
one witness per sensor device, one per reporter role (residents, grid workers,
police, social organisations). A witness's strength is its strongest signal (a
role's further reports add ``same_role_gain`` of their strength, since one
role's reports often share a rumour). Witnesses at or above ``witness_min``
count, and the fused risk is their noisy-OR ``1 - Π(1 - strength)``: two
independent sources agreeing give a higher risk than either alone, so they
raise confidence and may raise the tier. One witness alone never exceeds
``lone_witness_cap``.

**One incident, one warning**: a signal of a type listed in
:attr:`FusionConfig.explained_by` speaks for the explaining hazard instead of
its own while that hazard is live in the community (its warning is open, or a
sensor of its own witnesses it): the CO a fire makes strengthens the fire
warning instead of opening a gas-leak warning.

Each hazard's risk comes with its *impact* (:mod:`pipeline.assess.impact`),
graded from the counted witnesses only.

A device whose health finding says it is faulty is *suspect*: its readings
count only when another, healthy witness corroborates them; a lone spike from
it yields a :class:`DeviceFault` notice instead of a hazard risk. A device
that is offline (or silent, or in maintenance) is *inhibited*: its readings do
not count at all.

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> config = FusionConfig()
>>> one = SourceSignal(source="sensor", community_id="c1", series="c1/wl-1/water_level",
...                    signal_type="water_level", device_id="wl-1", observed_at=at, score=0.8, model="m")
>>> two = one.model_copy(update={"series": "c1/wl-2/water_level", "device_id": "wl-2"})
>>> round(fuse(config, [one], at)[0][0].risk, 3), round(fuse(config, [one, two], at)[0][0].risk, 3)
(0.8, 0.96)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.assess.impact import ImpactConfig, impact_of
from pipeline.assess.sensor_profiles import SENSOR_PROFILES
from schemas.events import ReporterRole
from schemas.hazard import Hazard, Impact
from schemas.warning import Evidence

Unit = Annotated[float, Field(ge=0.0, le=1.0)]

WARNING_HAZARDS: tuple[Hazard, ...] = (
    Hazard.FLOOD,
    Hazard.FIRE,
    Hazard.GAS_LEAK,
    Hazard.AIR_POLLUTION,
    Hazard.STRUCTURAL,
    Hazard.POWER_OUTAGE,
    Hazard.PUBLIC_SECURITY,
    Hazard.PUBLIC_HEALTH,
)
"""The hazards a warning can be about (``device_fault`` and ``other`` are not)."""


class SourceSignal(BaseModel):
    """One scored observation from one source, as the worker hands it to the assessment.

    ``signal_type`` is the sensor type (``water_level``), the report category
    (a :class:`~schemas.hazard.Hazard` value) or the device finding (``fault``,
    ``stuck``, ``offline``, ``ok``…). ``score`` is the probability in [0, 1] that
    the observation shows the hazard (or, for device health, the fault).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Literal["sensor", "device_health", "report"]
    community_id: str
    series: str
    signal_type: str
    observed_at: datetime
    score: Unit
    model: str
    device_id: str | None = None
    value: float | None = None
    expected: float | None = None
    report_id: str | None = None
    reporter_role: ReporterRole | None = None
    severity: int | None = None
    """The reporter's own severity (1–5) for reports."""
    warming_up: bool = False
    """The producing model has not seen enough data yet (caps the tier at IV)."""
    limit_exceeded: bool = False
    """The value is beyond a configured physical safety limit (a fact, not a model's opinion)."""
    site_impact: Impact | None = None
    """The value against its device's own registered lines (a gauge's warning and guaranteed
    levels, local alarm set points); None when the registry gives the device none."""
    people: int | None = None
    """People the device watches over, from the registry; None when it is not registered."""

    @property
    def key(self) -> str:
        """What a newer signal replaces: the series, or the report for reports."""
        return f"report:{self.report_id}" if self.report_id else self.series

    def evidence(self) -> Evidence:
        """This signal as warning evidence."""
        return Evidence(
            source=self.source,
            series=self.series,
            observed_at=self.observed_at,
            value=self.value,
            expected=self.expected,
            score=self.score,
            report_id=self.report_id,
            model=self.model,
        )


def _default_sensor_hazards() -> dict[str, Hazard]:
    return {sensor_type.value: profile.hazard for sensor_type, profile in SENSOR_PROFILES.items()}


def _default_report_hazards() -> dict[str, Hazard]:
    return {hazard.value: hazard for hazard in WARNING_HAZARDS}


def _default_explained_by() -> dict[str, Hazard]:
    return {"gas_co": Hazard.FIRE, "power": Hazard.FLOOD}


def _default_credibility() -> dict[ReporterRole, float]:
    return {
        ReporterRole.RESIDENT: 0.6,
        ReporterRole.SOCIAL_ORG: 0.7,
        ReporterRole.GRID_WORKER: 0.85,
        ReporterRole.POLICE: 0.9,
    }


class FusionConfig(BaseModel):
    """How signals become a risk per hazard; every default with its reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sensor_hazards: dict[str, Hazard] = Field(default_factory=_default_sensor_hazards)
    """Sensor type → hazard; by default the product's sensor profiles (a falling supply
    voltage is a power outage, rising smoke a fire…)."""
    explained_by: dict[str, Hazard] = Field(default_factory=_default_explained_by)
    """Signal type → the hazard that explains it while live: CO rises in every fire (incomplete
    combustion; EN 50291-1 CO alarms sound in smoky fires), and mains voltage dips and trips
    when water reaches switchgear and basements in a flood. A hazard with no rule here is
    never re-assigned: methane is not made by a fire, so a gas leak during a fire still warns."""
    report_hazards: dict[str, Hazard] = Field(default_factory=_default_report_hazards)
    """Report category → hazard; by default each warning hazard is its own category
    (``other`` maps to nothing: it goes to the classifier, not to a warning)."""
    reporter_credibility: dict[ReporterRole, Unit] = Field(default_factory=_default_credibility)
    """How far a report's score is trusted, by role: trained grid workers and police
    report what they checked; residents' reports are sincere but often second-hand.
    A track-record learner may replace these later."""
    same_role_gain: Unit = 0.5
    """A further report from the same role adds half its strength: three residents
    reporting a flood are more than one, but not three independent witnesses."""
    lone_witness_cap: Unit = 0.95
    """One witness alone stays below tier I's 0.97: however extreme a single device
    reads, it may be a fault its health detector has not caught yet, and red
    mobilises the whole district."""
    witness_min: Unit = 0.5
    """A witness counts towards the fused risk from 0.5 (it says "hazard" more than
    not); weaker ones are listed nowhere, so many faint signals never add up to a warning."""
    report_min_severity: Annotated[int, Field(ge=1, le=5)] = 3
    """Reports below severity 3 are everyday complaints (noise, a broken light): they
    teach the report-rate baseline and the classifier but witness no hazard, so a
    festival night's burst of noise complaints never becomes a public-security warning."""
    reports_only_cap: Unit = 0.9
    """When people's reports are the only witnesses, the risk stops here (II orange):
    red mobilises the whole district and needs an instrument or a limit to confirm
    what people say. Hazards with no sensors (public security, public health) so
    top out at II."""
    hazard_caps: dict[Hazard, Unit] = Field(default_factory=lambda: {Hazard.POWER_OUTAGE: 0.9})
    """Hazards whose risk stops below red whatever the evidence. A power outage alone
    disrupts but does not endanger life the way a fire or a flood does; its grading
    tops at II orange (a whole community dark), and what makes it dangerous (a fire,
    a flood in a pumped basement) has a warning of its own."""
    signal_ttl_s: Annotated[float, Field(gt=0)] = 600.0
    """A signal speaks for 10 minutes: a few readings of a 60-second sensor, and the
    time in which reports about one incident typically arrive."""
    limit_strength: Unit = 0.9
    """A physical limit exceedance is at least this strong (between II and I alone;
    red as soon as anything corroborates it)."""
    impact: ImpactConfig = ImpactConfig()
    """The impact scales and the extent rule (:mod:`pipeline.assess.impact`)."""
    finding_min: Unit = 0.5
    """A device health finding counts from this score."""
    suspect_findings: frozenset[str] = frozenset({"suspected_fault", "stuck", "fault", "degraded"})
    """Findings that make a device's readings suspect (they need corroboration): the
    health detectors' ``suspected_fault`` and ``stuck`` (:mod:`detectors.device_health`)
    and the device's own ``fault`` / ``degraded`` status. A low battery is not among
    them: the sensor still measures."""
    offline_findings: frozenset[str] = frozenset({"offline", "silent", "maintenance"})
    """Findings that inhibit a device's readings entirely: the device says it is offline
    or in maintenance, or its heartbeats stopped (``silent``)."""

    @property
    def signal_ttl(self) -> timedelta:
        """:attr:`signal_ttl_s` as a duration."""
        return timedelta(seconds=self.signal_ttl_s)

    def hazard_of(self, signal: SourceSignal) -> Hazard | None:
        """The hazard a sensor or report signal speaks about on its own (``None`` for device health)."""
        if signal.source == "sensor":
            return self.sensor_hazards.get(signal.signal_type)
        if signal.source == "report":
            return self.report_hazards.get(signal.signal_type)
        return None

    def hazards_of(self, signal: SourceSignal) -> frozenset[Hazard]:
        """Every hazard ``signal`` may speak for: its own, and the one that may explain it."""
        if signal.source == "sensor":
            return self.sensor_type_hazards(signal.signal_type)
        own = self.hazard_of(signal)
        return frozenset() if own is None else frozenset({own})

    def sensor_type_hazards(self, sensor_type: str) -> frozenset[Hazard]:
        """Every hazard a reading of ``sensor_type`` may speak for: its own, and the one that may
        explain it (CO in a fire).

        >>> sorted(FusionConfig().sensor_type_hazards("gas_co"))
        [<Hazard.FIRE: 'fire'>, <Hazard.GAS_LEAK: 'gas_leak'>]
        """
        own, explainer = self.sensor_hazards.get(sensor_type), self.explained_by.get(sensor_type)
        return frozenset(h for h in (own, explainer) if h is not None)


def sensor_score(surprise: float, midpoint: float = 5.0, width: float = 1.5) -> float:
    """Map a detector's surprise (``-log10 p``) to a hazard probability, logistic in decades.

    Midpoint 5 decades (p = 1e-5) is "as likely a hazard as not"; a width of 1.5
    decades puts surprise 7 (the old tier III cut-off) at ≈ 0.79 and surprise 8
    at ≈ 0.88 (II); one sensor alone stops at the lone-witness cap below I.

    >>> [round(sensor_score(s), 2) for s in (0.0, 5.0, 7.0, 12.0)]
    [0.03, 0.5, 0.79, 0.99]
    """
    return 1.0 / (1.0 + math.exp(-(surprise - midpoint) / width))


@dataclass(frozen=True)
class HazardRisk:
    """The fused risk of one hazard in one community at one time, and why."""

    hazard: Hazard
    risk: float
    witnesses: tuple[str, ...] = ()
    """The independent witnesses that counted (``device:wl-1``, ``reporters:grid_worker``)."""
    signals: tuple[SourceSignal, ...] = ()
    """Counted witnesses' signals first, then live signals that did not count."""
    warming_up: bool = False
    limit_exceeded: bool = False
    impact: Impact = Impact.MINOR
    """How bad, from the counted witnesses' magnitude and extent (:mod:`pipeline.assess.impact`)."""

    def evidence(self) -> list[Evidence]:
        """The signals as warning evidence (built only when a warning changes)."""
        return [signal.evidence() for signal in self.signals[:50]]


class DeviceFault(BaseModel):
    """A device-fault notice: a device is unhealthy, or its lone spike was not taken as a hazard."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    community_id: str
    device_id: str
    finding: str
    hazard: Hazard | None
    """The hazard whose warning was withheld because of this device, if any."""
    observed_at: datetime
    evidence: tuple[Evidence, ...]


@dataclass
class _Witness:
    strength: float = 0.0
    strengths: list[float] = field(default_factory=list)
    signals: list[SourceSignal] = field(default_factory=list)
    suspect_finding: str | None = None


def _device_findings(config: FusionConfig, signals: list[SourceSignal]) -> dict[str, SourceSignal]:
    latest: dict[str, SourceSignal] = {}
    for signal in signals:
        if signal.source == "device_health" and signal.device_id:
            held = latest.get(signal.device_id)
            if held is None or signal.observed_at >= held.observed_at:
                latest[signal.device_id] = signal
    return {
        device: finding
        for device, finding in latest.items()
        if finding.score >= config.finding_min
        and finding.signal_type in config.suspect_findings | config.offline_findings
    }


def _is_live(
    config: FusionConfig, signals: list[SourceSignal], hazard: Hazard, open_hazards: frozenset[Hazard]
) -> bool:
    """Whether ``hazard`` explains others now: open, or witnessed by a sensor no rule re-assigns."""
    return hazard in open_hazards or any(
        signal.source == "sensor"
        and signal.signal_type not in config.explained_by
        and max(signal.score, config.limit_strength if signal.limit_exceeded else 0.0) >= config.witness_min
        and config.hazard_of(signal) is hazard
        for signal in signals
    )


def _witnesses(
    config: FusionConfig,
    signals: list[SourceSignal],
    findings: dict[str, SourceSignal],
    hazards: frozenset[Hazard] | None,
    open_hazards: Callable[[], frozenset[Hazard]],
) -> dict[Hazard, dict[str, _Witness]]:
    grouped: dict[Hazard, dict[str, _Witness]] = defaultdict(dict)
    live: dict[Hazard, bool] = {}  # worked out only for the explainers of signals present
    for signal in signals:
        hazard = config.hazard_of(signal)
        explainer = config.explained_by.get(signal.signal_type) if signal.source == "sensor" else None
        if explainer is not None:
            if explainer not in live:
                live[explainer] = _is_live(config, signals, explainer, open_hazards())
            hazard = explainer if live[explainer] else hazard
        if hazard is None or (hazards is not None and hazard not in hazards):
            continue
        finding = findings.get(signal.device_id or "")
        if finding is not None and finding.observed_at > signal.observed_at:
            finding = None  # taken before the device was found unhealthy: topics interleave freely
        if finding is not None and finding.signal_type in config.offline_findings:
            continue
        if signal.source == "sensor":
            name = f"device:{signal.device_id or signal.series}"
            strength = max(signal.score, config.limit_strength if signal.limit_exceeded else 0.0)
        elif signal.severity is not None and signal.severity < config.report_min_severity:
            continue
        else:
            role = signal.reporter_role or ReporterRole.RESIDENT
            name = f"reporters:{role.value}"
            strength = signal.score * config.reporter_credibility.get(role, 0.5)
        witness = grouped[hazard].setdefault(name, _Witness())
        witness.signals.append(signal)
        if finding is not None:
            witness.suspect_finding = finding.signal_type
        witness.strengths.append(strength)
    for witnesses in grouped.values():
        for witness in witnesses.values():
            strongest, *others = sorted(witness.strengths, reverse=True)
            witness.strength = 1.0 - (1.0 - strongest) * math.prod(
                1.0 - config.same_role_gain * s for s in others
            )
    return grouped


def _risk(config: FusionConfig, hazard: Hazard, counted: dict[str, _Witness]) -> float:
    """The noisy-OR of the counted witnesses, within the lone-witness, reports-only and hazard caps."""
    risk = 1.0 - math.prod(1.0 - w.strength for w in counted.values())
    risk = min(risk, config.hazard_caps.get(hazard, 1.0))
    if len(counted) == 1:
        risk = min(risk, config.lone_witness_cap)
    if counted and all(name.startswith("reporters:") for name in counted):
        risk = min(risk, config.reports_only_cap)
    return risk


def fuse(
    config: FusionConfig,
    signals: list[SourceSignal],
    at: datetime,
    hazards: frozenset[Hazard] | None = None,
    open_hazards: Callable[[], frozenset[Hazard]] = frozenset,
) -> tuple[list[HazardRisk], list[DeviceFault]]:
    """Fuse one community's live signals (observed within the TTL before ``at``).

    Returns a risk for every hazard some signal speaks about (only those in
    ``hazards`` when given), and the device-fault notices: one per unhealthy
    device, and one per suspect device whose lone readings were withheld from
    a hazard. ``open_hazards()`` gives the hazards with an open warning in the
    community (asked only when a signal may be explained): they explain signals
    as :attr:`FusionConfig.explained_by` says.
    """
    oldest = at - config.signal_ttl
    live = [s for s in signals if oldest <= s.observed_at <= at]
    findings = _device_findings(config, live)
    risks: list[HazardRisk] = []
    faults: list[DeviceFault] = []
    for hazard, witnesses in sorted(_witnesses(config, live, findings, hazards, open_hazards).items()):
        strong = {name: w for name, w in witnesses.items() if w.strength >= config.witness_min}
        healthy = {name: w for name, w in strong.items() if w.suspect_finding is None}
        counted = strong if healthy else {}
        for name, witness in strong.items():
            if not healthy and witness.suspect_finding is not None:
                device = name.removeprefix("device:")
                faults.append(
                    DeviceFault(
                        community_id=witness.signals[0].community_id,
                        device_id=device,
                        finding=witness.suspect_finding,
                        hazard=hazard,
                        observed_at=max(s.observed_at for s in witness.signals),
                        evidence=(
                            *(s.evidence() for s in witness.signals[-5:]),
                            findings[device].evidence(),
                        ),
                    )
                )
        used = [s for w in counted.values() for s in w.signals]
        seen = used + [s for w in witnesses.values() for s in w.signals if s not in used]
        risks.append(
            HazardRisk(
                hazard=hazard,
                risk=_risk(config, hazard, counted),
                witnesses=tuple(sorted(counted)),
                signals=tuple(seen),
                warming_up=any(s.warming_up for s in used) and not any(s.limit_exceeded for s in used),
                limit_exceeded=any(s.limit_exceeded for s in used),
                impact=impact_of(config.impact, hazard, used),
            )
        )
    faults.extend(
        DeviceFault(
            community_id=finding.community_id,
            device_id=device,
            finding=finding.signal_type,
            hazard=None,
            observed_at=finding.observed_at,
            evidence=(finding.evidence(),),
        )
        for device, finding in sorted(findings.items())
    )
    return risks, faults
