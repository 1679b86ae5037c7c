"""The checkpoint's own producer, so a warning never waits behind a checkpoint's states.

A checkpoint writes the state of every series that changed since the last one: with 6,000
series reading every second, 6,000 records every 10 s. Sent through the worker's one Faust
producer, they shared its broker connection with the warnings, and aiokafka keeps one
produce request in flight per broker: a warning raised during a checkpoint waited for
batches of states ahead of it. Measured with ``riskwatch bench latency --rate 5000``
(6,000 series, 2026-12-03): produce → warning p50 74 / 117 ms and p99 1,030 / 456 ms with one
producer, 32 / 34 ms and 111 / 227 ms with the states on a producer of their own (the relay's
p99 in the same runs: 35–112 ms).

:class:`StateProducer` is that producer; its :meth:`~StateProducer.topic` gives what
:class:`~pipeline.state.output_ledger.OutputLedger` sends to, so the ledger still awaits
every state and marker before a checkpoint counts on them. The client starts at the first
send (aiokafka needs the running event loop; a checkpoint runs in it) and is stopped by the
app after its consumer, whose last revoke writes the final checkpoint
(:meth:`pipeline.kafka.faust_transport.RiskwatchFaustApp.on_stop`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from aiokafka import AIOKafkaProducer

from pipeline.kafka.kafka_security import KafkaSecurity


class StateProducer:
    """An aiokafka producer for the state topics, started on first use."""

    def __init__(self, bootstrap_servers: str, security: KafkaSecurity, max_request_size: int) -> None:
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "max_request_size": max_request_size,
            "acks": "all",  # as Faust's producer: a state counts once every in-sync replica has it
            **security.aiokafka_kwargs(),
        }
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    def topic(self, name: str) -> StateTopic:
        """The topic ``name``, sent to through this producer."""
        return StateTopic(name, self)

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None
    ) -> Awaitable[Any]:
        """Queue one record; the awaitable resolves when the broker has acknowledged it. Raises
        when the client cannot start (broker unreachable): the ledger resends the record later."""
        producer = await self._started()
        delivery: Awaitable[Any] = await producer.send(topic, key=key, value=value, partition=partition)
        return delivery

    async def _started(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(**self._options)
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def stop(self) -> None:
        """Deliver what is queued and close the client (a later send starts a new one)."""
        async with self._starting:
            if self._producer is not None:
                producer, self._producer = self._producer, None
                await producer.stop()


class StateTopic:
    """One state topic of a :class:`StateProducer`: what the output ledger needs of a topic."""

    def __init__(self, name: str, producer: StateProducer) -> None:
        self.name = name
        self._producer = producer

    def get_topic_name(self) -> str:
        """The topic's name."""
        return self.name

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None) -> Awaitable[Any]:
        """Queue a record; the awaitable resolves when the broker acknowledged it."""
        return await self._producer.send(self.name, key, value, partition)
