"""Export the JSON Schema of every record type, for producers in other languages."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.deadletter import DeadLetter
from schemas.events import DeviceTelemetry, ResidentReport, SensorReading
from schemas.feedback import Feedback, Rebaseline
from schemas.warning import RiskWarning

EXPORTED: dict[str, type[BaseModel]] = {
    "sensor_reading": SensorReading,
    "device_telemetry": DeviceTelemetry,
    "resident_report": ResidentReport,
    "warning": RiskWarning,
    "feedback": Feedback,
    "rebaseline": Rebaseline,
    "deadletter": DeadLetter,
}


def export_json_schemas(directory: Path) -> list[Path]:
    """Write ``<name>.schema.json`` for each record type into ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in EXPORTED.items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
