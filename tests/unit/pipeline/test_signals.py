"""Readings into fusion signals: a spike that comes straight back makes its device suspect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.limits import PhysicalLimits
from pipeline.config import Settings
from pipeline.processing import detector_for
from pipeline.signals import SPIKE_SUSPICION, SensorSignals
from schemas.events import SensorReading

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def ch4(minute: int, value: float) -> SensorReading:
    return SensorReading.model_validate(
        {
            "kind": "sensor_reading",
            "event_id": f"e-{minute}",
            "community_id": "c1",
            "event_time": (T0 + timedelta(minutes=minute)).isoformat(),
            "device_id": "ch4-1",
            "sensor_type": "gas_ch4",
            "value": value,
            "unit": "%LEL",
        }
    )


def findings(signals: SensorSignals, reading: SensorReading) -> list[str]:
    return [s.signal_type for s in signals.signals_for(reading) if s.source == "device_health"]


def test_a_spike_that_returns_at_once_makes_the_next_lone_spike_a_suspected_fault() -> None:
    signals = SensorSignals(detector_for(Settings(detector_warmup=20)), PhysicalLimits())
    for minute in range(60):
        assert signals.signals_for(ch4(minute, 1.0 + 0.1 * (minute % 3))) == []
    assert findings(signals, ch4(60, 90.0)) == [], "the first spike is taken at its word"
    [back] = signals.signals_for(ch4(61, 1.1))
    assert back.score < 0.2, "back to normal: a spike"
    assert findings(signals, ch4(62, 1.0)) == []
    assert findings(signals, ch4(90, 90.0)) == ["suspected_fault"]
    signals.signals_for(ch4(91, 1.0))
    later = 91 + int(SPIKE_SUSPICION.total_seconds() // 60) + 1
    assert findings(signals, ch4(later, 90.0)) == [], "suspicion ends"


def test_a_sustained_rise_past_the_limit_is_not_a_spike() -> None:
    signals = SensorSignals(detector_for(Settings(detector_warmup=20)), PhysicalLimits())
    for minute in range(60):
        signals.signals_for(ch4(minute, 1.0 + 0.1 * (minute % 3)))
    for minute in range(60, 80):
        assert findings(signals, ch4(minute, 30.0 + minute)) == []
