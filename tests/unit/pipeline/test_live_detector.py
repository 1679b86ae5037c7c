"""The live worker and ``riskwatch replay`` build the same model from the same settings."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detectors.base import Score
from detectors.ensemble import GENERIC, PerMetricDevice
from detectors.hold import HeldBaseline
from detectors.series import SeriesDetectors
from detectors.state import StateHeader
from pipeline.assess.sensor_profiles import SENSOR_PROFILES
from pipeline.cli import main
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.live_detector import live_detector, live_series_model
from pipeline.processing.processor import EventProcessor, InboundMessage, detector_for
from schemas.events import SensorType

T0 = datetime(2024, 5, 1)
KINDS = [GENERIC, *(sensor.value for sensor in SensorType)]


@pytest.mark.parametrize("kind", KINDS)
def test_worker_and_replay_build_one_model_per_kind(kind: str) -> None:
    settings = Settings(detector_warmup=12, detector_alpha=0.05)
    worker = detector_for(settings).fresh(kind)
    replayed = PerMetricDevice(live_series_model(settings, kind)).model.build()
    assert StateHeader.of(worker) == StateHeader.of(replayed) == StateHeader.of(live_detector(settings, kind))
    assert live_series_model(settings, kind).warmup == 12


def test_sensor_types_get_their_profile_and_the_sustained_model() -> None:
    for sensor, profile in SENSOR_PROFILES.items():
        model = live_series_model(Settings(), sensor.value)
        assert (model.direction, model.min_spread) == (profile.direction, profile.min_spread)
        built = model.build()
        assert isinstance(built, HeldBaseline) and built.model.kind == "ewma_z", (
            "a floor makes the z-score meaningful"
        )
    assert live_series_model(Settings(), GENERIC).build().kind == "multiscale_level"


def water_level(n: int = 600) -> np.ndarray:
    """A gauge at 1.2 m; a flood rises from row 300 and lasts to the end of the file."""
    rng = np.random.default_rng(4)
    values = 1.2 + rng.normal(0.0, 0.01, n)
    values[300:330] += np.linspace(0.1, 0.6, 30)
    values[330:] += 0.6
    return values


class RecordingDetectors(SeriesDetectors):
    """The worker's detector bank, keeping the risk of every score it gives."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(detector_for(settings)._factory)
        self.risks: list[float] = []
        self.warned: list[bool] = []

    def observe(self, *args: Any, **kwargs: Any) -> Score:
        score = super().observe(*args, **kwargs)
        self.risks.append(score.risk)
        self.warned.append(kwargs.get("warned", False))
        return score


@pytest.mark.parametrize("hold_while_warned", [False, True])
def test_replay_scores_exactly_as_the_worker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    hold_while_warned: bool,
) -> None:
    """Replay's ``anomaly_score`` is the worker's processor's score, row by row: the same model,
    and, with ``hold_while_warned``, once the flood warning is open the series learns nothing on
    both sides (its hazard is warned). The flood lasts to the end, so both sides' assessments
    keep it open to the last row, and learning follows that."""
    monkeypatch.setenv("RISKWATCH_DETECTOR_WARMUP", "40")
    monkeypatch.setenv("RISKWATCH_HOLD_WHILE_WARNED", str(hold_while_warned).lower())
    values = water_level()
    stamps = [T0 + timedelta(minutes=i) for i in range(len(values))]
    data = tmp_path / "data" / "wl.csv"
    data.parent.mkdir()
    rows = (f"{t.isoformat()},{v!r}\n" for t, v in zip(stamps, values.tolist(), strict=True))
    data.write_text("timestamp,level\n" + "".join(rows))
    assert main(["replay", str(data.parent), "--out", str(tmp_path / "out"), "--kind", "water_level"]) == 0
    with (tmp_path / "out" / "wl.csv").open(newline="") as handle:
        replayed = [float(row["anomaly_score"]) for row in csv.DictReader(handle)]

    settings = Settings(detector_warmup=40, hold_while_warned=hold_while_warned)
    bank = RecordingDetectors(settings)
    aware = [at.replace(tzinfo=UTC) for at in stamps]
    processor = EventProcessor(settings, PipelineMetrics(), ManualClock(aware[-1]), bank)
    readings = TopicNames.from_settings(settings).readings
    for offset, (value, at) in enumerate(zip(values.tolist(), aware, strict=True)):
        event = {
            "kind": "sensor_reading",
            "event_id": f"e-{offset}",
            "community_id": "c1",
            "event_time": at.isoformat(),
            "device_id": "wl-1",
            "sensor_type": "water_level",
            "value": value,
            "unit": "m",
        }
        processor.handle(InboundMessage(readings, 0, offset, b"c1", json.dumps(event).encode()))
    assert replayed == bank.risks
    assert all(risk == 0.0 for risk in replayed[:40]), "the configured warm-up, on both sides"
    assert max(replayed[300:330]) > 0.5
    assert any(bank.warned) is hold_while_warned, "the flood warning held the series' baseline when asked"
    capsys.readouterr()
