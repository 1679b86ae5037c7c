"""A small built-in event source for the demo: a few communities, three sensors each,
and one scripted incident that repeats, so a newcomer sees a warning rise and fall.

Pure: it returns the JSON-ready batches for one tick; the caller publishes them.

>>> batches = demo_batches(tick=0, communities=2, now=datetime(2026, 1, 1, tzinfo=UTC), seed=1)
>>> sorted(batches), len(batches["demo-c1"])
(['demo-c1', 'demo-c2'], 3)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.events import CANONICAL_UNITS, SensorType


@dataclass(frozen=True)
class DemoSensor:
    """A demo sensor: its type, normal level and noise."""

    sensor_type: SensorType
    level: float
    noise: float


DEMO_SENSORS = (
    DemoSensor(SensorType.WATER_LEVEL, 1.20, 0.01),
    DemoSensor(SensorType.GAS_CH4, 2.0, 0.2),
    DemoSensor(SensorType.SMOKE, 0.10, 0.01),
)

#: The incident repeats every CYCLE ticks in the next community: quiet for WARM
#: ticks (models warm up), a water level rising over RISE ticks, a plateau, then
#: back to normal.
CYCLE, WARM, RISE, HOLD = 160, 40, 20, 40
RISE_TO_M = 1.5


def incident_offset(tick: int) -> float:
    """Extra water level (m) the scripted flood adds at ``tick``."""
    phase = tick % CYCLE
    if phase < WARM:
        return 0.0
    if phase < WARM + RISE:
        return RISE_TO_M * (phase - WARM + 1) / RISE
    if phase < WARM + RISE + HOLD:
        return RISE_TO_M
    return 0.0


def flooded_community(tick: int, communities: int) -> str:
    """Which community the incident of this tick's cycle hits."""
    return f"demo-c{(tick // CYCLE) % communities + 1}"


def demo_batches(*, tick: int, communities: int, now: datetime, seed: int) -> dict[str, list[dict[str, Any]]]:
    """One batch of readings per community for ``tick`` (deterministic for a seed)."""
    rng = random.Random(seed * 1_000_003 + tick)
    flooded = flooded_community(tick, communities)
    batches: dict[str, list[dict[str, Any]]] = {}
    for c in range(1, communities + 1):
        community = f"demo-c{c}"
        batch = []
        for sensor in DEMO_SENSORS:
            value = sensor.level + rng.gauss(0.0, sensor.noise)
            if community == flooded and sensor.sensor_type is SensorType.WATER_LEVEL:
                value += incident_offset(tick)
            batch.append(
                {
                    "kind": "sensor_reading",
                    "event_id": f"{community}-{sensor.sensor_type.value}-{tick}",
                    "community_id": community,
                    "event_time": now.astimezone(UTC).isoformat(),
                    "device_id": f"{community}-{sensor.sensor_type.value}-1",
                    "sensor_type": sensor.sensor_type.value,
                    "value": round(value, 4),
                    "unit": CANONICAL_UNITS[sensor.sensor_type],
                }
            )
        batches[community] = batch
    return batches
