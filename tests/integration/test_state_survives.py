"""State survives a kill -9: a restarted worker resumes with learned baselines and open warnings."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess
from schemas import RiskWarning, Tier, WarningChange
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, publish, read_until
from tests.integration.test_end_to_end import readings

DEVICES = ("wl-a", "wl-b", "wl-c")


def device(batch: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [{**r, "device_id": name, "event_id": f"{name}-{r['event_id']}"} for r in batch]


def test_a_restarted_worker_resumes_its_models_and_its_open_warning(
    broker: EmbeddedBroker, producer: KafkaProducer, tmp_path: Path
) -> None:
    settings = isolated_settings(broker, tmp_path, state_key="s" * 32, checkpoint_interval_s=0.3)
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    rng = random.Random(11)
    # 2.2 m above normal: extreme, but one gauge alone is severe and orange; a second makes it red.
    history = readings("c-keep", [*(1.0 + rng.gauss(0, 0.004) for _ in range(60)), 3.2, 3.2, 3.2])
    calm = readings("c-keep", [1.0 + rng.gauss(0, 0.004) for _ in range(63)])
    batch = [*device(history, "wl-a"), *device(calm, "wl-b"), *device(calm, "wl-c")]
    log = ARTIFACTS / f"state-{settings.app_id}.log"
    first = WorkerProcess(settings, log)
    first.start()
    first.wait_ready(60)
    publish(producer, topics.readings, "c-keep", batch)

    def warnings(records: list[Any]) -> list[RiskWarning]:
        """Distinct revisions for c-keep: at-least-once delivery may repeat a record around a
        crash, and consumers keep one per (warning id, revision), as the README says."""
        distinct: dict[tuple[str, int], RiskWarning] = {}
        for r in records:
            warning = RiskWarning.model_validate_json(r.value)
            if warning.community_id == "c-keep":
                distinct.setdefault((warning.warning_id, warning.revision), warning)
        return list(distinct.values())

    [opened] = warnings(read_until(broker, topics.warnings, lambda rs: bool(warnings(rs))))

    def checkpointed() -> bool:
        samples = scrape(first.base_url)
        return (
            total(samples, "riskwatch_events_received_total") >= len(batch)
            and total(samples, "riskwatch_checkpoint_records_total", state="detector") >= len(DEVICES)
            and total(samples, "riskwatch_checkpoint_records_total", state="assessment") >= 1
        )

    await_condition(checkpointed, 30, f"no checkpoint was written:\n{first.log_tail()}")
    first.process.kill()
    first.process.wait(10)

    restarted = settings.model_copy(update={"web_port": free_port()})
    with WorkerProcess(restarted, log) as second:
        second.wait_ready(60)
        restored = scrape(second.base_url)
        assert total(restored, "riskwatch_restored_states_total", state="detector", outcome="restored") == 3
        assert total(restored, "riskwatch_restored_states_total", state="assessment", outcome="restored") == 1
        assert total(restored, "riskwatch_series_monitored") == len(DEVICES), "restored models held"
        assert total(restored, "riskwatch_warnings_active", community="c-keep") == 1
        rise = readings("c-keep", [3.3, 3.3, 3.3])
        publish(producer, topics.readings, "c-keep", device(rise, "wl-b"))
        after = warnings(read_until(broker, topics.warnings, lambda rs: len(warnings(rs)) >= 2))
    seen = [(w.warning_id[:8], w.revision, w.change.value, w.tier.name) for w in after]
    assert after[0] == opened, seen
    escalated = after[1]
    assert (escalated.warning_id, escalated.revision, escalated.change) == (
        opened.warning_id,
        2,
        WarningChange.ESCALATED,
    ), f"the restarted worker must continue the open episode, not open a new one: {seen}"
    assert escalated.tier is Tier.I
    sensors = {e.series: e for e in escalated.evidence}
    assert sensors["c-keep/wl-b/water_level"].expected is not None
    assert abs(sensors["c-keep/wl-b/water_level"].expected - 1.0) < 0.01, (
        "the baseline was restored, not relearned"
    )
