"""A series whose hazard is warned in its community learns nothing while the warning is open
(issue 15, item 1: "or its hazard is warned in its community"), through the worker's processor."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from detectors.hold import HeldBaseline
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.processor import EventProcessor, InboundMessage
from schemas.hazard import Hazard
from schemas.warning import RiskWarning, WarningChange

T0 = datetime(2026, 8, 1, tzinfo=UTC)
SETTINGS = Settings(hold_while_warned=True)
TOPICS = TopicNames.from_settings(SETTINGS)
COMMUNITY = "c-w"
SERIES = f"{COMMUNITY}/wl-1/water_level"
BASELINE = 0.57
RISE_PER_MINUTE = 0.0004
"""Slow enough that no reading deviates from a model that follows it: its lag (rate / alpha,
0.02 m) is one noise floor of a water level."""


class Community:
    """One water-level gauge read once a minute and, at times, residents' flood reports."""

    def __init__(self, settings: Settings = SETTINGS) -> None:
        clock = ManualClock(T0 + timedelta(days=1))
        self.processor = EventProcessor(settings, PipelineMetrics(), clock, None)
        self.minute = 0
        self.offset = 0
        self.rng = random.Random(7)
        self.level = BASELINE
        """The gauge's true level (readings add noise)."""
        self.warnings: list[RiskWarning] = []

    def _send(self, topic: str, events: list[dict[str, object]]) -> None:
        self.offset += 1
        message = InboundMessage(topic, 0, self.offset, COMMUNITY.encode(), json.dumps(events).encode())
        self.warnings += self.processor.handle(message).warnings

    def read(self, level: float, *, rise: float = 0.0, reports_every: int = 0) -> None:
        """One reading a minute, for an hour at ``level`` or, with ``rise``, rising by that much
        a minute up to ``level``; flood reports every ``reports_every`` minutes (0: none), sent
        after the reading of their minute."""
        minutes = round((level - self.level) / rise) if rise else 60
        for i in range(minutes):
            self.level = self.level + rise if rise else level
            at = T0 + timedelta(minutes=self.minute)
            self._send(TOPICS.readings, [self._reading(at, self.level + self.rng.gauss(0, 0.005))])
            if reports_every and i % reports_every == 0:
                self._send(TOPICS.reports, [self._report(at, role) for role in ("police", "grid_worker")])
            self.minute += 1

    def _reading(self, at: datetime, value: float) -> dict[str, object]:
        fields = {"device_id": "wl-1", "sensor_type": "water_level", "value": value, "unit": "m"}
        return _event("sensor_reading", f"e-{self.minute}", at, fields)

    def _report(self, at: datetime, role: str) -> dict[str, object]:
        report_id = f"r-{self.minute}-{role}"
        fields = {
            "report_id": report_id,
            "reporter_role": role,
            "category": "flood",
            "description": "water is coming into the basements of block 4",
            "observed_time": at.isoformat(),
            "severity": 5,
        }
        return _event("resident_report", report_id, at, fields)

    def expected(self) -> float:
        detector = self.processor.detectors.get(SERIES)
        assert isinstance(detector, HeldBaseline), detector
        expected = detector.score_one(self.level, T0 + timedelta(minutes=self.minute)).expected
        assert isinstance(expected, float), "a calibrated held gauge has an expected level"
        return expected

    def warned(self) -> bool:
        return self.processor.assessor.warns_for(COMMUNITY, "water_level")


def _event(kind: str, event_id: str, at: datetime, fields: dict[str, object]) -> dict[str, object]:
    """An event of ``kind`` in the community: the envelope and ``fields``."""
    envelope = {"kind": kind, "event_id": event_id, "community_id": COMMUNITY, "event_time": at.isoformat()}
    return {**envelope, **fields}


def calibrated(settings: Settings = SETTINGS) -> Community:
    community = Community(settings)
    for _ in range(2):  # two quiet hours: warm-up and calibration
        community.read(BASELINE)
    assert not community.warned()
    return community


def test_a_slow_rise_is_followed_when_nothing_is_warned() -> None:
    community = calibrated()
    community.read(BASELINE + 0.06, rise=RISE_PER_MINUTE)
    assert community.expected() > BASELINE + 0.03, "the model follows a rise that never deviates"
    assert community.warnings == []


def test_while_the_hazard_is_warned_by_reports_a_slow_rise_stays_judged_against_the_baseline() -> None:
    community = calibrated()
    community.read(BASELINE + 0.06, rise=RISE_PER_MINUTE, reports_every=5)
    opened = [w for w in community.warnings if w.change is WarningChange.OPENED]
    assert [w.hazard for w in opened] == [Hazard.FLOOD], "the reports opened a flood warning"
    assert all(e.source == "report" for e in opened[0].evidence), "the gauge is no witness of it"
    assert community.warned()
    assert abs(community.expected() - BASELINE) < 0.01, "the pre-incident baseline holds"

    community.read(BASELINE + 0.06)  # the reports stop; the level stays where the rise took it
    assert community.warnings[-1].change is WarningChange.RESOLVED
    assert not community.warned()
    community.read(BASELINE + 0.06)
    assert community.expected() > BASELINE + 0.03, "learning again once the warning resolved"


def test_by_default_a_warned_series_keeps_learning_in_band_readings() -> None:
    """``hold_while_warned`` is off by default (it makes models depend on how the input topics
    interleave, which a restart changes): the same reports warn, and the model follows the rise."""
    community = calibrated(Settings())
    community.read(BASELINE + 0.06, rise=RISE_PER_MINUTE, reports_every=5)
    assert community.warned(), "the reports opened a flood warning"
    assert community.expected() > BASELINE + 0.03, "the model followed the rise though warned"


def test_another_community_s_warning_does_not_hold_the_series() -> None:
    community = calibrated()
    processor = community.processor
    assert processor.assessor.warns_for("elsewhere", "water_level") is False
    assert processor.assessor.warns_for(COMMUNITY, "pm25") is False
