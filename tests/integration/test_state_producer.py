"""The checkpoint's own producer delivers through the output ledger, starts on first use, and
reports an unreachable broker as a failed send the ledger retries."""

from __future__ import annotations

import asyncio
import uuid

from kafka.admin import KafkaAdminClient, NewTopic

from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_security import KafkaSecurity
from pipeline.kafka.state_producer import StateProducer
from pipeline.kafka.state_store import read_logs
from pipeline.state.output_ledger import OutputLedger

MAX_REQUEST_BYTES = 1024 * 1024


async def _send_settle_stop_and_send_again(producer: StateProducer, topic: str) -> tuple[bool, bool]:
    """Send three records through a ledger, settle, stop the producer, send one more, settle."""
    ledger = OutputLedger(lambda topic: None)
    states = producer.topic(topic)
    for partition, key, value in [(0, b"a", b"1"), (1, b"b", b"2"), (0, b"a", None)]:
        await ledger.send(states, key, value, partition)
    first = await ledger.settle()
    await producer.stop()
    await ledger.send(states, b"c", b"3", 1)  # a new client starts for it
    second = await ledger.settle()
    await producer.stop()
    return first, second


def test_states_sent_through_the_state_producer_land_on_their_partitions_in_order(
    broker: EmbeddedBroker,
) -> None:
    topic = f"state-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"cleanup.policy": "compact"})])
    admin.close()
    producer = StateProducer(broker.bootstrap_servers, KafkaSecurity(), MAX_REQUEST_BYTES)
    assert asyncio.run(_send_settle_stop_and_send_again(producer, topic)) == (True, True)
    logs = asyncio.run(read_logs(broker.bootstrap_servers, topic, [0, 1]))
    assert logs == {0: [("a", b"1"), ("a", None)], 1: [("b", b"2"), ("c", b"3")]}


async def _send_to_nowhere(producer: StateProducer) -> tuple[bool, list[str]]:
    failures: list[str] = []
    ledger = OutputLedger(failures.append, settle_timeout_s=5.0)
    await ledger.send(producer.topic("state-nowhere"), b"a", b"1", 0)
    settled = await ledger.settle()
    await producer.stop()
    return settled, failures


def test_an_unreachable_broker_is_a_failed_send_that_stays_pending() -> None:
    producer = StateProducer(f"127.0.0.1:{free_port()}", KafkaSecurity(), MAX_REQUEST_BYTES)
    settled, failures = asyncio.run(_send_to_nowhere(producer))
    assert not settled
    assert failures and set(failures) == {"state-nowhere"}
