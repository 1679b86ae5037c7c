"""The live sensor path, replayed: a lasting flood keeps its warning until the level is back,
and fresh series of autocorrelated, drifting noise open none, at 1 s, 1 min and 1 h spacing;
nor does a fresh generic device whose metrics are such noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from detectors.ensemble import PerMetricDevice, SeriesModel, default_device
from detectors.evaluation.replay import ReplayResult, replay
from pipeline.assess.sensor_profiles import SENSOR_PROFILES
from pipeline.commands.replay import AssessmentPolicy
from pipeline.config import Settings
from pipeline.processing.live_detector import live_series_model
from schemas.events import SensorType

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def replayed(kind: str, values: np.ndarray, step: timedelta) -> ReplayResult:
    settings = Settings()
    stamps = [T0 + i * step for i in range(len(values))]
    policy = AssessmentPolicy(settings, f"c1/d1/{kind}", kind, "test")
    return replay(stamps, {kind: values}, PerMetricDevice(live_series_model(settings, kind)), policy)


def openings(result: ReplayResult) -> int:
    return int(np.sum(np.diff(result.active, prepend=0) == 1))


def test_a_12_hour_flood_plateau_keeps_its_warning_and_resolves_when_the_level_is_back() -> None:
    rng = np.random.default_rng(1)
    before, plateau, after = 2 * 24 * 60, 12 * 60, 6 * 60
    gauge = np.concatenate([np.full(before, 0.57), np.full(plateau, 1.25), np.full(after, 0.57)])
    gauge += rng.normal(0.0, 0.005, gauge.size)
    result = replayed("water_level", gauge, timedelta(minutes=1))
    held = result.active[before : before + plateau]
    assert openings(result) == 1 and not result.active[:before].any()
    assert held.mean() >= 0.95, f"open for {held.mean():.0%} of the plateau"
    assert len(set(result.tier[before + 10 : before + plateau].tolist())) == 1, "a steady tier"
    back = result.active[before + plateau :]
    assert not back[3 * 60 :].any(), "resolved within 3 h of the level being back"


IN_BAND = {SensorType.WATER_LEVEL: 2.0, SensorType.PM25: 10.0, SensorType.GAS_CH4: 0.0}
"""Where each type's noise starts: below its lowest physical line (PM2.5 75 ug/m3, CH4 10 %LEL)
all the way, since a reading past a line warns from the first reading, live and in replay."""


def drifting_noise(kind: SensorType, seed: int, n: int = 3_000) -> np.ndarray:
    """AR(1) noise (phi 0.95) of 3 noise floors and a drift of 10 floors over the series."""
    return drifting(SENSOR_PROFILES[kind].min_spread, seed, n, IN_BAND[kind])


def drifting(floor: float, seed: int, n: int = 3_000, start: float | None = None) -> np.ndarray:
    """AR(1) noise (phi 0.95) of 3 ``floor`` and a drift of 10 ``floor`` over the series, from
    ``start`` (100 ``floor`` when not given)."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, 3.0 * floor * np.sqrt(1 - 0.95**2), n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.95 * noise[i - 1] + shocks[i]
    return (100.0 * floor if start is None else start) + noise + np.linspace(0.0, 10.0 * floor, n)


@pytest.mark.parametrize("step", [timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)], ids=str)
@pytest.mark.parametrize("kind", [SensorType.WATER_LEVEL, SensorType.PM25, SensorType.GAS_CH4])
def test_fresh_drifting_autocorrelated_noise_opens_no_warning(kind: SensorType, step: timedelta) -> None:
    opened = [openings(replayed(kind.value, drifting_noise(kind, seed), step)) for seed in range(3)]
    assert opened == [0, 0, 0]


@pytest.mark.parametrize("step", [timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)], ids=str)
def test_a_fresh_generic_device_of_drifting_autocorrelated_noise_opens_no_warning(step: timedelta) -> None:
    stamps = [T0 + i * step for i in range(3_000)]
    opened = []
    for seed in range(3):
        metrics = {"a": drifting(1.0, seed), "b": drifting(0.1, seed + 10), "c": drifting(5.0, seed + 20)}
        policy = AssessmentPolicy(Settings(), "c1/d1/pump", "generic", "test")
        opened.append(openings(replay(stamps, metrics, default_device(SeriesModel(), len(metrics)), policy)))
    assert opened == [0, 0, 0]


@pytest.mark.parametrize("step", [timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)], ids=str)
def test_a_fresh_single_generic_series_of_drifting_autocorrelated_noise_opens_no_warning(
    step: timedelta,
) -> None:
    """What ``riskwatch replay`` does with a one-column CSV (the generic series model through the
    replayed assessment): its record floors rise with the noise's autocorrelation."""
    stamps = [T0 + i * step for i in range(3_000)]
    opened = []
    for seed in range(3):
        policy = AssessmentPolicy(Settings(), "c1/d1/series", "generic", "test")
        device = default_device(live_series_model(Settings(), "generic"), 1)
        opened.append(openings(replay(stamps, {"value": drifting(1.0, seed)}, device, policy)))
    assert opened == [0, 0, 0]
