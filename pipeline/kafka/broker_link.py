"""Whether the worker reaches its Kafka cluster, for ``riskwatch_broker_connected``.

The check is a real round trip: a Metadata request on the client of the worker's
own Faust producer (the connections its warnings leave by), which must name at
least one broker within a timeout. aiokafka reconnects on the way, so a broker
that comes back reads as connected at the next check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, cast

import faust
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaError
from faust.exceptions import NotReady
from faust.transport.drivers import aiokafka as faust_aiokafka

CHECK_INTERVAL_S = 5.0
"""Seconds between checks; the alert waits a minute, so a few missed checks are tolerated."""
CHECK_TIMEOUT_S = 5.0
"""A broker that does not answer within this counts as lost (aiokafka would wait 40 s)."""


class MetadataClient(Protocol):
    """What the check needs of an ``aiokafka.client.AIOKafkaClient``."""

    async def fetch_all_metadata(self) -> ClusterMetadata:
        """Cluster metadata from any reachable broker; raises ``KafkaError`` when none answers."""
        ...


async def cluster_reachable(client: Callable[[], MetadataClient], timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """True when ``client()`` gets cluster metadata naming a broker within ``timeout_s``.

    ``client`` is called inside the check, so a producer that is not started yet
    (Faust raises ``NotReady``) reads as not connected.
    """
    try:
        metadata = await asyncio.wait_for(client().fetch_all_metadata(), timeout_s)
    except (KafkaError, NotReady, TimeoutError, OSError):
        return False
    return bool(metadata.brokers())


def producer_client(app: faust.App) -> MetadataClient:
    """The aiokafka client of ``app``'s producer (Faust exposes it only through ``_ensure_producer``)."""
    producer = cast(faust_aiokafka.Producer, app.producer)
    return cast(MetadataClient, producer._ensure_producer().client)
