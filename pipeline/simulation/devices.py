"""How a community's sensors behave when nothing is wrong: level, daily cycle, weekend, noise, range.

Values are in each sensor type's canonical unit (:data:`schemas.events.CANONICAL_UNITS`).
The daily cycle is a cosine peaking at a local hour (traffic raises PM2.5,
CO and vibration in the day; the evening load sags the mains voltage); on
weekends the swing is smaller. Every device gets its own offset from the
type's level, so two smoke detectors never read exactly alike.

>>> pm25 = SENSOR_BEHAVIOURS[SensorType.PM25]
>>> pm25.expected(local_hour=pm25.peak_hour, weekend=False) > pm25.expected(local_hour=3.0, weekend=False)
True
>>> [d.device_id for d in community_devices("c001", seed=1)][:3]
['c001.wl-1', 'c001.wl-2', 'c001.sm-1']
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from schemas.events import CANONICAL_UNITS, SensorType


@dataclass(frozen=True)
class SensorBehaviour:
    """Normal behaviour of one sensor type.

    Parameters
    ----------
    level
        Typical value, in the canonical unit.
    daily_amplitude
        Half the peak-to-trough swing of the daily cycle on a weekday.
    peak_hour
        Local hour (0–24) of the daily maximum.
    weekend_factor
        Multiplies the daily swing on Saturdays and Sundays.
    noise
        Standard deviation of measurement noise.
    device_spread
        Standard deviation of a device's own offset from ``level``.
    low, high
        The sensor's measuring range: values are clipped to it.
    decimals
        Resolution the device reports with.
    """

    sensor_type: SensorType
    level: float
    daily_amplitude: float
    peak_hour: float
    weekend_factor: float
    noise: float
    device_spread: float
    low: float
    high: float
    decimals: int
    type_name: str = field(init=False)
    """``sensor_type.value`` as a plain string (the generator's hot path reads it)."""
    unit: str = field(init=False)
    """The canonical unit of this sensor type."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_name", self.sensor_type.value)
        object.__setattr__(self, "unit", CANONICAL_UNITS[self.sensor_type])

    def daily_swing(self, local_hour: float, weekend: bool) -> float:
        """Offset of the daily cycle from ``level`` at ``local_hour``."""
        swing = self.daily_amplitude * math.cos(2.0 * math.pi * (local_hour - self.peak_hour) / 24.0)
        return swing * self.weekend_factor if weekend else swing

    def expected(self, local_hour: float, weekend: bool) -> float:
        """What a typical device of this type reads at that time, without noise."""
        return self.level + self.daily_swing(local_hour, weekend)

    def clip(self, value: float) -> float:
        """``value`` inside the measuring range, at the device's resolution."""
        return round(min(self.high, max(self.low, value)), self.decimals)


#: Normal behaviour per sensor type, chosen from typical urban deployments:
#: a drainage-channel gauge, optical smoke detectors, catalytic CH4 and
#: electrochemical CO detectors, outdoor temperature and PM2.5, a building
#: vibration monitor and a mains-voltage meter (230 V grid).
SENSOR_BEHAVIOURS: dict[SensorType, SensorBehaviour] = {
    b.sensor_type: b
    for b in (
        SensorBehaviour(SensorType.WATER_LEVEL, 0.60, 0.02, 6.0, 1.0, 0.006, 0.08, 0.0, 6.0, 3),
        SensorBehaviour(SensorType.SMOKE, 0.05, 0.005, 19.0, 1.0, 0.008, 0.01, 0.0, 40.0, 3),
        SensorBehaviour(SensorType.TEMPERATURE, 16.0, 5.0, 15.0, 1.0, 0.15, 1.0, -40.0, 120.0, 2),
        SensorBehaviour(SensorType.GAS_CH4, 0.3, 0.05, 19.0, 1.0, 0.08, 0.1, 0.0, 100.0, 2),
        SensorBehaviour(SensorType.GAS_CO, 1.5, 1.0, 18.0, 0.6, 0.4, 0.3, 0.0, 1000.0, 1),
        SensorBehaviour(SensorType.PM25, 38.0, 12.0, 19.0, 0.6, 2.5, 4.0, 0.0, 1000.0, 1),
        SensorBehaviour(SensorType.VIBRATION, 0.45, 0.25, 14.0, 0.5, 0.04, 0.08, 0.0, 50.0, 3),
        SensorBehaviour(SensorType.POWER, 229.0, -2.5, 20.0, 0.8, 0.8, 1.0, 0.0, 260.0, 1),
    )
}
assert set(SENSOR_BEHAVIOURS) == set(SensorType), "every sensor type needs a behaviour"


@dataclass(frozen=True)
class DeviceKind:
    """How many devices of a type a community has, and how they are powered."""

    sensor_type: SensorType
    abbreviation: str
    count: int
    battery_powered: bool
    """Battery devices keep working in a power outage; mains-only devices go silent."""


#: One community's installation: 14 devices.
COMMUNITY_LAYOUT: tuple[DeviceKind, ...] = (
    DeviceKind(SensorType.WATER_LEVEL, "wl", 2, True),
    DeviceKind(SensorType.SMOKE, "sm", 3, True),
    DeviceKind(SensorType.TEMPERATURE, "tp", 2, False),
    DeviceKind(SensorType.GAS_CH4, "ch4", 2, True),
    DeviceKind(SensorType.GAS_CO, "co", 1, True),
    DeviceKind(SensorType.PM25, "pm", 1, False),
    DeviceKind(SensorType.VIBRATION, "vb", 1, False),
    DeviceKind(SensorType.POWER, "pw", 2, True),
)


@dataclass(frozen=True)
class Device:
    """One installed device of one community."""

    device_id: str
    sensor_type: SensorType
    index: int
    """0 for the first device of its type in the community (the one incidents hit hardest)."""
    battery_powered: bool
    offset: float
    battery_start_pct: float | None
    battery_drain_pct_per_h: float
    signal_dbm: float
    behaviour: SensorBehaviour
    """The normal behaviour of its sensor type (kept here: the generator's hot path reads it)."""


def community_devices(community_id: str, seed: int) -> list[Device]:
    """The devices of ``community_id``, with per-device offsets drawn deterministically from ``seed``."""
    rng = random.Random(f"{seed}:{community_id}:devices")
    devices = []
    for kind in COMMUNITY_LAYOUT:
        behaviour = SENSOR_BEHAVIOURS[kind.sensor_type]
        for index in range(kind.count):
            devices.append(
                Device(
                    device_id=f"{community_id}.{kind.abbreviation}-{index + 1}",
                    sensor_type=kind.sensor_type,
                    index=index,
                    battery_powered=kind.battery_powered,
                    offset=rng.gauss(0.0, behaviour.device_spread),
                    battery_start_pct=rng.uniform(45.0, 100.0) if kind.battery_powered else None,
                    battery_drain_pct_per_h=rng.uniform(0.01, 0.05),
                    signal_dbm=rng.uniform(-95.0, -55.0),
                    behaviour=behaviour,
                )
            )
    return devices
