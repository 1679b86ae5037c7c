"""The first assessment: open, escalate, resolve; one deterministic id per episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.assessment import EpisodeAssessment, RiskSignal, tier_for, warning_id
from schemas import Hazard, Tier, WarningChange

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def signal(minute: float, surprise: float, community: str = "c-1") -> RiskSignal:
    at = T0 + timedelta(minutes=minute)
    series = f"{community}/wl-1/water_level"
    return RiskSignal(community, Hazard.FLOOD, at, surprise, 0.99, series, 2.0, 1.0, "ewma_z/test")


def test_tier_cut_offs() -> None:
    assert [tier_for(s) for s in (0, 3.9, 4, 7, 12, 20, 300)] == [
        None,
        None,
        Tier.IV,
        Tier.III,
        Tier.II,
        Tier.I,
        Tier.I,
    ]


def test_quiet_signals_open_nothing() -> None:
    assessment = EpisodeAssessment(timedelta(minutes=2))
    assert all(assessment.observe(signal(m, 1.0)) is None for m in range(10))
    assert assessment.active() == []


def test_an_episode_opens_escalates_and_resolves_under_one_id() -> None:
    assessment = EpisodeAssessment(timedelta(minutes=2))
    opened = assessment.observe(signal(0, 5))
    assert opened is not None and (opened.change, opened.tier, opened.revision) == (
        WarningChange.OPENED,
        Tier.IV,
        1,
    )
    assert assessment.observe(signal(1, 5)) is None, "same tier again is not a new revision"
    escalated = assessment.observe(signal(2, 13))
    assert escalated is not None and (escalated.change, escalated.tier) == (WarningChange.ESCALATED, Tier.II)
    assert assessment.observe(signal(3, 1)) is None, "quiet for 1 min is not yet 2"
    resolved = assessment.observe(signal(4, 1))
    assert resolved is not None and resolved.change is WarningChange.RESOLVED
    assert {opened.warning_id, escalated.warning_id, resolved.warning_id} == {opened.warning_id}
    assert resolved.revision == 3
    assert assessment.active() == []


def test_ids_are_deterministic_and_differ_per_episode_and_community() -> None:
    first = EpisodeAssessment(timedelta(minutes=2)).observe(signal(0, 5))
    again = EpisodeAssessment(timedelta(minutes=2)).observe(signal(0, 5))
    other = EpisodeAssessment(timedelta(minutes=2)).observe(signal(0, 5, community="c-2"))
    assert first is not None and again is not None and other is not None
    assert first.warning_id == again.warning_id == warning_id("c-1", Hazard.FLOOD, T0)
    assert other.warning_id != first.warning_id


def test_evidence_records_what_the_signal_saw() -> None:
    opened = EpisodeAssessment(timedelta(minutes=2)).observe(signal(0, 5))
    assert opened is not None
    [evidence] = opened.evidence
    assert (evidence.series, evidence.value, evidence.expected, evidence.observed_at) == (
        "c-1/wl-1/water_level",
        2.0,
        1.0,
        T0,
    )
