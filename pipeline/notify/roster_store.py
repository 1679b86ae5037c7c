"""Writing the roster to ``riskwatch.roster`` (compacted by entry id): for ``riskwatch roster``
and ``riskwatch demo --roster``."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.notify.roster import RosterEntry


def write_roster(settings: Settings, bootstrap: str, records: list[tuple[str, RosterEntry | None]]) -> None:
    """Write each ``(id, entry)`` (``None``: take the id off) and wait until the broker has them all."""
    from kafka import KafkaProducer

    from pipeline.ingress.publish import deliver_keyed

    topic = TopicNames.from_settings(settings).roster
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings.kafka.kafka_python_kwargs())
    try:
        deliver_keyed(
            producer,
            topic,
            [(key, entry.model_dump_json().encode() if entry else None) for key, entry in records],
        )
    finally:
        producer.close()
