"""The worker's per-message decisions, without a broker."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.metrics import PipelineMetrics
from pipeline.processing import EventProcessor, InboundMessage
from pipeline.topics import TopicNames
from schemas import Hazard, RejectReason, Tier

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = Settings(detector_warmup=30)
TOPICS = TopicNames.from_settings(SETTINGS)


def readings(community: str, values: list[float], sensor: str = "water_level", unit: str = "m") -> bytes:
    start = NOW - timedelta(minutes=len(values))
    return json.dumps(
        [
            {
                "kind": "sensor_reading",
                "event_id": f"{community}-{i}",
                "community_id": community,
                "event_time": (start + timedelta(minutes=i)).isoformat(),
                "device_id": "dev-1",
                "sensor_type": sensor,
                "value": v,
                "unit": unit,
            }
            for i, v in enumerate(values)
        ]
    ).encode()


def message(value: bytes, key: str, topic: str = TOPICS.readings, offset: int = 0) -> InboundMessage:
    return InboundMessage(
        topic=topic,
        partition=0,
        offset=offset,
        key=key.encode(),
        value=value,
        timestamp_s=NOW.timestamp() - 0.5,
    )


def samples(metrics: PipelineMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def make_processor() -> tuple[EventProcessor, PipelineMetrics]:
    metrics = PipelineMetrics()
    return EventProcessor(SETTINGS, metrics, ManualClock(NOW)), metrics


def test_a_spike_after_warm_up_raises_a_flood_warning_for_its_community() -> None:
    processor, metrics = make_processor()
    rng = random.Random(1)
    quiet = [1.0 + rng.gauss(0, 0.005) for _ in range(60)]
    assert processor.handle(message(readings("c-quiet", quiet), "c-quiet")).warnings == []
    outcome = processor.handle(message(readings("c-hot", [*quiet, 1.16]), "c-hot"))
    [warning] = outcome.warnings
    assert (warning.community_id, warning.hazard, warning.tier) == ("c-hot", Hazard.FLOOD, Tier.II)
    assert warning.evidence[0].series == "c-hot/dev-1/water_level"
    assert warning.evidence[0].value == 1.16
    found = samples(metrics)
    assert found[("riskwatch_events_received_total", (("kind", "sensor_reading"),))] == 121
    assert found[("riskwatch_warning_changes_total", (("change", "opened"), ("tier", "II")))] == 1
    assert found[("riskwatch_series_monitored", ())] == 2
    assert found[("riskwatch_processing_latency_seconds_count", (("kind", "sensor_reading"),))] == 2


def test_nothing_warns_while_warming_up() -> None:
    processor, _ = make_processor()
    assert processor.handle(message(readings("c-1", [1.0] * 10 + [9.0]), "c-1")).warnings == []


def test_bad_messages_become_counted_dead_letters_and_processing_goes_on() -> None:
    processor, metrics = make_processor()
    bad = processor.handle(message(b"{nope", "c-1", offset=7))
    [letter] = bad.dead_letters
    assert (letter.reason_class, letter.offset, letter.raw) == (RejectReason.NOT_JSON, 7, b"{nope")
    good = processor.handle(message(readings("c-1", [1.0]), "c-1", offset=8))
    assert good.dead_letters == []
    assert samples(metrics)[("riskwatch_dead_letters_total", (("reason", "not_json"),))] == 1


def test_reports_and_telemetry_are_validated_on_their_own_topics() -> None:
    processor, metrics = make_processor()
    telemetry: dict[str, Any] = {
        "kind": "device_telemetry",
        "event_id": "t-1",
        "community_id": "c-1",
        "event_time": NOW.isoformat(),
        "device_id": "dev-1",
    }
    assert (
        processor.handle(message(json.dumps(telemetry).encode(), "c-1", TOPICS.telemetry)).dead_letters == []
    )
    wrong = processor.handle(message(json.dumps(telemetry).encode(), "c-1", TOPICS.reports))
    assert [d.reason_class for d in wrong.dead_letters] == [RejectReason.WRONG_TOPIC]
    assert samples(metrics)[("riskwatch_events_received_total", (("kind", "device_telemetry"),))] == 1


def test_active_warnings_are_exported_by_tier_hazard_and_community() -> None:
    processor, metrics = make_processor()
    rng = random.Random(2)
    quiet = [1.0 + rng.gauss(0, 0.005) for _ in range(60)]
    processor.handle(message(readings("c-hot", [*quiet, 1.5]), "c-hot"))
    found = samples(metrics)
    key = ("riskwatch_warnings_active", (("community", "c-hot"), ("hazard", "flood"), ("tier", "I")))
    assert found[key] == 1
    assert not any(
        name == "riskwatch_warnings_active" and dict(labels)["community"] != "c-hot" for name, labels in found
    )


def test_consumer_lag_is_exported_per_partition() -> None:
    metrics = PipelineMetrics()
    metrics.track_consumer_lag(lambda: {("t.readings", 1): 12})
    assert (
        samples(metrics)[("riskwatch_consumer_lag_messages", (("partition", "1"), ("topic", "t.readings")))]
        == 12
    )
