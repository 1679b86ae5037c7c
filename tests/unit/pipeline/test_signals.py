"""Readings into fusion signals: a spike that comes straight back makes its device suspect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.limits import PhysicalLimits
from pipeline.assess.episodes import FalseAlarmFeedback
from pipeline.config import Settings
from pipeline.processing.processor import detector_for
from pipeline.processing.signals import FALSE_ALARM_PENALTY, SPIKE_SUSPICION, SensorSignals, SeriesSignalState
from schemas import Hazard
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


def restarted(signals: SensorSignals, community: str = "c1") -> SensorSignals:
    """A worker that took ``community`` over from its checkpoint (detectors are restored on their own)."""
    state = signals.export_by_community()[community]  # a community with live series has state to keep
    resumed = SensorSignals(signals.detectors, PhysicalLimits())
    resumed.import_community(SeriesSignalState.model_validate_json(state.model_dump_json()))
    return resumed


def test_a_restarted_worker_ends_a_live_signal_and_keeps_suspecting_a_series_that_spiked() -> None:
    signals = SensorSignals(detector_for(Settings(detector_warmup=20)), PhysicalLimits())
    for minute in range(60):
        signals.signals_for(ch4(minute, 1.0 + 0.1 * (minute % 3)))
    assert signals.signals_for(ch4(60, 90.0)), "the spike's signal is live in fusion"
    resumed = restarted(signals)
    [back] = resumed.signals_for(ch4(61, 1.1))
    assert back.score < 0.2, "the quiet reading that replaces the spike's signal in fusion is sent"
    assert findings(restarted(resumed), ch4(90, 90.0)) == ["suspected_fault"]


def test_operators_false_alarms_survive_a_restart_and_leave_with_their_community() -> None:
    signals = SensorSignals(detector_for(Settings(detector_warmup=20)), PhysicalLimits())
    signals.signals_for(ch4(0, 1.0))
    feedback = FalseAlarmFeedback(
        warning_id="w1",
        community_id="c1",
        hazard=Hazard.GAS_LEAK,
        series=("c1/ch4-1/gas_ch4",),
        report_ids=(),
        window_start=T0,
        window_end=T0 + timedelta(minutes=5),
        operator="duty officer",
    )
    signals.learn_false_alarm(feedback)
    signals.learn_false_alarm(
        feedback.model_copy(update={"community_id": "c10", "series": ("c10/ch4-1/gas_ch4",)})
    )
    assert restarted(signals).penalty("c1/ch4-1/gas_ch4") == FALSE_ALARM_PENALTY
    assert restarted(signals).penalty("c10/ch4-1/gas_ch4") == 0.0, "c1's checkpoint holds c1's series only"
    signals.forget_communities(["c1"])
    assert signals.penalty("c1/ch4-1/gas_ch4") == 0.0
    assert list(signals.export_by_community()) == ["c10"], "the other community stays"
