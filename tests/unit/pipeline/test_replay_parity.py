"""``riskwatch replay`` warns on the same readings, at the same tiers, as the worker does.

Replay scores are only worth comparing with other tools if its ``active`` and ``tier``
columns are what an operator would have seen: the same readings, one message each, go
through the worker's :class:`~pipeline.processing.processor.EventProcessor` and through replay's
:class:`~pipeline.commands.replay.AssessmentPolicy`. The warning must open and resolve at
the same reading in both, at the same tier after every reading: a replayed signal that
carried no value was graded MINOR on the impact axis (tier IV) where the worker, grading
the gauge's rise or the reading against its lines, warned at III.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from detectors.ensemble import PerMetricDevice
from detectors.evaluation.replay import replay
from detectors.limits import LimitRule, PhysicalLimits
from pipeline.clock import ManualClock
from pipeline.commands.replay import REPLAY_DEVICE, AssessmentPolicy
from pipeline.config import Settings
from pipeline.devices.entry import DeviceEntry
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.live_detector import live_series_model
from pipeline.processing.processor import EventProcessor, InboundMessage
from schemas.events import CANONICAL_UNITS, SensorType

T0 = datetime(2026, 6, 1, tzinfo=UTC)
GAUGE_LINES = {"warning_line": 1.4, "guaranteed_line": 1.8}
"""A gauge's site lines (m): its warning level III, its guaranteed level II."""


@dataclass(frozen=True)
class Readings:
    """One device's readings, a minute apart from :data:`T0`, and its site lines (none when empty)."""

    sensor_type: SensorType
    values: np.ndarray
    lines: dict[str, float]

    @property
    def stamps(self) -> list[datetime]:
        """Each reading's event time."""
        return [T0 + timedelta(minutes=i) for i in range(self.values.size)]


def worker_tiers(settings: Settings, readings: Readings) -> np.ndarray:
    """The open warning's tier after each reading in the worker (0: none), one reading per message,
    with the device's site lines registered."""
    sensor_type, lines = readings.sensor_type, readings.lines
    clock = ManualClock(T0)
    processor = EventProcessor(settings, PipelineMetrics(), clock, None)
    if lines:
        entry = {"device_id": "dev-1", "community_id": "c1", "latitude": 0.0, "longitude": 0.0}
        entry |= {"sensor_type": sensor_type.value, "installed_at": T0.isoformat(), **lines}
        processor.registry.apply(b"dev-1", json.dumps(entry).encode())
    topic = TopicNames.from_settings(settings).readings
    tier, tiers = 0, []
    for offset, (at, value) in enumerate(zip(readings.stamps, readings.values, strict=True)):
        clock.advance(at + timedelta(seconds=1) - clock.now())  # received just after it was read
        reading = {
            "kind": "sensor_reading",
            "event_id": f"r-{offset}",
            "community_id": "c1",
            "event_time": at.isoformat(),
            "device_id": "dev-1",
            "sensor_type": sensor_type.value,
            "value": float(value),
            "unit": CANONICAL_UNITS[sensor_type],
        }
        body = json.dumps([reading]).encode()
        message = InboundMessage(
            topic=topic, partition=0, offset=offset, key=b"c1", value=body, timestamp_s=at.timestamp()
        )
        for warning in processor.handle(message).warnings:
            tier = warning.tier.value if warning.is_open else 0
        tiers.append(tier)
    return np.array(tiers)


def replay_tiers(settings: Settings, readings: Readings) -> np.ndarray:
    """The ``tier`` column ``riskwatch replay --kind SENSOR_TYPE`` writes for the same readings,
    with the same site lines given to its device."""
    sensor_type, lines = readings.sensor_type, readings.lines
    limits = PhysicalLimits()
    if lines:
        entry = DeviceEntry(
            device_id=REPLAY_DEVICE,
            community_id="c1",
            latitude=0.0,
            longitude=0.0,
            sensor_type=sensor_type,
            installed_at=T0,
            **lines,
        )
        rule = entry.limit_rule()
        assert isinstance(rule, LimitRule), f"site lines {lines} must give the device a limit rule"
        limits = limits.with_device_rule(REPLAY_DEVICE, rule)
    kind = sensor_type.value
    policy = AssessmentPolicy(settings, f"c1/dev-1/{kind}", kind, "test", limits=limits)
    model = PerMetricDevice(live_series_model(settings, kind))
    return replay(readings.stamps, {kind: readings.values}, model, policy).tier


def step(before: float, during: float, noise: float) -> np.ndarray:
    """Five quiet hours at ``before``, 40 minutes at ``during``, 90 back (1-minute readings)."""
    values = np.concatenate([np.full(300, before), np.full(40, during), np.full(90, before)])
    return values + np.random.default_rng(3).normal(0.0, noise, values.size)


@pytest.mark.parametrize(
    ("readings", "peak_tier"),
    [
        pytest.param(Readings(SensorType.WATER_LEVEL, step(1.0, 1.6, 0.01), {}), 3, id="gauge-rise-0.6m"),
        pytest.param(
            Readings(SensorType.WATER_LEVEL, step(1.0, 1.9, 0.01), GAUGE_LINES), 2, id="gauge-past-its-lines"
        ),
        pytest.param(Readings(SensorType.GAS_CH4, step(0.5, 12.0, 0.05), {}), 3, id="ch4-past-type-lines"),
    ],
)
def test_replay_warns_at_the_tiers_the_worker_does(readings: Readings, peak_tier: int) -> None:
    settings = Settings()
    live = worker_tiers(settings, readings)
    replayed = replay_tiers(settings, readings)
    assert live[302:340].all() and not live[:300].any() and not live[-30:].any(), "the worker warned"
    assert live[302:340].min() == peak_tier, f"the worker's tier on the incident: {set(live[302:340])}"
    opened = np.flatnonzero(np.diff(live > 0, prepend=False)).tolist()
    assert np.flatnonzero(np.diff(replayed > 0, prepend=False)).tolist() == opened
    assert replayed.tolist() == live.tolist()
