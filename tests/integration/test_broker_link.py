"""The broker check against a real Tansu broker: connected, lost when it stops, back when it returns."""

from __future__ import annotations

import asyncio

from aiokafka.client import AIOKafkaClient

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.broker_link import cluster_reachable
from tests.integration.conftest import ARTIFACTS


def test_the_check_follows_the_broker_going_away_and_coming_back() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "tansu-broker-link.log"

    async def run() -> list[bool]:
        seen = []
        with EmbeddedBroker(log_file=log) as first:
            client = AIOKafkaClient(bootstrap_servers=first.bootstrap_servers)
            await client.bootstrap()
            try:
                seen.append(await cluster_reachable(lambda: client, timeout_s=5.0))
                first.stop()
                seen.append(await cluster_reachable(lambda: client, timeout_s=5.0))
                with EmbeddedBroker(port=first.port, log_file=log):
                    seen.append(await cluster_reachable(lambda: client, timeout_s=5.0))
            finally:
                await client.close()
        return seen

    assert asyncio.run(run()) == [True, False, True]
