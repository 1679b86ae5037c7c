"""Restoring state reads every record of a compacted partition: multi-record batches, tombstones."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.state_store import read_logs


async def _one_batch(bootstrap: str, topic: str, records: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200)
    await producer.start()
    try:
        batch = producer.create_batch()
        for i in range(records):
            batch.append(key=f"series-{i}".encode(), value=f"state-{i}".encode(), timestamp=None)
        batch.append(key=b"series-0", value=None, timestamp=None)  # a tombstone deletes series-0
        batch.close()
        await (await producer.send_batch(batch, topic, partition=0))
    finally:
        await producer.stop()


async def _list_offsets_end(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


def test_every_record_of_a_multi_record_batch_is_restored(broker: EmbeddedBroker) -> None:
    topic = f"state-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"cleanup.policy": "compact"})])
    admin.close()
    asyncio.run(_one_batch(broker.bootstrap_servers, topic, 5))
    logs = asyncio.run(read_logs(broker.bootstrap_servers, topic, [0, 1]))
    latest: dict[str, tuple[int, bytes]] = {}
    for partition, records in logs.items():
        for key, value in records:
            if value is None:
                latest.pop(key, None)
            else:
                latest[key] = (partition, value)
    assert sorted(latest) == [f"series-{i}" for i in range(1, 5)]
    assert latest["series-4"] == (0, b"state-4")


def test_tansu_list_offsets_quirk_is_as_the_readme_says(broker: EmbeddedBroker) -> None:
    """README: ListOffsets(LATEST) answers the first offset of the last batch + 1.

    If a new Tansu fixes it, this fails and the README's broker notes need updating.
    """
    topic = f"quirk-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    asyncio.run(_one_batch(broker.bootstrap_servers, topic, 5))
    assert asyncio.run(_list_offsets_end(broker.bootstrap_servers, topic)) == 1
