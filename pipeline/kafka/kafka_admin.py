"""Create riskwatch's topics with the configured partition counts (kafka-python admin).

``create_topics`` works on Tansu and on Apache Kafka; an existing topic is left as it is.
"""

from __future__ import annotations

import contextlib

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames


def topic_configs(settings: Settings, name: str) -> dict[str, str]:
    """Per-topic broker settings: input topics refuse messages above ``max_message_bytes``
    at produce time; the dead-letter topic takes a dead letter holding such a message;
    the state topics are compacted."""
    names = TopicNames.from_settings(settings)
    if name in names.input_kinds():
        return {"max.message.bytes": str(settings.max_message_bytes)}
    if name == names.deadletter:
        return {"max.message.bytes": str(settings.max_record_bytes)}
    if name in (names.detector_state, names.warnings_state):
        # Only the latest state per key matters, but a value superseded by an unfinished
        # checkpoint generation must outlive it (pipeline.state.checkpoint_generations): an hour.
        return {"cleanup.policy": "compact", "min.compaction.lag.ms": "3600000"}
    if name in (names.silences, names.devices, names.roster):
        return {"cleanup.policy": "compact"}
    return {}


def ensure_topics(settings: Settings, bootstrap_servers: str) -> list[str]:
    """Create every missing riskwatch topic; return the names that were created."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id=f"{settings.app_id}-admin",
        **settings.kafka.kafka_python_kwargs(),
    )
    try:
        existing = set(admin.list_topics())
        missing = [name for name in TopicNames.from_settings(settings).all() if name not in existing]
        new_topics = [
            NewTopic(
                name,
                settings.partitions,
                settings.replication_factor,
                topic_configs=topic_configs(settings, name),
            )
            for name in missing
        ]
        # Another process may create them first: that is what we wanted.
        with contextlib.suppress(TopicAlreadyExistsError):
            if new_topics:
                admin.create_topics(new_topics)
        return missing
    finally:
        admin.close()
