"""Checkpoints: changed series become signed state records; restoring them gives the same model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detectors.base import Detector
from detectors.ewma import EwmaZScore
from detectors.limits import PhysicalLimits
from detectors.series import SeriesDetectors
from pipeline.assess.assessor import Assessor
from pipeline.assess.config import AssessmentConfig
from pipeline.clock import ManualClock
from pipeline.processing.signals import (
    ReportSignals,
    SensorSignals,
    SeriesSignalState,
    TelemetrySignals,
    TelemetryState,
)
from pipeline.state import checkpoint
from pipeline.state.checkpoint import AssessmentCheckpoints, DetectorCheckpoints
from schemas.hazard import Hazard

KEY = b"k" * 32


def bank() -> SeriesDetectors:
    return SeriesDetectors(lambda kind: EwmaZScore(warmup=3))


def kind_of(series: str) -> str:
    return series.rsplit("/", 1)[-1]


def warmed(detectors: SeriesDetectors, books: DetectorCheckpoints, series: str, partition: int) -> None:
    for value in (1.0, 1.2, 0.9, 1.1, 1.0):
        detectors.observe(series, kind_of(series), value)
    books.touched(series, partition)


def test_only_changed_series_are_taken_once_per_change() -> None:
    detectors = bank()
    books = DetectorCheckpoints(detectors, KEY, kind_of)
    warmed(detectors, books, "c1/d1/water_level", 0)
    warmed(detectors, books, "c2/d1/water_level", 1)
    assert [(r.partition, r.key) for r in books.take([1])] == [(1, "c2/d1/water_level")]
    assert [(r.partition, r.key) for r in books.take()] == [(0, "c1/d1/water_level")]
    assert books.take() == []


def test_restored_models_score_exactly_as_the_saved_ones() -> None:
    source = bank()
    books = DetectorCheckpoints(source, KEY, kind_of)
    warmed(source, books, "c1/d1/water_level", 2)
    [record] = books.take()
    target = bank()
    report = DetectorCheckpoints(target, KEY, kind_of).restore({record.key: (2, record.blob)})
    assert report.restored == 1 and not report.rejected
    restored = target.get("c1/d1/water_level")
    original = source.get("c1/d1/water_level")
    assert restored is not None and original is not None
    assert not restored.warming_up
    assert restored.score_one(1.7) == original.score_one(1.7)


def test_restored_states_are_verified_now_and_unpickled_when_their_series_reads_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = bank()
    books = DetectorCheckpoints(source, KEY, kind_of)
    warmed(source, books, "c1/d1/water_level", 0)
    warmed(source, books, "c1/d2/water_level", 0)
    records = {r.key: (0, r.blob or b"") for r in books.take()}
    loads: list[bytes] = []
    real_load = checkpoint.load_verified_state

    def counted_load(blob: bytes, detector_type: type[Detector]) -> Detector:
        loads.append(blob)
        return real_load(blob, detector_type)

    monkeypatch.setattr(checkpoint, "load_verified_state", counted_load)
    target = bank()
    report = DetectorCheckpoints(target, KEY, kind_of).restore(records)
    assert (report.restored, len(target), loads) == (2, 2, [])
    score = target.observe("c1/d1/water_level", "water_level", 1.7)
    original = source.observe("c1/d1/water_level", "water_level", 1.7)
    assert len(loads) == 1 and not score.warming_up and score == original
    assert len(target) == 2 and target.warming_up_count() == 0


def test_tampered_or_foreign_state_is_refused_and_the_series_re_warms() -> None:
    source = bank()
    books = DetectorCheckpoints(source, KEY, kind_of)
    warmed(source, books, "c1/d1/water_level", 0)
    [record] = books.take()
    tampered = record.blob[:-1] + bytes([record.blob[-1] ^ 1])
    target = bank()
    report = DetectorCheckpoints(target, b"another key, 32 bytes long......", kind_of).restore(
        {"a": (0, record.blob)}
    )
    report_tampered = DetectorCheckpoints(target, KEY, kind_of).restore({"b": (0, tampered)})
    assert report.rejected == {"signature": 1} and report_tampered.rejected == {"signature": 1}
    assert target.get("a") is None and target.get("b") is None


def test_forgetting_revoked_partitions_drops_their_models() -> None:
    detectors = bank()
    books = DetectorCheckpoints(detectors, KEY, kind_of)
    warmed(detectors, books, "c1/d1/water_level", 0)
    warmed(detectors, books, "c2/d1/water_level", 1)
    assert books.forget([1]) == 1
    assert detectors.get("c2/d1/water_level") is None and detectors.get("c1/d1/water_level") is not None
    assert [r.key for r in books.take()] == ["c1/d1/water_level"]


def test_a_communitys_record_carries_its_series_signal_state_and_a_record_without_it_still_restores() -> None:
    clock = ManualClock(datetime(2026, 11, 23, tzinfo=UTC))
    source = SensorSignals(bank(), PhysicalLimits())
    source.import_community(
        SeriesSignalState(forwarded=["c1/d1/water_level"], penalty={"c1/d1/water_level": 1.0})
    )
    books = AssessmentCheckpoints(Assessor(AssessmentConfig(), clock), source)
    books.touched("c1", 0)
    [record] = books.take()
    assert record.blob is not None and json.loads(record.blob)["sensors"]["forwarded"] == [
        "c1/d1/water_level"
    ]
    target = SensorSignals(bank(), PhysicalLimits())
    restoring = AssessmentCheckpoints(Assessor(AssessmentConfig(), clock), target)
    report = restoring.restore({"c1": (0, record.blob), "c2": (0, b"{}"), "c3": (0, b"[]")})
    assert (report.restored, dict(report.rejected)) == (2, {"malformed": 1})
    assert target.export_by_community() == source.export_by_community() != {}
    assert restoring.forget([0]) == 2 and target.export_by_community() == {}


def test_a_communitys_record_carries_its_devices_and_report_rates_so_a_successor_judges_alike() -> None:
    clock = ManualClock(datetime(2026, 11, 23, tzinfo=UTC))
    t0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
    telemetry, reports = TelemetrySignals(), ReportSignals()
    telemetry.import_community(
        TelemetryState(heartbeats={"c1/gw-1": (t0, 60.0)}, unhealthy=["c1/gw-2"]), partition=0
    )
    for minutes in (0, 5, 7):
        reports.bursts.observe("c1", Hazard.FIRE, t0 + timedelta(minutes=minutes))
    books = AssessmentCheckpoints(Assessor(AssessmentConfig(), clock), telemetry=telemetry, reports=reports)
    books.touched("c1", 0)
    [record] = books.take()
    assert record.blob is not None
    adopted: list[tuple[str, int]] = []
    restored_telemetry, restored_reports = TelemetrySignals(), ReportSignals()
    restoring = AssessmentCheckpoints(
        Assessor(AssessmentConfig(), clock),
        telemetry=restored_telemetry,
        reports=restored_reports,
        adopt=lambda community, partition: adopted.append((community, partition)),
    )
    assert restoring.restore({"c1": (0, record.blob)}).restored == 1
    assert adopted == [("c1", 0)]
    assert restored_telemetry.export_by_community() == telemetry.export_by_community() != {}
    assert restored_reports.bursts.export_by_community() == reports.bursts.export_by_community() != {}
    later = t0 + timedelta(minutes=9)
    assert (
        [s.signal_type for s in restored_telemetry.silent({0: later})]
        == [s.signal_type for s in telemetry.silent({0: later})]
        == ["silent"]
    )
    burst = restored_reports.bursts.observe("c1", Hazard.FIRE, later)
    assert burst == reports.bursts.observe("c1", Hazard.FIRE, later)
    assert restoring.forget([0]) == 1
    assert (
        restored_telemetry.export_by_community() == {} and restored_reports.bursts.export_by_community() == {}
    )
