"""The impact axis: how bad a hazard is, from the magnitude of what the witnesses saw and its extent.

Likelihood (the fused risk of :mod:`pipeline.assess.fusion`) says how sure we
are that something is wrong; impact says how much harm it can do. Each
counted witness gets an impact step from its strongest signal:

* **sensors with their site's lines**: a device the registry gives lines
  (:mod:`pipeline.devices`) is graded on them, as the worker found
  (:attr:`~pipeline.assess.fusion.SourceSignal.site_impact`): a gauge at its
  warning level is MODERATE, at its guaranteed level SEVERE;
* **other sensors with a line**: the reading against the type-default limits of
  :data:`detectors.limits.DEFAULT_RULES` (CH4 25 %LEL is SEVERE, PM2.5
  115 ug/m3 MODERATE, …); below every line a reading is MINOR, however
  surprising it is to its model;
* **water level** has no type default (its lines are per site), so without
  registered lines the rise above the model's expected level is graded on
  :attr:`ImpactConfig.flood_rise_m`;
* **people's reports**, together one witness: the median self-reported severity
  of the live reports (:attr:`ImpactConfig.report_severity`), once there are
  :attr:`ImpactConfig.report_min_count` of them; one frightened report does not
  make a flood severe, the crowd's middle judgement does.

**Extent**: the hazard's impact is the highest step reached by at least
:attr:`ImpactConfig.extent` witnesses for that step (by default EXTREME needs
two: one detector at its top line is a serious local event, an extreme one
shows in more than one place).

**Exposure**: once that step is past a line (MODERATE or more), the people
the counted devices watch over (from the registry) may raise it one step, when
they alone would grade higher on :attr:`ImpactConfig.exposure_people`. Exposure
never lowers a step and never lifts a small deviation: many people near a
reading within its lines are not in danger. The result is never above the
hazard's :attr:`ImpactConfig.ceiling`.

>>> from datetime import UTC, datetime
>>> from pipeline.assess.fusion import SourceSignal
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> ch4 = SourceSignal(source="sensor", community_id="c1", series="c1/ch4-1/gas_ch4", signal_type="gas_ch4",
...                    device_id="ch4-1", observed_at=at, score=0.99, model="m", value=27.0, expected=0.3)
>>> impact_of(ImpactConfig(), Hazard.GAS_LEAK, [ch4]).value
'severe'
>>> impact_of(ImpactConfig(), Hazard.GAS_LEAK, [ch4.model_copy(update={"value": 4.0})]).value  # small
'minor'
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from operator import attrgetter
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from detectors.limits import DEFAULT_RULES, LimitRule
from schemas.events import SensorType
from schemas.hazard import Hazard, Impact


class Witness(Protocol):
    """What impact reads of a witness: :class:`pipeline.assess.fusion.SourceSignal` is one.

    A protocol rather than that class, because fusion imports this module: the
    two would otherwise import each other.
    """

    @property
    def source(self) -> Literal["sensor", "device_health", "report"]: ...
    @property
    def series(self) -> str: ...
    @property
    def signal_type(self) -> str: ...
    @property
    def device_id(self) -> str | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def expected(self) -> float | None: ...
    @property
    def severity(self) -> int | None: ...
    @property
    def site_impact(self) -> Impact | None: ...
    @property
    def people(self) -> int | None: ...


Metres = Annotated[float, Field(gt=0.0)]
People = Annotated[int, Field(gt=0)]


def _default_report_severity() -> dict[int, Impact]:
    return {1: Impact.MINOR, 2: Impact.MINOR, 3: Impact.MINOR, 4: Impact.MODERATE, 5: Impact.SEVERE}


class ImpactConfig(BaseModel):
    """The impact scales that no limit rule gives, and the extent rule; every default with its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flood_rise_m: tuple[Metres, Metres, Metres] = (0.5, 1.2, 2.0)
    """Rise (m) above the expected level at which a gauge without site lines reaches MODERATE,
    SEVERE, EXTREME: the depth bounds of the flood hazard classes H3 (unsafe for vehicles,
    children and the elderly, from 0.5 m), H4 (unsafe for all people and vehicles, from
    1.2 m) and H5 (buildings need special engineering, from 2.0 m) of Australian Rainfall
    and Runoff 2019, Book 6 Ch. 7 (Smith, Davey & Cox 2014, UNSW WRL TR 2014/07), at low
    velocity. A gauge's own warning and guaranteed lines replace them once a registry gives them."""
    report_severity: dict[int, Impact] = Field(default_factory=_default_report_severity)
    """Median self-reported severity → impact. The report schema's scale runs from 1 (minor) to
    5 (life-threatening); 1–3 are the everyday range of an incident report (MINOR), 4 MODERATE,
    5 SEVERE. People's reports never reach EXTREME on their own: that needs an instrument
    (as :attr:`~pipeline.assess.fusion.FusionConfig.reports_only_cap` does for likelihood)."""
    report_min_count: Annotated[int, Field(ge=1, le=20)] = 3
    """Reports grade impact above MINOR from three: the smallest count whose median one
    outlier cannot move."""
    ceiling: dict[Hazard, Impact] = Field(default_factory=lambda: {Hazard.POWER_OUTAGE: Impact.MODERATE})
    """The most a hazard's impact can be in one community. A power outage stops at MODERATE:
    the national contingency plan for large-area blackouts (国家大面积停电事件应急预案, State
    Council 2015) grades even its smallest event by the load lost in a whole county-level
    city, so one community in the dark is below all of its grades; what makes an outage
    dangerous (a flooded pump, a fire) warns as its own hazard."""
    extent: dict[Impact, Annotated[int, Field(ge=1, le=10)]] = Field(
        default_factory=lambda: {Impact.EXTREME: 2}
    )
    """Independent witnesses needed at a step for the hazard to reach it (1 where not given).
    EXTREME needs two: a single detector at its top line (smoke 12 %obs/m in one room,
    PM2.5 250 at one station) is SEVERE; tier I red mobilises a whole district and the
    national plans grade "especially serious" by how far an event reaches, not by one point."""

    exposure_people: tuple[People, People, People] = (100, 500, 1000)
    """People the counted devices watch over at which exposure alone grades MODERATE, SEVERE,
    EXTREME: the scale of threatened people of the national emergency plan for geological
    disasters (国家突发地质灾害应急预案, State Council 2006): small under 100 people to evacuate,
    medium 100–500, large 500–1000, especially large 1000 or more."""

    @model_validator(mode="after")
    def _scales_rise(self) -> ImpactConfig:
        if list(self.flood_rise_m) != sorted(set(self.flood_rise_m)):
            raise ValueError("flood_rise_m must rise strictly: MODERATE < SEVERE < EXTREME")
        if list(self.exposure_people) != sorted(set(self.exposure_people)):
            raise ValueError("exposure_people must rise strictly: MODERATE < SEVERE < EXTREME")
        if set(self.report_severity) != {1, 2, 3, 4, 5}:
            raise ValueError("report_severity must map every severity 1–5 to an impact")
        return self


def _sensor_step(config: ImpactConfig, signal: Witness, rules: dict[SensorType, LimitRule]) -> Impact:
    """A reading's impact against its type's lines (or, for water, its rise), MINOR without a value."""
    if signal.value is None:
        return Impact.MINOR
    if signal.site_impact is not None:
        return signal.site_impact
    rule = rules.get(signal.signal_type)  # type: ignore[call-overload]  # a SensorType is its str value
    if rule is not None:
        step = rule.breached_step(signal.value)
        return Impact.of(step.tier) if step is not None else Impact.MINOR
    if signal.signal_type == SensorType.WATER_LEVEL and signal.expected is not None:
        rise = signal.value - signal.expected
        return Impact.at(1 + sum(rise >= line for line in config.flood_rise_m))
    return Impact.MINOR


def witness_impacts(
    config: ImpactConfig, signals: Iterable[Witness], rules: dict[SensorType, LimitRule] = DEFAULT_RULES
) -> dict[str, Impact]:
    """The impact step of each witness (``device:…``, and ``reporters`` for all reports) among ``signals``.

    >>> from datetime import UTC, datetime
    >>> from pipeline.assess.fusion import SourceSignal
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> reports = [SourceSignal(source="report", community_id="c1", series="c1/reports",
    ...     signal_type="flood", observed_at=at, score=0.9, model="m", report_id=f"r{n}", severity=s)
    ...     for n, s in enumerate((3, 4, 5))]
    >>> witness_impacts(ImpactConfig(), reports), witness_impacts(ImpactConfig(), reports[2:])
    ({'reporters': <Impact.MODERATE: 'moderate'>}, {'reporters': <Impact.MINOR: 'minor'>})
    """
    steps: dict[str, Impact] = {}
    severities: list[int] = []
    for signal in signals:
        if signal.source == "sensor":
            name = f"device:{signal.device_id or signal.series}"
            step = _sensor_step(config, signal, rules)
            steps[name] = max(steps.get(name, Impact.MINOR), step, key=attrgetter("rank"))
        elif signal.source == "report":
            severities.append(signal.severity or 1)
    if len(severities) >= config.report_min_count:
        steps["reporters"] = config.report_severity[statistics.median_low(severities)]
    elif severities:
        steps["reporters"] = Impact.MINOR
    return steps


def impact_of(
    config: ImpactConfig,
    hazard: Hazard,
    signals: Iterable[Witness],
    rules: dict[SensorType, LimitRule] = DEFAULT_RULES,
) -> Impact:
    """The hazard's impact: the highest step enough witnesses reach, raised one step by exposure when
    that grades higher, within the hazard's ceiling (MINOR if nothing reaches a step)."""
    signals = list(signals)
    ranks = sorted((step.rank for step in witness_impacts(config, signals, rules).values()), reverse=True)
    reached = (level for level in reversed(Impact) if _witnessed(config, level, ranks))
    magnitude = next(reached, Impact.MINOR).rank
    exposure = exposure_of(config, signals)
    if magnitude >= Impact.MODERATE.rank and exposure.rank > magnitude:
        magnitude += 1
    return Impact.at(min(magnitude, config.ceiling.get(hazard, Impact.EXTREME).rank))


def _witnessed(config: ImpactConfig, level: Impact, ranks: list[int]) -> bool:
    """True when enough witnesses (``ranks``, highest first) reach ``level`` for its extent rule."""
    needed = config.extent.get(level, 1)
    return len(ranks) >= needed and ranks[needed - 1] >= level.rank


def exposure_of(config: ImpactConfig, signals: Iterable[Witness]) -> Impact:
    """The step the people watched over by the sensors among ``signals`` grade alone (each device once).

    >>> from datetime import UTC, datetime
    >>> from pipeline.assess.fusion import SourceSignal
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> gauge = SourceSignal(source="sensor", community_id="c1", series="c1/wl-1/water_level",
    ...     signal_type="water_level", device_id="wl-1", observed_at=at, score=0.9, model="m", people=400)
    >>> exposure_of(ImpactConfig(), [gauge, gauge]).value  # one device, counted once
    'moderate'
    """
    people = {s.device_id: s.people for s in signals if s.source == "sensor" and s.people is not None}
    return Impact.at(1 + sum(sum(people.values()) >= line for line in config.exposure_people))
