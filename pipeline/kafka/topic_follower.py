"""Follow every partition of a topic from its beginning, outside any consumer group.

For what each worker must know whole, whatever partitions it owns: the
console's warning board (every community's warnings) and the operators'
silences (a maintenance window may cover any community).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from pipeline.kafka.kafka_security import KafkaSecurity

Apply = Callable[[bytes | None, bytes | None], None]
"""Called with each record's key and value (``None`` value: a tombstone), in partition order."""


async def follow_topic(
    bootstrap_servers: str, topic: str, security: KafkaSecurity, apply: Apply, poll_ms: int = 500
) -> None:
    """Apply every record of ``topic``, old and new, until cancelled."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        **security.aiokafka_kwargs(),
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            for records in (await consumer.getmany(timeout_ms=poll_ms)).values():
                for record in records:
                    apply(record.key, record.value)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions, once it exists; a broker that does not answer is waited for (it
    may be restarting), a topic that stays absent for 100 answers is an error."""
    answers = 0
    while answers < 100:
        try:
            await consumer.topics()  # refreshes metadata; the topic may still be being created
        except KafkaError:
            await asyncio.sleep(1.0)
            continue
        answers += 1
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")
