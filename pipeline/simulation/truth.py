"""Ground truth: a scenario's incidents and decoys anchored at real times, written next to the events.

The score card compares warnings with this record only, so a drill run by
someone else's tool can be scored from the two files.

>>> from datetime import UTC, datetime, timedelta
>>> scenario = Scenario(name="doc", communities=1, duration=timedelta(hours=1))
>>> ground_truth(scenario, datetime(2026, 6, 1, tzinfo=UTC)).end.isoformat()
'2026-06-01T01:00:00+00:00'
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pydantic import Field

from pipeline.simulation.devices import COMMUNITY_LAYOUT
from pipeline.simulation.scenario import INTENSITY_UNITS, DecoyKind, IncidentKind, Scenario, TierName
from schemas.envelope import StrictModel
from schemas.events import SensorType
from schemas.hazard import Hazard
from schemas.types import Identifier, ShortText, Timestamp


class TrueIncident(StrictModel):
    """An incident as it really happened."""

    id: Identifier
    kind: IncidentKind
    hazard: Hazard
    communities: list[Identifier]
    start: Timestamp
    peak: Timestamp
    end: Timestamp
    intensity: float
    intensity_unit: ShortText
    expected_tier: TierName
    max_delay_s: float = Field(ge=0)
    plateau_until: Timestamp | None = None
    """Full strength holds from the peak until then (graded for holding its warning)."""


class TrueDecoy(StrictModel):
    """A decoy as it really happened; ``device_id`` names the affected device, if any."""

    id: Identifier
    kind: DecoyKind
    community: Identifier
    device_id: Identifier | None
    start: Timestamp
    end: Timestamp


class GroundTruth(StrictModel):
    """Everything a score card needs to know about a run of a scenario."""

    scenario: ShortText
    seed: int
    start: Timestamp
    end: Timestamp
    communities: list[Identifier]
    incidents: list[TrueIncident]
    decoys: list[TrueDecoy]

    def write(self, path: Path) -> None:
        """Write as indented JSON."""
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _decoy_device(community: str, sensor: SensorType | None) -> str | None:
    """The first device of ``sensor`` in ``community``, as ``community_devices`` names it."""
    if sensor is None:
        return None
    abbreviation = next(k.abbreviation for k in COMMUNITY_LAYOUT if k.sensor_type is sensor)
    return f"{community}.{abbreviation}-1"


def ground_truth(scenario: Scenario, start: datetime) -> GroundTruth:
    """The ground truth of ``scenario`` started at ``start``."""

    def at(offset: timedelta) -> datetime:
        return start + offset

    return GroundTruth(
        scenario=scenario.name,
        seed=scenario.seed,
        start=start,
        end=at(scenario.duration),
        communities=scenario.community_ids,
        incidents=[
            TrueIncident(
                id=i.id,
                kind=i.kind,
                hazard=i.kind.hazard,
                communities=i.communities,
                start=at(i.start),
                peak=at(i.peak),
                end=at(i.end),
                intensity=i.intensity,
                intensity_unit=INTENSITY_UNITS[i.kind],
                expected_tier=i.expected_tier,
                max_delay_s=i.allowed_delay.total_seconds(),
                plateau_until=at(i.plateau_until) if i.plateau_until is not None else None,
            )
            for i in scenario.incidents
        ],
        decoys=[
            TrueDecoy(
                id=d.id,
                kind=d.kind,
                community=d.community,
                device_id=_decoy_device(d.community, d.affected_sensor),
                start=at(d.start),
                end=at(d.end),
            )
            for d in scenario.decoys
        ],
    )
