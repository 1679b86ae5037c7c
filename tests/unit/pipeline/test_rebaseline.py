"""An operator accepts a frozen series' new normal: refused unless frozen long enough, recorded on
the warnings resting on it, visible in metrics while frozen (issue 15, item 1)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from detectors.hold import HeldBaseline
from pipeline.assess.review import episode_review
from pipeline.cli import main
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.metrics_scrape import parse_exposition
from pipeline.processing.processor import EventProcessor, InboundMessage, Outcome
from schemas.feedback import OPERATOR_ACTION, Rebaseline
from schemas.warning import RiskWarning, WarningChange

T0 = datetime(2026, 8, 1, tzinfo=UTC)
SETTINGS = Settings(rebaseline_after_s=3600.0)
TOPICS = TopicNames.from_settings(SETTINGS)
SERIES = "c-r/wl-1/water_level"


class Gauge:
    """One water-level gauge read once a minute, fed to one processor."""

    def __init__(self) -> None:
        self.metrics = PipelineMetrics()
        self.processor = EventProcessor(SETTINGS, self.metrics, ManualClock(T0 + timedelta(days=2)), None)
        self.minute = 0
        self.rng = random.Random(3)
        self.warnings: list[RiskWarning] = []

    def read(self, level: float, minutes: int) -> None:
        events = [
            {
                "kind": "sensor_reading",
                "event_id": f"e-{self.minute + i}",
                "community_id": "c-r",
                "event_time": (T0 + timedelta(minutes=self.minute + i)).isoformat(),
                "device_id": "wl-1",
                "sensor_type": "water_level",
                "value": level + self.rng.gauss(0, 0.005),
                "unit": "m",
            }
            for i in range(minutes)
        ]
        self.minute += minutes
        message = InboundMessage(TOPICS.readings, 0, self.minute, b"c-r", json.dumps(events).encode())
        self.warnings += self.processor.handle(message).warnings

    def rebaseline(self, series: str = SERIES) -> Outcome:
        request = Rebaseline(
            rebaseline_id=f"rb-{self.minute}",
            community_id="c-r",
            series=series,
            operator="wang.fang",
            reason="levee works raised the pool for the season",
            time=T0 + timedelta(minutes=self.minute),
        )
        outcome = self.processor.act(OPERATOR_ACTION.validate_json(request.model_dump_json()), 0)
        self.warnings += outcome.warnings
        return outcome

    def expected(self) -> float | None:
        detector = self.processor.detectors.get(SERIES)
        assert isinstance(detector, HeldBaseline), detector
        return detector.score_one(1.25, T0 + timedelta(minutes=self.minute)).expected

    def gauge(self, name: str) -> float:
        return parse_exposition(self.metrics.exposition().decode())[(name, ())]


def flooded(hours: float) -> Gauge:
    gauge = Gauge()
    gauge.read(0.57, 120)  # warm-up and calibration on two quiet hours
    gauge.read(1.25, int(hours * 60))
    return gauge


def test_a_series_that_is_not_frozen_is_refused_and_nothing_changes() -> None:
    gauge = Gauge()
    gauge.read(0.57, 120)
    outcome = gauge.rebaseline()
    assert outcome.warnings == []
    assert outcome.refusals == [
        f"rebaseline by wang.fang refused: {SERIES} is not frozen: its baseline follows its readings, "
        "there is no new normal to accept"
    ]
    assert (
        gauge.rebaseline("c-r/nobody/water_level")
        .refusals[0]
        .endswith("has no model on this worker: nothing to rebaseline")
    )


def test_a_freeze_shorter_than_the_minimum_is_refused_with_how_long_it_has_lasted() -> None:
    gauge = flooded(hours=0.5)
    assert gauge.gauge("riskwatch_series_frozen") == 1
    before = gauge.expected()
    outcome = gauge.rebaseline()
    assert "frozen for 0.5 h, less than the 1.0 h before a new normal may be accepted" in outcome.refusals[0]
    assert outcome.warnings == [] and gauge.expected() == before
    assert before is not None and abs(before - 0.57) < 0.05, "the baseline held through the flood"


def test_an_accepted_rebaseline_is_recorded_and_the_baseline_moves_to_the_new_normal() -> None:
    gauge = flooded(hours=2)
    assert gauge.gauge("riskwatch_series_frozen") == 1
    assert gauge.gauge("riskwatch_series_frozen_longest_seconds") >= 3600
    open_before = gauge.warnings[-1]
    outcome = gauge.rebaseline()
    assert outcome.refusals == []
    [recorded] = outcome.warnings
    assert (recorded.change, recorded.caused_by, recorded.tier) == (
        WarningChange.REBASELINED,
        "wang.fang",
        open_before.tier,
    )
    assert recorded.comment == f"new normal of {SERIES}: levee works raised the pool for the season"
    assert recorded.is_open, "recorded, not closed: the ladder ends it when the evidence has gone"
    assert gauge.gauge("riskwatch_series_frozen") == 0
    assert gauge.rebaseline().warnings == [], "a second request finds nothing frozen"
    gauge.read(1.25, 90)
    expected = gauge.expected()
    assert expected is not None and abs(expected - 1.25) < 0.05, "the new normal is the baseline"
    same = [w for w in gauge.warnings if w.warning_id == recorded.warning_id]
    assert same[-1].change is WarningChange.RESOLVED, "the warning ended once its evidence had gone"
    review = episode_review(same)
    assert [(r.operator, r.comment) for r in review.rebaselines] == [("wang.fang", recorded.comment)]
    assert "new normal accepted:" in review.text()


def test_the_cli_refuses_what_is_not_a_series_before_sending_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rebaseline", "c-r wl-1", "--operator", "wang.fang", "--reason", "new weir"]) == 2
    assert "'c-r wl-1' is not a series to rebaseline" in capsys.readouterr().err
