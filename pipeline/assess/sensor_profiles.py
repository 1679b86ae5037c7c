"""What each sensor type means for risk: the hazard it signals, the dangerous direction, the noise floor.

These are product defaults, not learned values: a falling supply voltage
means a power outage, a rising water level a flood. The spread floor is the
smallest deviation (in the canonical unit) that can ever count, so a very
steady sensor does not alarm on a tiny wobble.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.base import Direction
from schemas.events import SensorType
from schemas.hazard import Hazard


@dataclass(frozen=True)
class SensorProfile:
    """How readings of one sensor type are judged."""

    hazard: Hazard
    direction: Direction
    min_spread: float


SENSOR_PROFILES: dict[SensorType, SensorProfile] = {
    SensorType.WATER_LEVEL: SensorProfile(Hazard.FLOOD, Direction.UP, 0.02),
    SensorType.SMOKE: SensorProfile(Hazard.FIRE, Direction.UP, 0.05),
    SensorType.TEMPERATURE: SensorProfile(Hazard.FIRE, Direction.UP, 0.5),
    SensorType.GAS_CH4: SensorProfile(Hazard.GAS_LEAK, Direction.UP, 0.5),
    SensorType.GAS_CO: SensorProfile(Hazard.GAS_LEAK, Direction.UP, 2.0),
    SensorType.PM25: SensorProfile(Hazard.AIR_POLLUTION, Direction.UP, 3.0),
    SensorType.VIBRATION: SensorProfile(Hazard.STRUCTURAL, Direction.UP, 0.2),
    SensorType.POWER: SensorProfile(Hazard.POWER_OUTAGE, Direction.DOWN, 2.0),
}
assert set(SENSOR_PROFILES) == set(SensorType), "every sensor type needs a profile"
