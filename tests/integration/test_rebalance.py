"""A second worker joins the group: partitions move with their state, and nothing is lost.

Worker A alone learns every series' baseline and opens one warning per community.
Worker B joins; the group rebalances, A checkpoints the partitions it gives up
and B restores them before it reports ready. Then a second sensor rises in
every community: each open warning must escalate (same warning id, revision 2)
on whichever worker owns its community now, scored against the baseline A
learned. Meanwhile a steady stream of invalid messages (one dead letter each)
shows, message by message, that nothing was lost across the move.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames, partition_of
from pipeline.metrics_scrape import Samples, scrape, total
from pipeline.worker_process import WorkerProcess
from schemas import DeadLetter, RiskWarning, Tier, WarningChange
from tests.integration.conftest import (
    ARTIFACTS,
    MarkerStream,
    await_condition,
    isolated_settings,
    publish,
    read_until,
)

PARTITIONS = 4
COMMUNITIES_PER_PARTITION = 2
DEVICES = ("wl-a", "wl-b", "wl-c")
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=80)


def communities() -> dict[str, int]:
    """``COMMUNITIES_PER_PARTITION`` communities on every partition, so any partition that moves
    carries state."""
    chosen: dict[str, int] = {}
    n = 0
    while len(chosen) < PARTITIONS * COMMUNITIES_PER_PARTITION:
        name = f"c-move-{n}"
        partition = partition_of(name, PARTITIONS)
        if sum(1 for p in chosen.values() if p == partition) < COMMUNITIES_PER_PARTITION:
            chosen[name] = partition
        n += 1
    return chosen


def batch(community: str, device: str, values: list[float], first_minute: int) -> list[dict[str, Any]]:
    """One reading a minute of ``device`` in ``community`` from ``START + first_minute``."""
    return [
        {
            "kind": "sensor_reading",
            "event_id": f"{community}-{device}-{first_minute + i}",
            "community_id": community,
            "event_time": (START + timedelta(minutes=first_minute + i)).isoformat(),
            "device_id": device,
            "sensor_type": "water_level",
            "value": round(v, 5),
            "unit": "m",
        }
        for i, v in enumerate(values)
    ]


def assigned_readings_partitions(samples: Samples, topic: str) -> set[int]:
    """Input partitions a worker owns and has processed something of (its lag gauge's labels)."""
    return {
        int(dict(labels)["partition"])
        for (name, labels), _ in samples.items()
        if name == "riskwatch_consumer_lag_messages" and dict(labels).get("topic") == topic
    }


def distinct_warnings(records: list[Any]) -> dict[tuple[str, int], RiskWarning]:
    """One warning per (warning id, revision), checking that repeats are the same revision."""
    distinct: dict[tuple[str, int], RiskWarning] = {}
    for r in records:
        warning = RiskWarning.model_validate_json(r.value)
        kept = distinct.setdefault((warning.warning_id, warning.revision), warning)
        assert (kept.change, kept.tier) == (warning.change, warning.tier), (
            f"two different revisions {warning.revision} of warning {warning.warning_id}"
        )
    return distinct


def test_partitions_move_to_a_joining_worker_with_their_state_and_nothing_is_lost(
    broker: EmbeddedBroker, producer: KafkaProducer, tmp_path: Path
) -> None:
    settings = isolated_settings(
        broker, tmp_path, partitions=PARTITIONS, state_key="r" * 32, checkpoint_interval_s=0.3
    )
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    places = communities()
    rng = random.Random(5)
    readings_sent = 0
    log_a = ARTIFACTS / f"rebalance-a-{settings.app_id}.log"
    log_b = ARTIFACTS / f"rebalance-b-{settings.app_id}.log"
    with (
        WorkerProcess(settings, log_a) as a,
        MarkerStream(
            broker.bootstrap_servers, topics.readings, keys=list(places), interval_s=0.002
        ) as markers_stream,
    ):
        a.wait_ready(60)
        for community in places:
            history = [
                *batch(community, "wl-a", [1.0 + rng.gauss(0, 0.004) for _ in range(60)], 0),
                # 2.2 m above normal: extreme, but one gauge alone is orange; a second makes it red.
                *batch(community, "wl-a", [3.2, 3.2, 3.2], 60),
                *batch(community, "wl-b", [1.0 + rng.gauss(0, 0.004) for _ in range(63)], 0),
                *batch(community, "wl-c", [1.0 + rng.gauss(0, 0.004) for _ in range(63)], 0),
            ]
            publish(producer, topics.readings, community, history)
            readings_sent += len(history)

        def opened(records: list[Any]) -> bool:
            return {w.community_id for w in distinct_warnings(records).values()} >= set(places)

        read_until(broker, topics.warnings, opened, 60)

        def checkpointed() -> bool:
            samples = scrape(a.base_url)
            return total(samples, "riskwatch_checkpoint_records_total", state="detector") >= len(
                places
            ) * len(DEVICES) and total(
                samples, "riskwatch_checkpoint_records_total", state="assessment"
            ) >= len(places)

        await_condition(checkpointed, 30, f"worker A wrote no checkpoint:\n{a.log_tail()}")
        with WorkerProcess(settings.model_copy(update={"web_port": free_port()}), log_b) as b:
            b.wait_ready(60)

            def settled() -> bool:
                if not (a.is_ready() and b.is_ready()):
                    return False
                owned_a = assigned_readings_partitions(scrape(a.base_url), topics.readings)
                owned_b = assigned_readings_partitions(scrape(b.base_url), topics.readings)
                return owned_a | owned_b == set(range(PARTITIONS)) and not owned_a & owned_b

            await_condition(settled, 60, f"the group did not settle:\n{a.log_tail()}\n{b.log_tail()}")
            samples_a, samples_b = scrape(a.base_url), scrape(b.base_url)
            moved = assigned_readings_partitions(samples_b, topics.readings)
            assert moved, "worker B took no partition"
            moved_communities = {c for c, p in places.items() if p in moved}
            kept_communities = set(places) - moved_communities
            # B holds exactly the restored models of the partitions it took, none of them warming up.
            assert total(samples_b, "riskwatch_series_monitored") == len(moved_communities) * len(DEVICES)
            assert total(samples_b, "riskwatch_series_warming_up") == 0
            assert total(
                samples_b, "riskwatch_restored_states_total", state="detector", outcome="restored"
            ) >= (len(moved_communities) * len(DEVICES))
            assert total(
                samples_b, "riskwatch_restored_states_total", state="assessment", outcome="restored"
            ) >= len(moved_communities)
            assert total(samples_b, "riskwatch_warnings_active") == len(moved_communities)
            # A kept (or restored again) the rest.
            assert total(samples_a, "riskwatch_series_monitored") == len(kept_communities) * len(DEVICES)
            assert total(samples_a, "riskwatch_series_warming_up") == 0

            for community in places:
                rise = batch(community, "wl-b", [3.3, 3.3, 3.3], 63)
                publish(producer, topics.readings, community, rise)
                readings_sent += len(rise)

            def escalated(records: list[Any]) -> bool:
                return {
                    w.community_id for w in distinct_warnings(records).values() if w.revision >= 2
                } >= set(places)

            warnings = distinct_warnings(read_until(broker, topics.warnings, escalated, 60))
            markers_stream.stop.set()
            markers_stream.thread.join(10)
            sent_markers = set(markers_stream.markers)

            def marker_of(records: list[Any]) -> Counter[str]:
                return Counter(
                    DeadLetter.model_validate_json(r.value).raw.decode().split()[-1] for r in records
                )

            dead = marker_of(
                read_until(broker, topics.deadletter, lambda rs: set(marker_of(rs)) >= sent_markers, 60)
            )
            processed = sum(total(scrape(w.base_url), "riskwatch_events_received_total") for w in (a, b))
    assert sent_markers <= set(dead), f"lost: {sorted(sent_markers - set(dead))[:10]}"
    assert processed >= readings_sent, f"{processed} of {readings_sent} readings processed"
    by_community: dict[str, list[RiskWarning]] = defaultdict(list)
    for warning in warnings.values():
        by_community[warning.community_id].append(warning)
    for community, revisions in by_community.items():
        ids = {w.warning_id for w in revisions}
        assert len(ids) == 1, f"{community} opened a second warning instead of continuing the first: {ids}"
        second = next(w for w in revisions if w.revision == 2)
        assert second.change is WarningChange.ESCALATED and second.tier is Tier.I, (community, second)
        expected = {e.series: e.expected for e in second.evidence}[f"{community}/wl-b/water_level"]
        assert expected is not None and abs(expected - 1.0) < 0.01, (
            f"{community} (moved: {community in moved_communities}) relearned its baseline: {expected}"
        )
    repeated = sum(c - 1 for c in dead.values())
    print(
        f"\npartitions {sorted(moved)} moved to B with {len(moved_communities)} communities; "
        f"{len(sent_markers)} markers 0 lost, {repeated} reprocessed; {readings_sent} readings"
    )
