"""Topic names from configuration, and creating them on the broker.

Every topic is keyed by ``community_id``: one community's models and fusion
state live on one worker, with no repartition hop.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafka.partitioner.default import murmur2

from pipeline.config import Settings
from schemas.events import EventKind


@dataclass(frozen=True)
class TopicNames:
    """The names of riskwatch's topics, with the configured prefix.

    >>> TopicNames.from_settings(Settings(topic_prefix="x.")).warnings
    'x.warnings'
    """

    readings: str
    telemetry: str
    reports: str
    warnings: str
    deadletter: str
    feedback: str
    detector_state: str
    warnings_state: str
    device_faults: str
    silences: str
    """Operators' silences (maintenance windows), compacted by silence id; every worker reads it whole."""
    districts: str
    """Community warnings keyed by district, so one worker rolls each district up."""
    devices: str
    """The site and device registry, compacted by device id; every worker reads it whole."""
    roster: str
    """The mobilisation roster, compacted by person or team id (:mod:`pipeline.notify.roster`)."""
    deliveries: str
    """Every delivery attempt and link acknowledgement of ``riskwatch notify``, keyed by warning id."""
    responders: tuple[str, ...] = ()
    """One topic per responder route of the assessment configuration (departments, police, ...)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicNames:
        """Apply the configured prefix to the default names."""
        p = settings.topic_prefix
        return cls(
            readings=f"{p}sensor.readings",
            telemetry=f"{p}iot.telemetry",
            reports=f"{p}reports",
            warnings=f"{p}warnings",
            deadletter=f"{p}deadletter",
            feedback=f"{p}feedback",
            detector_state=f"{p}detector.state",
            warnings_state=f"{p}warnings.state",
            device_faults=f"{p}device.faults",
            silences=f"{p}silences",
            districts=f"{p}districts",
            devices=f"{p}devices",
            roster=f"{p}roster",
            deliveries=f"{p}deliveries",
            responders=tuple(sorted({f"{p}{route.topic}" for route in settings.assessment.routes})),
        )

    def input_kinds(self) -> dict[str, EventKind]:
        """Input topics and the event kind each carries."""
        return {
            self.readings: "sensor_reading",
            self.telemetry: "device_telemetry",
            self.reports: "resident_report",
        }

    def all(self) -> list[str]:
        """Every topic the pipeline uses."""
        return [
            self.readings,
            self.telemetry,
            self.reports,
            self.warnings,
            self.deadletter,
            self.feedback,
            self.detector_state,
            self.warnings_state,
            self.device_faults,
            self.silences,
            self.districts,
            self.devices,
            self.roster,
            self.deliveries,
            *self.responders,
        ]


def partition_of(key: str, partitions: int) -> int:
    """The partition the Kafka clients' default partitioner gives messages keyed ``key``: where a
    community's events, and so its checkpointed state, live.

    >>> 0 <= partition_of("c001", 4) < 4
    True
    """
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions
