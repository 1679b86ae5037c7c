"""riskwatch schemas: pydantic v2 models of every record on every topic.

Pure data definitions with validation; no Kafka and no River here, so the same
models validate in a device SDK, the HTTP ingest, the workers and offline tools.
"""

from schemas.deadletter import DeadLetter, RejectReason
from schemas.envelope import SCHEMA_VERSION, Envelope, ValidationClock
from schemas.events import (
    CANONICAL_UNITS,
    AnyEvent,
    DeviceStatus,
    DeviceTelemetry,
    Event,
    EventKind,
    Location,
    ReporterRole,
    ResidentReport,
    SensorReading,
    SensorType,
)
from schemas.feedback import Feedback, FeedbackAction
from schemas.hazard import Hazard, Tier
from schemas.warning import Evidence, RiskWarning, WarningChange, WarningStatus

__all__ = [
    "CANONICAL_UNITS",
    "SCHEMA_VERSION",
    "AnyEvent",
    "DeadLetter",
    "DeviceStatus",
    "DeviceTelemetry",
    "Envelope",
    "Event",
    "EventKind",
    "Evidence",
    "Feedback",
    "FeedbackAction",
    "Hazard",
    "Location",
    "RejectReason",
    "ReporterRole",
    "ResidentReport",
    "RiskWarning",
    "SensorReading",
    "SensorType",
    "Tier",
    "ValidationClock",
    "WarningChange",
    "WarningStatus",
]
