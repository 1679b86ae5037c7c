"""The live models in their batch form (:mod:`detectors.batch`) score and learn as the per-reading form.

Every sensor type's model and a generic series', as the worker builds them
(:func:`~pipeline.processing.live_detector.live_detector`): drawn readings (hypothesis), a
NAB file (skipped where ``../shared`` is absent), and the worker itself, whose messages of
20 readings go through the batch step while a flood's warning holds series mid-message.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import batch
from detectors.base import Detector, Score
from detectors.batch import observe_batch, observe_reading
from detectors.bench import load_corpus
from detectors.ensemble import GENERIC
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.live_detector import live_detector, live_series_model
from pipeline.processing.processor import EventProcessor, InboundMessage, detector_for
from schemas.events import SensorType

NAB_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "nab"
NAB_FILE = "realKnownCause/machine_temperature_system_failure.csv"
KINDS = [GENERIC, *(sensor.value for sensor in SensorType)]
SETTINGS = Settings(detector_warmup=5)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def assert_same_in_both_forms(
    kind: str, values: list[float], ats: list[datetime], warned: list[bool]
) -> None:
    """Two fresh live models of ``kind``: the batch form's scores and state are the per-reading form's."""
    batched, single = live_detector(SETTINGS, kind), live_detector(SETTINGS, kind)
    got = observe_batch([batched] * len(values), values, ats, warned)
    want = [observe_reading(single, v, at, w) for v, at, w in zip(values, ats, warned, strict=True)]
    assert got == want
    assert pickle.dumps(batched) == pickle.dumps(single)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.one_of(
                st.floats(-1.0, 1.0),  # in the sensor's noise floor: the common reading
                st.floats(-1.0, 1.0),
                st.floats(-30.0, 30.0),
                st.sampled_from([math.nan, math.inf]),
            ),
            st.sampled_from([*[60.0] * 8, 0.0, 100_000.0]),
            st.sampled_from([False] * 6 + [True]),
        ),
        min_size=1,
        max_size=150,
    )
)
def test_drawn_readings_score_alike_in_both_forms(kind: str, steps: list[tuple[float, float, bool]]) -> None:
    """Readings in units of the sensor's noise floor after a quiet, calibrating start."""
    floor = live_series_model(SETTINGS, kind).min_spread or 1.0
    rows = [(0.1 * (i % 3), 60.0, False) for i in range(60)] + steps
    values = [10.0 + floor * deviation for deviation, _, _ in rows]
    ats, at = [], T0
    for _, gap, _ in rows:
        at += timedelta(seconds=gap)
        ats.append(at)
    assert_same_in_both_forms(kind, values, ats, [flag for _, _, flag in rows])


@pytest.mark.parametrize("kind", KINDS)
def test_a_nab_file_scores_alike_in_both_forms(kind: str) -> None:
    if not (NAB_DIR / "data" / NAB_FILE).is_file():
        pytest.skip(f"../shared/datasets/nab not present: no NAB file at {NAB_DIR / 'data' / NAB_FILE}")
    [item] = [c for c in load_corpus(NAB_DIR) if c.series.name == NAB_FILE]
    n = len(item.values)
    warned = [n // 2 <= i < n // 2 + 500 for i in range(n)]  # a warned stretch in the middle
    assert_same_in_both_forms(kind, item.values, list(item.series.timestamps), warned)


def flood_messages(devices: int = 20, ticks: int = 160) -> list[bytes]:
    """One community's gateway: a reading of each of its gauges per message, a minute apart; from
    tick 120 the gauges rise one after another, so a warning opens in the middle of a message."""
    messages = []
    for tick in range(ticks):
        at = (T0 + timedelta(minutes=tick)).isoformat()
        events = [
            {
                "kind": "sensor_reading",
                "event_id": f"c1-d{d}-{tick}",
                "community_id": "c1",
                "event_time": at,
                "device_id": f"d{d}",
                "sensor_type": "water_level",
                "value": 1.0 + 0.005 * ((tick + d) % 3) + (0.8 if tick >= 120 and d <= tick - 115 else 0.0),
                "unit": "m",
            }
            for d in range(devices)
        ]
        messages.append(json.dumps(events).encode())
    return messages


@dataclass
class WorkerRun:
    """What the worker did with :func:`flood_messages`: its warnings, each message's ``warned``
    flags (one per reading), every score, and each series' model after the last message."""

    warnings: list[tuple[object, ...]] = field(default_factory=list)
    flags: list[list[bool]] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    states: dict[str, bytes] = field(default_factory=dict)

    def warned(self, asked: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
        """``asked``, each answer kept in the current message's flags."""

        def recorded(community: str, sensor_type: str) -> bool:
            self.flags[-1].append(asked(community, sensor_type))
            return self.flags[-1][-1]

        return recorded


def run_worker(
    settings_: Settings, step: Callable[[Detector, float, datetime | None, bool], Score]
) -> WorkerRun:
    """Hand :func:`flood_messages` to a worker's processor whose detector bank steps each reading
    with ``step`` (the bank's own step, :func:`detectors.batch.observe`, is swapped for it)."""
    topic = TopicNames.from_settings(settings_).readings
    bank = detector_for(settings_)
    processor = EventProcessor(settings_, PipelineMetrics(), ManualClock(T0 + timedelta(hours=3)), bank)
    run = WorkerRun()

    def recorded(detector: Detector, value: float, at: datetime | None, warned: bool) -> Score:
        run.scores.append(step(detector, value, at, warned))
        return run.scores[-1]

    processor.sensors._warned = run.warned(processor.sensors._warned)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch, "observe", recorded)
        for offset, value in enumerate(flood_messages()):
            run.flags.append([])
            outcome = processor.handle(InboundMessage(topic, 0, offset, b"c1", value))
            run.warnings += [(w.tier, w.change, w.revision) for w in outcome.warnings]
    run.states = {key: pickle.dumps(detector) for key, detector in bank.items()}
    return run


def test_the_worker_takes_the_batch_step_with_the_per_reading_results() -> None:
    """The worker's messages give the same scores and warnings and leave every series' model as the
    per-reading form does, while the flood's warning turns ``warned`` on between readings of one
    message."""
    settings_ = Settings(detector_warmup=30, hold_while_warned=True)
    batched = run_worker(settings_, batch.observe)
    single = run_worker(settings_, observe_reading)
    assert any(True in message and False in message for message in batched.flags), "warned mid-message"
    assert batched.flags == single.flags
    assert len(batched.scores) == 20 * 160 and batched.scores == single.scores
    assert batched.warnings and batched.warnings == single.warnings
    assert len(batched.states) == 20 and batched.states == single.states
