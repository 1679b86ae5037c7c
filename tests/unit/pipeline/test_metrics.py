"""The worker's metrics as Prometheus reads them: stage latencies, detector scores, community activity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from detectors.hold import CALIBRATION_READINGS
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics, TallyHistogram
from pipeline.metrics_scrape import Samples, parse_exposition
from pipeline.processing.processor import EventProcessor, InboundMessage

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = Settings(detector_warmup=10)
TOPICS = TopicNames.from_settings(SETTINGS)


def batch(community: str, values: list[float], end: datetime = NOW) -> InboundMessage:
    """One gateway message: a water-level reading a minute for ``values``, the last at ``end``."""
    readings = [
        {
            "kind": "sensor_reading",
            "event_id": f"{community}-{end.timestamp()}-{i}",
            "community_id": community,
            "event_time": (end - timedelta(minutes=len(values) - 1 - i)).isoformat(),
            "device_id": "wl-1",
            "sensor_type": "water_level",
            "value": value,
            "unit": "m",
        }
        for i, value in enumerate(values)
    ]
    return InboundMessage(TOPICS.readings, 0, 0, community.encode(), json.dumps(readings).encode())


def samples(metrics: PipelineMetrics) -> Samples:
    return parse_exposition(metrics.exposition().decode())


def test_the_tally_histogram_exposes_what_a_prometheus_client_histogram_does() -> None:
    registry = CollectorRegistry()
    reference = Histogram("same_seconds", "Same.", ["stage"], buckets=(0.1, 0.5, 1.0), registry=registry)
    tally = TallyHistogram("same_seconds", "Same.", "stage", buckets=(0.1, 0.5, 1.0))
    for stage, value in [("score", 0.1), ("score", 0.3), ("decode", 0.5), ("decode", 2.0), ("score", 0.0)]:
        reference.labels(stage).observe(value)
        tally.observe(stage, value)
    own = CollectorRegistry()
    own.register(tally)
    assert parse_exposition(generate_latest(own).decode()) == {
        key: value
        for key, value in parse_exposition(generate_latest(registry).decode()).items()
        if not key[0].endswith("_created")
    }


def test_each_message_observes_each_stage_once() -> None:
    metrics = PipelineMetrics()
    processor = EventProcessor(SETTINGS, metrics, ManualClock(NOW))
    processor.handle(batch("c-1", [1.0] * 20))
    processor.handle(InboundMessage(TOPICS.readings, 0, 1, b"c-1", b"not json"))
    found = samples(metrics)
    for stage in ("decode", "score", "assess"):
        assert found[("riskwatch_stage_latency_seconds_count", (("stage", stage),))] == 2
        assert found[("riskwatch_stage_latency_seconds_sum", (("stage", stage),))] >= 0


def test_detector_scores_count_warmed_up_readings_and_see_the_rise() -> None:
    metrics = PipelineMetrics()
    processor = EventProcessor(SETTINGS, metrics, ManualClock(NOW))
    quiet = SETTINGS.detector_warmup + CALIBRATION_READINGS + 10
    processor.handle(batch("c-1", [1.0 + 0.001 * (i % 3) for i in range(quiet)] + [2.0, 2.0]))
    found = samples(metrics)
    water = ("sensor_type", "water_level")
    scored = found[("riskwatch_detector_surprise_decades_count", (water,))]
    assert scored == 10 + 2, "readings of a model warming up or calibrating are not counted"
    below_tier_iv = found[("riskwatch_detector_surprise_decades_bucket", (("le", "4.0"), water))]
    assert scored - below_tier_iv == 2, "the two risen readings score above 4 decades (p < 1e-4)"


def test_each_community_exports_when_its_last_event_was_accepted() -> None:
    metrics = PipelineMetrics()
    clock = ManualClock(NOW)
    processor = EventProcessor(SETTINGS, metrics, clock)
    processor.handle(batch("c-1", [1.0]))
    processor.handle(batch("c-2", [1.0]))
    clock.advance(timedelta(minutes=5))
    processor.handle(batch("c-2", [1.0], end=NOW + timedelta(minutes=5)))
    processor.handle(InboundMessage(TOPICS.readings, 0, 3, b"c-3", b"not json"))
    found = {
        labels: value
        for (name, labels), value in samples(metrics).items()
        if name == "riskwatch_community_last_event_timestamp_seconds"
    }
    assert found == {
        (("community", "c-1"),): NOW.timestamp(),
        (("community", "c-2"),): (NOW + timedelta(minutes=5)).timestamp(),
    }, "a rejected message is no sign of life"
