"""``riskwatch replay`` keeps a warning open on the same readings as the worker does.

Replay scores are only worth comparing with other tools if its ``active`` column is the
state an operator would have seen: the same readings, one message each, go through the
worker's :class:`~pipeline.processing.EventProcessor` and through replay's
:class:`~pipeline.commands.replay.AssessmentPolicy`, and the warning must open and resolve
at the same reading in both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np

from detectors.ensemble import PerMetricDevice
from detectors.evaluation.replay import replay
from pipeline.clock import ManualClock
from pipeline.commands.replay import AssessmentPolicy
from pipeline.config import Settings
from pipeline.live_detector import live_series_model
from pipeline.metrics import PipelineMetrics
from pipeline.processing import EventProcessor, InboundMessage
from pipeline.topics import TopicNames

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def worker_open(settings: Settings, stamps: list[datetime], values: np.ndarray) -> np.ndarray:
    """1 after each reading while the worker holds a warning open, one reading per message."""
    clock = ManualClock(T0)
    processor = EventProcessor(settings, PipelineMetrics(), clock, None)
    topic = TopicNames.from_settings(settings).readings
    state, open_after = 0, []
    for offset, (at, value) in enumerate(zip(stamps, values, strict=True)):
        clock.advance(at + timedelta(seconds=1) - clock.now())  # received just after it was read
        reading = {
            "kind": "sensor_reading",
            "event_id": f"r-{offset}",
            "community_id": "c1",
            "event_time": at.isoformat(),
            "device_id": "dev-1",
            "sensor_type": "water_level",
            "value": float(value),
            "unit": "m",
        }
        body = json.dumps([reading]).encode()
        message = InboundMessage(
            topic=topic, partition=0, offset=offset, key=b"c1", value=body, timestamp_s=at.timestamp()
        )
        for warning in processor.handle(message).warnings:
            state = int(warning.is_open)
        open_after.append(state)
    return np.array(open_after)


def test_replay_opens_and_resolves_a_warning_on_the_readings_the_worker_does() -> None:
    settings = Settings()
    rng = np.random.default_rng(3)
    level = np.concatenate([np.full(300, 1.0), np.full(40, 1.6), np.full(90, 1.0)])
    level += rng.normal(0.0, 0.01, level.size)
    stamps = [T0 + timedelta(minutes=i) for i in range(level.size)]
    policy = AssessmentPolicy(settings, "c1/dev-1/water_level", "water_level", "test")
    model = PerMetricDevice(live_series_model(settings, "water_level"))
    replayed = replay(stamps, {"water_level": level}, model, policy).active
    live = worker_open(settings, stamps, level)
    assert live[302:340].all() and not live[:300].any() and not live[-30:].any(), "the worker warned"
    changed = np.flatnonzero(np.diff(replayed, prepend=0)).tolist()
    assert changed == np.flatnonzero(np.diff(live, prepend=0)).tolist()
