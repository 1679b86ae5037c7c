"""Signals held back until a community's readings reach them survive a checkpoint and come out in order."""

from __future__ import annotations

from datetime import timedelta

from pipeline.assess.assessor import Assessor
from pipeline.clock import ManualClock
from schemas import ReporterRole
from tests.unit.assess.test_assess_incident import CONFIG, T0, reading, resident_report


def fused_reports(assessor: Assessor) -> set[str]:
    state = assessor.export_community("riverside") or {}
    signals = state.get("signals", {})
    assert isinstance(signals, dict)
    return {s["report_id"] for s in signals.get("riverside", {}).values() if s["report_id"]}


def test_held_reports_move_with_their_community_and_are_released_up_to_the_readings_time() -> None:
    first = Assessor(CONFIG, ManualClock(T0))
    first.hold(resident_report(16, "late", ReporterRole.GRID_WORKER))
    first.hold(resident_report(10, "early", ReporterRole.RESIDENT))
    checkpoint = first.export_community("riverside")
    assert checkpoint is not None and [s["report_id"] for s in checkpoint["held"]["riverside"]] == [
        "late",
        "early",
    ]

    second = Assessor(CONFIG, ManualClock(T0))
    second.import_community(checkpoint)
    assert second.held_communities() == ["riverside"]
    for minute in range(12):
        second.observe(reading(minute, "wl-1", 8.0))
    second.release("riverside", T0 + timedelta(minutes=12))
    assert second.holding, "the report of minute 16 is still ahead of the readings"
    assert fused_reports(second) == {"early"}
    second.release("riverside")
    assert not second.holding
    assert fused_reports(second) == {"early", "late"}
    second.forget_community("riverside")
    assert second.export_community("riverside") is None
