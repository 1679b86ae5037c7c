"""Read partitions of a compacted topic to their end, up to the Fetch high watermark.

Used to restore detector state when a worker is assigned partitions. It reads
until the consumer's position reaches the high watermark carried in Fetch
responses, which Tansu reports correctly. Tansu's ListOffsets(LATEST) is wrong
after a multi-record batch (1 where 5 records stood): Faust's table recovery,
which trusts it, drops updates on Tansu, so riskwatch keeps state out of Faust
tables and restores it here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from pipeline.kafka.kafka_security import KafkaSecurity


class StateReadTimeout(RuntimeError):
    """The partitions could not be read to their end in time."""


async def read_to_end(
    bootstrap_servers: str,
    topic: str,
    partitions: Iterable[int] | None = None,
    timeout_s: float = 60.0,
    security: KafkaSecurity | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``partitions`` of ``topic`` (all partitions when None), in partition order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        **(security or KafkaSecurity()).aiokafka_kwargs(),
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        if partitions is None:
            await consumer.topics()
            partitions = sorted(consumer.partitions_for_topic(topic) or ())
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return records
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        pending = set(tps)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise StateReadTimeout(
                    f"{topic} partitions {sorted(tp.partition for tp in pending)} "
                    f"not read to their end within {timeout_s} s"
                )
            for batch in (await consumer.getmany(*pending, timeout_ms=100)).values():
                records.extend(batch)
            for tp in list(pending):
                high = consumer.highwater(tp)
                if high is not None and await consumer.position(tp) >= high:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return records


async def read_logs(
    bootstrap_servers: str,
    topic: str,
    partitions: Iterable[int],
    timeout_s: float = 60.0,
    security: KafkaSecurity | None = None,
) -> dict[int, list[tuple[str, bytes | None]]]:
    """``{partition: [(key, value), ...]}`` in offset order, tombstones included, for
    :func:`pipeline.state.checkpoint_generations.fold_partition`; records without a key are skipped."""
    partitions = list(partitions)
    logs: dict[int, list[tuple[str, bytes | None]]] = {p: [] for p in partitions}
    if not partitions:
        return logs
    for record in await read_to_end(bootstrap_servers, topic, partitions, timeout_s, security):
        if record.key is not None:
            logs[record.partition].append((record.key.decode(), record.value))
    return logs
