"""``riskwatch_broker_connected``: a metadata round trip that must name a broker, in time."""

from __future__ import annotations

import asyncio
from typing import cast

from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaConnectionError
from faust.exceptions import NotReady

from pipeline.kafka.broker_link import MetadataClient, cluster_reachable


class FakeMetadata:
    """What the check reads of ``aiokafka.cluster.ClusterMetadata``."""

    def __init__(self, brokers: int) -> None:
        self._brokers = brokers

    def brokers(self) -> set[int]:
        return set(range(self._brokers))


class FakeClient:
    """Answers with ``brokers``, or raises ``error``, or never answers."""

    def __init__(self, brokers: int = 1, error: Exception | None = None, hang: bool = False) -> None:
        self.brokers = brokers
        self.error = error
        self.hang = hang

    async def fetch_all_metadata(self) -> ClusterMetadata:
        if self.hang:
            await asyncio.Event().wait()
        if self.error is not None:
            raise self.error
        return cast(ClusterMetadata, FakeMetadata(self.brokers))


def reachable(client: MetadataClient, timeout_s: float = 1.0) -> bool:
    return asyncio.run(cluster_reachable(lambda: client, timeout_s))


def test_a_cluster_that_names_a_broker_is_reachable() -> None:
    assert reachable(FakeClient(brokers=3))


def test_no_broker_an_error_or_no_answer_in_time_is_not_reachable() -> None:
    assert not reachable(FakeClient(brokers=0))
    assert not reachable(FakeClient(error=KafkaConnectionError("refused")))
    assert not reachable(FakeClient(error=ConnectionRefusedError()))
    assert not reachable(FakeClient(hang=True), timeout_s=0.01)


def test_a_producer_not_started_yet_is_not_reachable() -> None:
    def not_started() -> MetadataClient:
        raise NotReady("Producer service not yet started")

    assert not asyncio.run(cluster_reachable(not_started))
