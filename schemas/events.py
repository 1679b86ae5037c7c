"""The three event kinds producers send: sensor readings, device telemetry, resident reports.

Each kind carries a ``kind`` tag so one decoder can tell them apart:

>>> reading = SensorReading.model_validate({
...     "kind": "sensor_reading", "event_id": "e1", "community_id": "c1",
...     "event_time": "2026-01-01T00:00:00Z", "device_id": "wl-1",
...     "sensor_type": "water_level", "value": 1.25, "unit": "m"})
>>> reading.series_key
'c1/wl-1/water_level'
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from schemas.envelope import Envelope, StrictModel
from schemas.hazard import Hazard
from schemas.types import FiniteFloat, Identifier, LongText, ShortText, Timestamp


class SensorType(StrEnum):
    """What a sensor measures. Each type has one canonical unit (see :data:`CANONICAL_UNITS`)."""

    WATER_LEVEL = "water_level"
    SMOKE = "smoke"
    GAS_CH4 = "gas_ch4"
    GAS_CO = "gas_co"
    TEMPERATURE = "temperature"
    PM25 = "pm25"
    VIBRATION = "vibration"
    POWER = "power"


#: The unit each sensor type reports in. Producers convert before sending, so a
#: series never mixes units and thresholds in configuration mean one thing.
CANONICAL_UNITS: dict[SensorType, str] = {
    SensorType.WATER_LEVEL: "m",
    SensorType.SMOKE: "%obs/m",
    SensorType.GAS_CH4: "%LEL",
    SensorType.GAS_CO: "ppm",
    SensorType.TEMPERATURE: "degC",
    SensorType.PM25: "ug/m3",
    SensorType.VIBRATION: "mm/s",
    SensorType.POWER: "V",
}

SENSOR_TYPE_NAMES: dict[SensorType, str] = {sensor_type: sensor_type.value for sensor_type in SensorType}
"""Each sensor type's name (its ``value``), looked up without the enum's ``value`` descriptor
(~0.2 µs a call, a few times a reading on the worker's hot path)."""


class SensorReading(Envelope):
    """One measurement of one sensor; a series is (community, device, sensor type)."""

    kind: Literal["sensor_reading"]
    device_id: Identifier
    sensor_type: SensorType
    value: FiniteFloat
    unit: ShortText

    @model_validator(mode="after")
    def _unit_matches_sensor(self) -> SensorReading:
        expected = CANONICAL_UNITS[self.sensor_type]
        if self.unit != expected:
            raise ValueError(
                f"unit {self.unit!r} is not the unit of {self.sensor_type.value}; "
                f"send the value converted to {expected!r}"
            )
        return self

    @property
    def series_key(self) -> str:
        """The series this reading belongs to: ``community/device/sensor_type``."""
        return f"{self.community_id}/{self.device_id}/{SENSOR_TYPE_NAMES[self.sensor_type]}"


class DeviceStatus(StrEnum):
    """What a device says about itself."""

    ONLINE = "online"
    DEGRADED = "degraded"
    FAULT = "fault"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"


class DeviceTelemetry(Envelope):
    """A device's heartbeat: its status, battery and radio signal."""

    kind: Literal["device_telemetry"]
    device_id: Identifier
    status: DeviceStatus = DeviceStatus.ONLINE
    battery_pct: Annotated[FiniteFloat, Field(ge=0, le=100)] | None = None
    signal_dbm: Annotated[FiniteFloat, Field(ge=-150, le=0)] | None = None
    heartbeat_interval_s: Annotated[FiniteFloat, Field(gt=0, le=86400)] = 60.0


class ReporterRole(StrEnum):
    """Who sent a report; the assessment weighs roles by their track record."""

    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    POLICE = "police"
    SOCIAL_ORG = "social_org"


class Location(StrictModel):
    """Where something was observed: coordinates, an address, or both."""

    latitude: Annotated[FiniteFloat, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[FiniteFloat, Field(ge=-180, le=180)] | None = None
    address: ShortText | None = None


class ResidentReport(Envelope):
    """A person's report of what they see: the "mass prevention" channel.

    ``event_time`` is when the report was submitted; ``observed_time`` when
    the reporter saw the problem (not after submission).
    """

    kind: Literal["resident_report"]
    report_id: Identifier
    reporter_role: ReporterRole
    category: Hazard
    description: LongText
    location: Location | None = None
    observed_time: Timestamp
    severity: Annotated[int, Field(ge=1, le=5, strict=True)] = Field(
        description="Self-reported severity, 1 (minor) to 5 (life-threatening)."
    )

    @model_validator(mode="after")
    def _observed_before_submitted(self) -> ResidentReport:
        if self.observed_time > self.event_time:
            raise ValueError(
                f"observed_time {self.observed_time.isoformat()} is after the report was "
                f"submitted ({self.event_time.isoformat()})"
            )
        return self


AnyEvent = SensorReading | DeviceTelemetry | ResidentReport
"""Any validated event."""

Event = Annotated[SensorReading | DeviceTelemetry | ResidentReport, Field(discriminator="kind")]
"""Any event a producer may send, told apart by its ``kind``."""

EventKind = Literal["sensor_reading", "device_telemetry", "resident_report"]
