"""Warning events as Alertmanager alerts: labels, annotations, tier changes, resolution, re-push."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.alerting.alerts import AlertBook, AlertLinks
from pipeline.assess.config import AssessmentConfig, Community
from pipeline.assess.conformance import COMMUNITY, PolicyRun, inside, quiet
from pipeline.assess.episodes import WarningEvent
from pipeline.assess.tiers import TierPolicy
from schemas import FeedbackAction, Tier, WarningChange

LIFETIME = timedelta(minutes=4)
LINKS = AlertLinks("http://worker-1:6066")


@pytest.fixture
def run() -> PolicyRun:
    """One community's warning: opened at III, escalated to I, then quiet until resolved."""
    run = PolicyRun(TierPolicy())
    run.hold(inside(run.policy, Tier.III), timedelta(minutes=3))
    run.hold(inside(run.policy, Tier.I), timedelta(minutes=3))
    run.hold(quiet(run.policy), timedelta(hours=2))
    assert run.events[0].warning.change is WarningChange.OPENED
    assert run.events[-1].warning.change is WarningChange.RESOLVED
    return run


def book_for(run: PolicyRun) -> AlertBook:
    config = run.config.model_copy(
        update={"communities": {COMMUNITY: Community(description="Riverside", district_id="d-river")}}
    )
    return AlertBook(config, LINKS, LIFETIME)


def first(run: PolicyRun, change: WarningChange) -> WarningEvent:
    return next(e for e in run.events if e.warning.change is change)


def test_an_open_warning_is_a_firing_alert_with_labels_to_route_on(run: PolicyRun) -> None:
    opened = run.events[0]
    now = run.clock.now()
    [alert] = book_for(run).revise(opened, now)

    warning = opened.warning
    assert alert.labels == {
        "alertname": "RiskwatchWarning",
        "team": "operations",
        "community": COMMUNITY,
        "district": "d-river",
        "hazard": "flood",
        "tier": warning.tier.name,
        "severity": "Extreme",  # the sensor's rise is beyond every flood line: extreme impact
        "warning_id": warning.warning_id,
    }
    assert alert.annotations["summary"] == f"{warning.tier.label} flood warning: Riverside"
    assert f"{COMMUNITY}/s-1/water_level" in alert.annotations["description"], "the evidence"
    assert alert.annotations["status"] == "active"
    assert alert.annotations["cap_url"] == f"http://worker-1:6066/api/cap/{warning.warning_id}"
    assert alert.annotations["console_url"] == "http://worker-1:6066/console"
    assert alert.generator_url == f"http://worker-1:6066/api/warnings/{warning.warning_id}"
    assert (alert.starts_at, alert.ends_at) == (warning.opened_at, now + LIFETIME)


def test_a_tier_change_ends_the_old_tier_alert_and_starts_the_new_one(run: PolicyRun) -> None:
    book = book_for(run)
    opened, escalated = run.events[0], first(run, WarningChange.ESCALATED)
    at = run.clock.now()
    [before] = book.revise(opened, at - timedelta(minutes=1))
    ended, after = book.revise(escalated, at)

    assert ended.identity == before.identity and ended.ends_at == at, "the old tier's alert ends now"
    assert after.labels["tier"] == escalated.warning.tier.name != before.labels["tier"]
    assert after.labels["warning_id"] == before.labels["warning_id"]
    assert after.ends_at == at + LIFETIME, "the new tier's alert fires"


def test_a_revision_that_keeps_the_labels_updates_the_alert_in_place() -> None:
    run = PolicyRun(TierPolicy())
    run.hold(inside(run.policy, Tier.II), timedelta(minutes=3))
    book = book_for(run)
    [opened] = book.revise(run.events[0], run.clock.now())
    [acknowledged] = run.act(FeedbackAction.ACKNOWLEDGE).events

    [updated] = book.revise(acknowledged, run.clock.now())
    assert updated.identity == opened.identity
    assert updated.annotations["status"] == "acknowledged"


def test_a_resolved_warning_ends_its_alert_and_leaves_the_book(run: PolicyRun) -> None:
    book = book_for(run)
    now = run.clock.now()
    pushed = [alert for event in run.events for alert in book.revise(event, now)]

    last = pushed[-1]
    assert last.ends_at == now and last.labels["tier"] == run.events[-1].warning.tier.name
    assert len(book) == 0
    assert book.refresh([], now) == []


def test_a_re_push_renews_every_open_alert_and_forgets_warnings_that_moved_away(run: PolicyRun) -> None:
    book = book_for(run)
    opened = run.events[0]
    start = run.clock.now()
    book.revise(opened, start)

    later = start + timedelta(minutes=1)
    [renewed] = book.refresh([opened], later)
    assert renewed.ends_at == later + LIFETIME

    assert book.refresh([], later) == [], "its partition moved: the new owner pushes it"
    assert len(book) == 0


def test_a_re_push_ends_an_alert_whose_tier_changed_unseen(run: PolicyRun) -> None:
    """A worker that restored a warning at another tier than it last pushed ends the stale one."""
    book = book_for(run)
    now = run.clock.now()
    [stale] = book.revise(run.events[0], now)
    ended, current = book.refresh([first(run, WarningChange.ESCALATED)], now)
    assert ended.identity == stale.identity and ended.ends_at == now
    assert current.labels["tier"] != stale.labels["tier"]


def test_times_stay_valid_for_alertmanager_when_event_time_runs_ahead(run: PolicyRun) -> None:
    """Alertmanager refuses an alert that ends before it starts."""
    book = book_for(run)
    way_before = run.events[0].warning.opened_at - timedelta(hours=1)
    [alert] = book.revise(run.events[0], way_before)
    assert alert.starts_at == way_before
    assert alert.ended(way_before - timedelta(hours=1)).ends_at == alert.starts_at


def test_a_district_warning_names_its_district() -> None:
    run = PolicyRun(TierPolicy())
    run.hold(inside(run.policy, Tier.II), timedelta(minutes=3))
    district_event = run.events[0].model_copy(update={"scope": "district", "district_id": None})
    book = AlertBook(AssessmentConfig(), LINKS, LIFETIME)
    [alert] = book.revise(district_event, run.clock.now())
    assert alert.labels["district"] == alert.labels["community"] == COMMUNITY

    [community_alert] = AlertBook(AssessmentConfig(), LINKS, LIFETIME).revise(run.events[0], run.clock.now())
    assert "district" not in community_alert.labels, "no district configured: no empty label"


def test_the_payload_is_what_alertmanager_api_v2_takes(run: PolicyRun) -> None:
    [alert] = book_for(run).revise(run.events[0], run.clock.now())
    payload = alert.payload()
    assert set(payload) == {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}
    assert isinstance(payload["startsAt"], str) and payload["startsAt"].endswith("Z")
    assert payload["labels"] == alert.labels and payload["generatorURL"] == alert.generator_url


def test_a_replayed_revision_pushes_nothing_but_a_later_tier_change_ends_its_alert(run: PolicyRun) -> None:
    """After a crash the successor re-derives what its predecessor pushed, and must end it later."""
    book = book_for(run)
    now = run.clock.now()
    opened, escalated = run.events[0], first(run, WarningChange.ESCALATED)
    [pushed_before_the_crash] = book_for(run).revise(opened, now)

    book.replayed(opened, now)
    ended, current = book.revise(escalated, now)
    assert ended.identity == pushed_before_the_crash.identity and ended.ends_at == now
    assert current.labels["tier"] == escalated.warning.tier.name

    book.replayed(run.events[-1], now)
    assert len(book) == 0, "a replayed resolution leaves nothing to end"
