"""The scenario file: communities, how long, and which incidents and decoys happen when.

A scenario is JSON (``pipeline/scenarios/*.json``), validated strictly so a
typo fails loudly with the field's name. Times are offsets from the
scenario's start, as ISO 8601 durations (``"PT2H30M"``) or seconds. The
start is a fixed time in the file (every run then sees the same time of day
and the same weekday, so a drill is repeatable), or chosen when the scenario
runs (a drill then ends it "now").

>>> scenario = Scenario.model_validate({
...     "name": "tiny", "communities": 2, "duration": "PT3H",
...     "incidents": [{"id": "f1", "kind": "flood", "communities": ["c001"], "start": "PT1H",
...                    "peak": "PT2H", "end": "PT3H", "intensity": 1.2, "expected_tier": "II"}]})
>>> scenario.community_ids, scenario.incidents[0].expected_tier
(['c001', 'c002'], <Tier.II: 2>)
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, PlainSerializer, model_validator

from schemas.envelope import StrictModel
from schemas.events import SensorType
from schemas.hazard import Hazard, Tier
from schemas.types import Identifier, LongText, ShortText


class IncidentKind(StrEnum):
    """The incidents the simulator can script; each is a hazard of the same name."""

    FLOOD = "flood"
    FIRE = "fire"
    GAS_LEAK = "gas_leak"
    POWER_OUTAGE = "power_outage"
    AIR_POLLUTION = "air_pollution"
    PUBLIC_SECURITY = "public_security"

    @property
    def hazard(self) -> Hazard:
        """The hazard a warning about this incident carries."""
        return Hazard(self.value)


class DecoyKind(StrEnum):
    """Things that look odd but are no hazard: they must not raise a hazard warning."""

    FAULTY_SPIKE = "faulty_spike"
    STUCK_SENSOR = "stuck_sensor"
    DEVICE_OFFLINE = "device_offline"
    FESTIVAL_NIGHT = "festival_night"
    NEW_DEVICE = "new_device"
    """A device installed at the decoy's start: it sends nothing before, then reads its normal."""
    DRIFTING_NOISE = "drifting_noise"
    """A device whose normal wanders (autocorrelated noise) and drifts, like a pumping station's
    wet well as its pumps cycle and its set point is moved."""


def _parse_tier(value: Any) -> Any:
    if isinstance(value, str) and value in Tier.__members__:
        return Tier[value]
    return value


TierName = Annotated[Tier, BeforeValidator(_parse_tier), PlainSerializer(lambda t: t.name, return_type=str)]
"""A tier written by its official name (``"I"`` … ``"IV"``) in files; numbers 1–4 are accepted too."""

Offset = Annotated[timedelta, Field(ge=timedelta(0))]
"""Time since the scenario's start."""

#: How long after its start an incident may go unwarned and still count as warned in time.
#: Slow hazards (water rising over hours, a pollution episode) get longer.
DEFAULT_MAX_DELAY: dict[IncidentKind, timedelta] = {
    IncidentKind.FLOOD: timedelta(minutes=60),
    IncidentKind.FIRE: timedelta(minutes=5),
    IncidentKind.GAS_LEAK: timedelta(minutes=10),
    IncidentKind.POWER_OUTAGE: timedelta(minutes=5),
    IncidentKind.AIR_POLLUTION: timedelta(minutes=60),
    IncidentKind.PUBLIC_SECURITY: timedelta(minutes=20),
}

#: What ``intensity`` means for each incident kind, and its unit.
INTENSITY_UNITS: dict[IncidentKind, str] = {
    IncidentKind.FLOOD: "m rise of the water level",
    IncidentKind.FIRE: "%obs/m smoke at the nearest detector",
    IncidentKind.GAS_LEAK: "%LEL CH4 at the nearest detector",
    IncidentKind.POWER_OUTAGE: "share of the community without mains power (0-1)",
    IncidentKind.AIR_POLLUTION: "ug/m3 PM2.5 at the peak",
    IncidentKind.PUBLIC_SECURITY: "reports in the burst",
}

#: Default sensor a device decoy affects.
DEFAULT_DECOY_SENSOR: dict[DecoyKind, SensorType] = {
    DecoyKind.FAULTY_SPIKE: SensorType.GAS_CH4,
    DecoyKind.STUCK_SENSOR: SensorType.WATER_LEVEL,
    DecoyKind.DEVICE_OFFLINE: SensorType.SMOKE,
    DecoyKind.NEW_DEVICE: SensorType.WATER_LEVEL,
    DecoyKind.DRIFTING_NOISE: SensorType.WATER_LEVEL,
}


class IncidentSpec(StrictModel):
    """One scripted incident: where, when it starts, peaks and ends, how strong, and the tier it deserves."""

    id: Identifier
    kind: IncidentKind
    communities: Annotated[list[Identifier], Field(min_length=1)]
    start: Offset
    peak: Offset
    end: Offset
    intensity: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        description="Strength at the peak; its unit depends on the kind (see INTENSITY_UNITS)."
    )
    expected_tier: TierName = Field(description="The tier an operator should see at the peak.")
    plateau_until: Offset | None = Field(
        default=None,
        description="Full strength holds from the peak until then, and recedes to the end (a flood that "
        "lasts); graded for holding its warning (pipeline/scenarios/README.md).",
    )
    max_delay: Offset | None = Field(
        default=None, description="Allowed detection delay from start; default per kind."
    )
    description: LongText | None = None

    @model_validator(mode="after")
    def _ordered(self) -> IncidentSpec:
        if not self.start < self.peak <= self.end:
            raise ValueError(f"incident {self.id}: need start < peak <= end")
        if self.plateau_until is not None and not self.peak < self.plateau_until < self.end:
            raise ValueError(f"incident {self.id}: need peak < plateau_until < end")
        if self.kind is IncidentKind.POWER_OUTAGE and self.intensity > 1:
            raise ValueError(f"incident {self.id}: a power outage's intensity is a share, at most 1")
        return self

    @property
    def allowed_delay(self) -> timedelta:
        """The detection delay this incident allows."""
        return self.max_delay if self.max_delay is not None else DEFAULT_MAX_DELAY[self.kind]


class DecoySpec(StrictModel):
    """One decoy: something unusual in one community that is not a hazard."""

    id: Identifier
    kind: DecoyKind
    community: Identifier
    start: Offset
    end: Offset
    sensor_type: SensorType | None = Field(
        default=None, description="The device decoys' sensor type; default per kind."
    )
    description: LongText | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DecoySpec:
        if not self.start < self.end:
            raise ValueError(f"decoy {self.id}: need start < end")
        if self.kind is DecoyKind.FESTIVAL_NIGHT and self.sensor_type is not None:
            raise ValueError(f"decoy {self.id}: a festival night affects reports, not a sensor")
        return self

    @property
    def affected_sensor(self) -> SensorType | None:
        """The sensor type of the affected device (``None`` for a festival night)."""
        return self.sensor_type or DEFAULT_DECOY_SENSOR.get(self.kind)


class Scenario(StrictModel):
    """A whole drill: communities, timing, background, incidents and decoys."""

    name: ShortText
    description: LongText | None = None
    seed: int = 7
    start: AwareDatetime | None = Field(
        default=None,
        description="Fixed start of simulated time, so every run sees the same time of day; "
        "unset: a drill ends the scenario now.",
    )
    communities: Annotated[int, Field(ge=1, le=10_000)]
    community_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}$")] = "c"
    duration: Annotated[timedelta, Field(gt=timedelta(0), le=timedelta(days=6))]
    tick: Annotated[timedelta, Field(ge=timedelta(seconds=1), le=timedelta(hours=1))] = timedelta(minutes=1)
    heartbeat: Annotated[timedelta, Field(ge=timedelta(seconds=1), le=timedelta(hours=24))] = timedelta(
        minutes=5
    )
    reports_per_day: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = Field(
        default=3.0, description="Background reports per community per day."
    )
    utc_offset_hours: Annotated[float, Field(ge=-12, le=14)] = Field(
        default=8.0, description="Local time of the communities, for daily cycles and weekends."
    )
    incidents: list[IncidentSpec] = Field(default_factory=list)
    decoys: list[DecoySpec] = Field(default_factory=list)
    people_per_device: dict[Identifier, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        default_factory=dict,
        description="People each device of a community watches over, published with the registry "
        "(communities not listed: 150 per gauge, 30 per other device).",
    )

    @property
    def community_ids(self) -> list[str]:
        """``c001``, ``c002``, … (zero-padded to three digits or more)."""
        width = max(3, len(str(self.communities)))
        return [f"{self.community_prefix}{i:0{width}d}" for i in range(1, self.communities + 1)]

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        known = set(self.community_ids)
        ids = [i.id for i in self.incidents] + [d.id for d in self.decoys]
        if len(ids) != len(set(ids)):
            raise ValueError("incident and decoy ids must be unique")
        for incident in self.incidents:
            if unknown := sorted(set(incident.communities) - known):
                raise ValueError(f"incident {incident.id}: unknown communities {unknown}")
            if incident.end > self.duration:
                raise ValueError(f"incident {incident.id} ends after the scenario")
        if unknown := sorted(set(self.people_per_device) - known):
            raise ValueError(f"people_per_device: unknown communities {unknown}")
        for decoy in self.decoys:
            if decoy.community not in known:
                raise ValueError(f"decoy {decoy.id}: unknown community {decoy.community!r}")
            if decoy.end > self.duration:
                raise ValueError(f"decoy {decoy.id} ends after the scenario")
        return self


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message names the file and the field."""


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read scenario {path}: {error.strerror}") from None
    try:
        return Scenario.model_validate_json(text)
    except ValueError as error:
        raise ScenarioError(f"invalid scenario {path}: {error}") from None


def packaged_scenario(name: str) -> Path:
    """The path of a scenario shipped with riskwatch, e.g. ``packaged_scenario("drill-50")``."""
    return Path(__file__).resolve().parents[1] / "scenarios" / f"{name}.json"


def scenario_path(name: str) -> Path:
    """A file path as given, or the packaged scenario of that name (``drill-50``, ``smoke-test``).

    >>> scenario_path("drill-50").name, str(scenario_path("my/own.json"))
    ('drill-50.json', 'my/own.json')
    """
    path = Path(name)
    return path if path.suffix or path.exists() else packaged_scenario(name)
