"""The live worker and ``riskwatch replay`` build the same model from the same settings."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from detectors.ensemble import GENERIC, PerMetricDevice
from detectors.hold import HeldBaseline
from detectors.state import StateHeader
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.live_detector import live_detector, live_series_model
from pipeline.processing import detector_for
from pipeline.sensor_profiles import SENSOR_PROFILES
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


def water_level(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(4)
    values = 1.2 + rng.normal(0.0, 0.01, n)
    values[300:330] += np.linspace(0.1, 0.6, 30)  # a rising flood
    return values


def test_replay_scores_exactly_as_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RISKWATCH_DETECTOR_WARMUP", "40")
    values = water_level()
    stamps = [T0 + timedelta(minutes=i) for i in range(len(values))]
    data = tmp_path / "data" / "wl.csv"
    data.parent.mkdir()
    rows = (f"{t.isoformat()},{v!r}\n" for t, v in zip(stamps, values.tolist(), strict=True))
    data.write_text("timestamp,level\n" + "".join(rows))
    assert main(["replay", str(data.parent), "--out", str(tmp_path / "out"), "--kind", "water_level"]) == 0
    with (tmp_path / "out" / "wl.csv").open(newline="") as handle:
        replayed = [float(row["anomaly_score"]) for row in csv.DictReader(handle)]

    bank = detector_for(Settings(detector_warmup=40))
    live = [
        bank.observe("c1/wl-1/water_level", "water_level", float(v), t).risk
        for v, t in zip(values, stamps, strict=True)
    ]
    assert replayed == live
    assert all(score == 0.0 for score in live[:40]), "the configured warm-up, on both sides"
    assert max(live[300:330]) > 0.5
    capsys.readouterr()
