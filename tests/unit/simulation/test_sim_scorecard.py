"""The score card, from synthetic warnings: every rule of pipeline.simulation.scorecard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.simulation.scenario import DecoyKind, IncidentKind
from pipeline.simulation.scorecard import DECOY_GRACE, format_scorecard, score
from pipeline.simulation.truth import GroundTruth, TrueDecoy, TrueIncident
from schemas.hazard import Hazard, Tier
from schemas.warning import RiskWarning, WarningChange, WarningStatus

T0 = datetime(2026, 6, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def gas(id_: str = "gas", community: str = "c001", expected: Tier = Tier.II) -> TrueIncident:
    return TrueIncident(
        id=id_, kind=IncidentKind.GAS_LEAK, hazard=Hazard.GAS_LEAK, communities=[community],
        start=T0 + 60 * MIN, peak=T0 + 80 * MIN, end=T0 + 120 * MIN, intensity=25.0,
        intensity_unit="%LEL", expected_tier=expected, max_delay_s=600,
    )  # fmt: skip


def stuck(community: str = "c009") -> TrueDecoy:
    return TrueDecoy(
        id="stuck", kind=DecoyKind.STUCK_SENSOR, community=community, device_id=f"{community}.wl-1",
        start=T0 + 60 * MIN, end=T0 + 120 * MIN,
    )  # fmt: skip


def truth(incidents: list[TrueIncident], decoys: list[TrueDecoy] | None = None) -> GroundTruth:
    return GroundTruth(
        scenario="t", seed=1, start=T0, end=T0 + 180 * MIN, communities=["c001", "c002", "c009"],
        incidents=incidents, decoys=decoys or [],
    )  # fmt: skip


def warning(
    minute: float,
    tier: Tier,
    change: WarningChange = WarningChange.OPENED,
    *,
    community: str = "c001",
    hazard: Hazard = Hazard.GAS_LEAK,
    warning_id: str = "w1",
    revision: int = 1,
    opened_minute: float | None = None,
) -> RiskWarning:
    return RiskWarning(
        warning_id=warning_id, revision=revision, community_id=community, hazard=hazard, tier=tier,
        status=WarningStatus.RESOLVED if change is WarningChange.RESOLVED else WarningStatus.ACTIVE,
        change=change, opened_at=T0 + (opened_minute if opened_minute is not None else minute) * MIN,
        updated_at=T0 + minute * MIN, risk=0.99, caused_by="riskwatch/assessment",
    )  # fmt: skip


def test_a_warning_in_time_at_the_expected_tier_passes_with_its_delay() -> None:
    card = score(truth([gas()]), [warning(63, Tier.II)])
    result = card.incidents[0]
    assert (result.warned, result.on_time, result.tier_ok, result.passed, result.exact) == (True,) * 5
    assert result.delay_s == 180 and result.tier_reached is Tier.II
    assert card.totals.recall == 1.0 and card.totals.precision == 1.0


def test_a_late_warning_is_warned_but_does_not_pass() -> None:
    result = score(truth([gas()]), [warning(75, Tier.II)]).incidents[0]
    assert result.warned and not result.on_time and not result.passed


@pytest.mark.parametrize(("reached", "ok"), [(Tier.I, True), (Tier.III, True), (Tier.IV, False)])
def test_the_tier_may_be_off_by_the_tolerance_but_is_exact_only_at_the_expected_tier(
    reached: Tier, ok: bool
) -> None:
    result = score(truth([gas()]), [warning(62, reached)]).incidents[0]
    assert (result.tier_ok, result.exact) == (ok, False)
    assert score(truth([gas()]), [warning(62, reached)], tolerance=0).incidents[0].tier_ok is (
        reached is Tier.II
    )


def test_tier_changes_are_counted_per_warning_and_the_most_of_any_one_is_reported() -> None:
    revisions = [
        warning(62, Tier.IV),
        warning(63, Tier.III, WarningChange.ESCALATED, revision=2, opened_minute=62),
        warning(64, Tier.II, WarningChange.ESCALATED, revision=3, opened_minute=62),
        warning(62, Tier.IV, community="c002", warning_id="w2"),
        warning(64, Tier.III, WarningChange.ESCALATED, revision=2, community="c002", warning_id="w2"),
    ]
    episode = gas().model_copy(update={"communities": ["c001", "c002"]})
    card = score(truth([episode]), revisions)
    assert (card.incidents[0].tier_changes, card.totals.max_tier_changes) == (2, 2)


def test_the_most_serious_tier_counts_and_every_change_of_tier_is_flapping() -> None:
    revisions = [
        warning(62, Tier.IV),
        warning(64, Tier.II, WarningChange.ESCALATED, revision=2, opened_minute=62),
        warning(70, Tier.III, WarningChange.DE_ESCALATED, revision=3, opened_minute=62),
        warning(90, Tier.III, WarningChange.RESOLVED, revision=4, opened_minute=62),
        warning(95, Tier.IV, warning_id="w2"),
    ]
    result = score(truth([gas()]), revisions).incidents[0]
    assert (result.tier_reached, result.tier_changes, result.episodes) == (Tier.II, 2, 2)
    assert result.delay_s == 120


def test_a_redelivered_revision_counts_once() -> None:
    card = score(truth([gas()]), [warning(62, Tier.II), warning(62, Tier.II)])
    assert card.totals.hazard_warnings == 1 and card.incidents[0].episodes == 1


def test_warnings_outside_the_incident_or_of_another_community_do_not_count() -> None:
    before = warning(30, Tier.II, warning_id="early")
    elsewhere = warning(62, Tier.II, community="c002", warning_id="other")
    card = score(truth([gas()]), [before, elsewhere])
    assert not card.incidents[0].warned
    assert card.totals.unexplained_warnings == 2 and card.totals.precision == 0.0


def test_another_hazard_during_an_incident_is_cross_hazard_not_a_detection() -> None:
    card = score(truth([gas()]), [warning(62, Tier.I, hazard=Hazard.FIRE)])
    assert not card.incidents[0].warned
    assert card.incidents[0].other_hazards == [Hazard.FIRE]
    assert (card.totals.cross_hazard_warnings, card.totals.true_warnings, card.totals.precision) == (
        1,
        0,
        0.0,
    )


def test_a_decoy_is_quiet_unless_a_hazard_warning_rises_in_its_community_during_it() -> None:
    fault = warning(70, Tier.IV, community="c009", hazard=Hazard.DEVICE_FAULT, warning_id="f")
    assert score(truth([], [stuck()]), [fault]).decoys[0].quiet
    assert score(truth([], [stuck()]), [fault]).totals.hazard_warnings == 0
    late = T0 + 120 * MIN + DECOY_GRACE + MIN
    after = warning((late - T0) / MIN, Tier.I, community="c009", hazard=Hazard.FLOOD, warning_id="a")
    assert score(truth([], [stuck()]), [after]).decoys[0].quiet
    false = warning(90, Tier.I, community="c009", hazard=Hazard.FLOOD, warning_id="x")
    card = score(truth([], [stuck()]), [false])
    assert not card.decoys[0].quiet and card.decoys[0].false_warnings == ["flood I"]
    assert card.totals.decoy_warnings == 1 and card.totals.unexplained_warnings == 0


def test_totals_give_recall_pass_rate_and_median_and_max_delay() -> None:
    incidents = [gas("a", "c001"), gas("b", "c002"), gas("c", "c009", expected=Tier.IV)]
    warnings = [
        warning(61, Tier.II, warning_id="wa"),
        warning(65, Tier.I, community="c002", warning_id="wb"),
        warning(69, Tier.I, community="c009", warning_id="wc"),
    ]
    totals = score(truth(incidents), warnings).totals
    assert (totals.warned, totals.passed, totals.exact) == (3, 2, 1)
    assert totals.exact_rate == pytest.approx(1 / 3)
    assert totals.recall == 1.0 and totals.pass_rate == pytest.approx(2 / 3)
    assert (totals.median_delay_s, totals.max_delay_s) == (300, 540)


def test_no_incidents_and_no_warnings_is_a_clean_card() -> None:
    totals = score(truth([]), []).totals
    assert (totals.recall, totals.precision, totals.median_delay_s) == (1.0, None, None)


def test_the_printed_card_names_every_incident_decoy_and_verdict() -> None:
    card = score(truth([gas("hit", "c001"), gas("miss", "c002")], [stuck()]), [warning(62, Tier.III)])
    text = format_scorecard(card)
    assert "hit" in text and "±1" in text and "miss" in text and "MISS" in text
    assert "at the exact tier, in time: 0/2" in text and "within ± 1 tier, in time: 1/2" in text
    assert "stuck" in text and "quiet" in text and "recall 50%" in text


def plateau_flood() -> TrueIncident:
    return TrueIncident(
        id="flood", kind=IncidentKind.FLOOD, hazard=Hazard.FLOOD, communities=["c001"],
        start=T0 + 10 * MIN, peak=T0 + 20 * MIN, plateau_until=T0 + 120 * MIN, end=T0 + 130 * MIN,
        intensity=1.2, intensity_unit="m", expected_tier=Tier.II, max_delay_s=3600,
    )  # fmt: skip


def flood(
    minute: float, tier: Tier, change: WarningChange, revision: int, warning_id: str = "f1"
) -> RiskWarning:
    return warning(
        minute, tier, change, hazard=Hazard.FLOOD, revision=revision, warning_id=warning_id, opened_minute=0
    ).model_copy(update={"opened_at": T0 + (15 if warning_id == "f1" else 100) * MIN})


def test_a_plateau_held_open_at_one_tier_with_a_timely_all_clear_is_held() -> None:
    revisions = [
        flood(15, Tier.II, WarningChange.OPENED, 1),
        flood(170, Tier.II, WarningChange.RESOLVED, 2),
    ]
    [graded] = score(truth([plateau_flood()]), revisions).incidents
    assert (graded.held_share, graded.plateau_tier_changes, graded.all_clear_after_s) == (1.0, 0, 40 * 60)
    assert graded.held is True
    assert "warning open 100% of it, 0 tier changes, all-clear 40.0 min" in format_scorecard(
        score(truth([plateau_flood()]), revisions)
    )


def test_a_plateau_whose_warning_lapsed_or_was_never_cleared_is_not_held() -> None:
    lapsed = [
        flood(15, Tier.II, WarningChange.OPENED, 1),
        flood(60, Tier.II, WarningChange.RESOLVED, 2),  # resolved as the model learned the flood
        flood(100, Tier.III, WarningChange.OPENED, 1, warning_id="f2"),
        flood(140, Tier.III, WarningChange.RESOLVED, 2, warning_id="f2"),
    ]
    [graded] = score(truth([plateau_flood()]), lapsed).incidents
    assert graded.held_share == pytest.approx(60 / 100) and graded.held is False
    never_cleared = [flood(15, Tier.II, WarningChange.OPENED, 1)]
    [open_end] = score(truth([plateau_flood()]), never_cleared).incidents
    assert (open_end.held_share, open_end.all_clear_after_s, open_end.held) == (1.0, None, False)
    assert score(truth([gas()]), []).incidents[0].held is None, "no plateau, no holding grade"
