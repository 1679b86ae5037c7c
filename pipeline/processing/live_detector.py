"""The one place that decides which model a series gets: :func:`live_series_model`.

The worker (:func:`pipeline.processing.processor.detector_for`) and ``riskwatch replay``
both build their detectors from it, so an offline replay runs the model the
live pipeline runs, with the same settings; they cannot drift apart.

A sensor type of the product (``water_level``, ``gas_ch4``…) brings its
profile (:mod:`pipeline.assess.sensor_profiles`): the dangerous direction and the
noise floor. Anything else (``generic``, the default of ``riskwatch replay``,
e.g. for NAB's files) is judged in both directions with no floor. The family
follows from that (:func:`detectors.ensemble.default_detector`).

>>> from pipeline.config import Settings
>>> live_series_model(Settings(), "power")
SeriesModel(kind='power', direction=<Direction.DOWN: 'down'>, min_spread=2.0, warmup=30, alpha=0.02)
>>> live_detector(Settings(), "water_level").kind, live_detector(Settings(), "generic").kind
('held_baseline', 'multiscale_level')
"""

from __future__ import annotations

from detectors.base import Detector
from detectors.ensemble import SeriesModel
from pipeline.assess.sensor_profiles import SENSOR_PROFILES, SensorProfile
from pipeline.config import Settings

_PROFILES: dict[str, SensorProfile] = {sensor.value: profile for sensor, profile in SENSOR_PROFILES.items()}


def live_series_model(settings: Settings, kind: str) -> SeriesModel:
    """The recipe of a new series of sensor type ``kind`` under ``settings``."""
    profile = _PROFILES.get(kind)
    if profile is None:
        return SeriesModel(kind, warmup=settings.detector_warmup, alpha=settings.detector_alpha)
    return SeriesModel(
        kind,
        direction=profile.direction,
        min_spread=profile.min_spread,
        warmup=settings.detector_warmup,
        alpha=settings.detector_alpha,
    )


def live_detector(settings: Settings, kind: str) -> Detector:
    """A fresh detector for a new series of sensor type ``kind``, as the worker builds it."""
    return live_series_model(settings, kind).build()
