"""Two workers, two communities of one district: the district warning links both.

Each worker owns some partitions, so neither may see both communities; the
community warnings travel, keyed by district, to the one worker that owns the
district's partition of ``riskwatch.districts``, which rolls them up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer

from pipeline.assess.config import AssessmentConfig, Community
from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames, partition_of
from pipeline.worker_process import WorkerProcess
from schemas import RiskWarning
from tests.integration.conftest import ARTIFACTS, isolated_settings, publish, read_until
from tests.integration.test_silences import rising

COMMUNITIES = ("c-north-1", "c-north-2")


@pytest.fixture(scope="module")
def settings(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    north = {c: Community(description=f"{c}, North District", district_id="d-north") for c in COMMUNITIES}
    assessment = AssessmentConfig(communities=north)
    made = isolated_settings(broker, tmp_path_factory.mktemp("district"), assessment=assessment)
    ensure_topics(made, broker.bootstrap_servers)
    return made


@pytest.fixture(scope="module")
def two_workers(settings: Settings) -> Iterator[list[WorkerProcess]]:
    first = WorkerProcess(settings, ARTIFACTS / f"worker-{settings.app_id}-1.log")
    second = WorkerProcess(
        settings.model_copy(update={"web_port": free_port()}), ARTIFACTS / f"worker-{settings.app_id}-2.log"
    )
    with first, second:
        first.wait_ready(60)
        second.wait_ready(60)
        yield [first, second]


def test_a_district_warning_links_communities_assessed_on_different_workers(
    two_workers: list[WorkerProcess], settings: Settings, producer: KafkaProducer, broker: EmbeddedBroker
) -> None:
    topics = TopicNames.from_settings(settings)
    partitions = {partition_of(c, settings.partitions) for c in COMMUNITIES}
    assert len(partitions) == 2, "the two communities are on different partitions, so different workers"
    for community in COMMUNITIES:
        for device in ("wl-1", "wl-2"):
            publish(producer, topics.readings, community, rising(community, device))

    def district_warnings(records: list) -> list[RiskWarning]:  # type: ignore[type-arg]
        warnings = (RiskWarning.model_validate_json(r.value) for r in records)
        return [w for w in warnings if w.community_id == "d-north"]

    records = read_until(broker, topics.warnings, lambda rs: bool(district_warnings(rs)), timeout_s=60)
    [*revisions] = district_warnings(records)
    assert len({w.warning_id for w in revisions}) == 1, "one district episode"
    linked = {e.series.split("/", 1)[0] for w in revisions for e in w.evidence}
    assert linked == set(COMMUNITIES)
