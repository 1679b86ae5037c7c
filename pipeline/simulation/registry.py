"""The registry of the simulated communities: where each device is, its site's lines, whom it watches over.

The simulator is the drills' physical world, so its sites' lines are the
physical story the drills grade by (:data:`~pipeline.simulation.planning.TIER_GRADES`),
written as a site survey would give them:

* each water gauge's **warning line** is its normal level plus 0.6 m (basements
  flood) and its **guaranteed line** its normal level plus 1.0 m (ground floors);
* each CH4 detector's **local alarm set points** are 10 %LEL (low alarm), 20 %LEL
  (high alarm: evacuate) and 40 %LEL, within GB 15322's ≤ 25 %LEL for the first two;
* the other detectors have none: their type's defaults apply.

**People**: a gauge watches over 150 people, any other device 30, so no hazard of
one simulated community counts 500 people or more, below the grade at which the
drills' exposure rule raises a tier; a scenario's ``people_per_device`` gives
other counts (``pipeline/scenarios/README.md``, *People exposed*).

>>> entries = community_registry("c001", seed=7)
>>> gauge = next(e for e in entries if e.device_id == "c001.wl-1")
>>> round(gauge.guaranteed_line - gauge.warning_line, 3), gauge.people
(0.4, 150)
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from kafka import KafkaProducer

from pipeline.devices.entry import DeviceEntry
from pipeline.ingress.publish import deliver_keyed
from pipeline.simulation.devices import community_devices
from pipeline.simulation.planning import TIER_GRADES
from pipeline.simulation.scenario import IncidentKind, Scenario
from schemas.events import SensorType
from schemas.hazard import Tier

INSTALLED_AT = datetime(2025, 1, 1, tzinfo=UTC)
GAUGE_PEOPLE = 150
DEVICE_PEOPLE = 30
_ORIGIN = (30.25, 120.15)
"""Where the simulated city lies (lat, lon): communities spread about 10 km around it."""


def _grade(kind: IncidentKind, tier: Tier) -> float:
    return dict(TIER_GRADES[kind])[tier]


def community_registry(community_id: str, seed: int, people: int | None = None) -> list[DeviceEntry]:
    """The entries of ``community_id``'s simulated devices, located about the city by ``seed``;
    each watches over ``people`` (default: :data:`GAUGE_PEOPLE` a gauge, :data:`DEVICE_PEOPLE` another)."""
    place = random.Random(f"{seed}:{community_id}:place")
    lat = _ORIGIN[0] + place.uniform(-0.1, 0.1)
    lon = _ORIGIN[1] + place.uniform(-0.1, 0.1)
    entries = []
    for device in community_devices(community_id, seed):
        lines: dict[str, float] = {}
        if device.sensor_type is SensorType.WATER_LEVEL:
            normal = device.behaviour.level + device.offset
            lines = {
                "warning_line": round(normal + _grade(IncidentKind.FLOOD, Tier.III), 3),
                "guaranteed_line": round(normal + _grade(IncidentKind.FLOOD, Tier.II), 3),
            }
        elif device.sensor_type is SensorType.GAS_CH4:
            tiers = (Tier.III, Tier.II, Tier.I)
            lines = {f"alarm_{t.name.lower()}": _grade(IncidentKind.GAS_LEAK, t) for t in tiers}
        gauge = device.sensor_type is SensorType.WATER_LEVEL
        entries.append(
            DeviceEntry(
                device_id=device.device_id,
                community_id=community_id,
                latitude=round(lat + place.uniform(-0.002, 0.002), 5),
                longitude=round(lon + place.uniform(-0.002, 0.002), 5),
                sensor_type=device.sensor_type,
                installed_at=INSTALLED_AT,
                people=people if people is not None else GAUGE_PEOPLE if gauge else DEVICE_PEOPLE,
                **lines,
            )
        )
    return entries


def city_registry(
    community_ids: Sequence[str], seed: int, people_per_device: Mapping[str, int] | None = None
) -> list[DeviceEntry]:
    """The entries of every simulated community (``people_per_device``: by community, where given)."""
    people = people_per_device or {}
    return [entry for cid in community_ids for entry in community_registry(cid, seed, people.get(cid))]


def scenario_registry(scenario: Scenario) -> list[DeviceEntry]:
    """The registry of a drill scenario's communities."""
    return city_registry(scenario.community_ids, scenario.seed, scenario.people_per_device)


def publish_registry(producer: KafkaProducer, topic: str, entries: Sequence[DeviceEntry]) -> None:
    """Send ``entries`` to the devices topic, keyed by device id, and wait until the broker has them."""
    deliver_keyed(producer, topic, [(e.device_id, e.model_dump_json().encode()) for e in entries])
