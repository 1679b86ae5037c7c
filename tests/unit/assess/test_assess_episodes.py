"""Episodes: deterministic ids, operator actions and their effects, silences, inhibition, routing."""

from __future__ import annotations

from datetime import timedelta

from pipeline.assess.conformance import COMMUNITY, PolicyRun, inside, quiet
from pipeline.assess.episodes import EpisodePolicy, NoticeKind, Notification, episode_id, open_episode
from pipeline.assess.routing import Route, default_routes, route
from pipeline.assess.silences import Silence, inhibitor
from pipeline.assess.tiers import TierPolicy
from schemas import Feedback, FeedbackAction, Hazard, Tier, WarningChange, WarningStatus


def red_run() -> PolicyRun:
    run = PolicyRun(TierPolicy())
    run.hold(quiet(run.policy), timedelta(minutes=2))
    run.hold(inside(run.policy, Tier.I), timedelta(minutes=3))
    return run


def test_the_warning_id_depends_only_on_scope_area_hazard_and_opening_time() -> None:
    first, second = red_run(), red_run()
    opened = first.events[0].warning
    assert opened.warning_id == second.events[0].warning.warning_id
    assert opened.warning_id == episode_id("community", COMMUNITY, Hazard.FLOOD, opened.opened_at)
    assert opened.warning_id != episode_id("community", COMMUNITY, Hazard.FIRE, opened.opened_at)


def test_every_change_is_a_revision_with_who_caused_it() -> None:
    run = red_run()
    run.act(FeedbackAction.ACKNOWLEDGE, operator="wang.fang")
    run.act(FeedbackAction.RESOLVE, operator="li.wei")
    warnings = [e.warning for e in run.events]
    assert [w.revision for w in warnings] == [1, 2, 3]
    assert [(w.change, w.status, w.caused_by) for w in warnings] == [
        (WarningChange.OPENED, WarningStatus.ACTIVE, "riskwatch/assessment"),
        (WarningChange.ACKNOWLEDGED, WarningStatus.ACKNOWLEDGED, "wang.fang"),
        (WarningChange.RESOLVED, WarningStatus.RESOLVED, "li.wei"),
    ]
    assert run.open_warning() is None


def test_an_operator_close_needs_the_risk_to_fall_before_a_new_episode_opens() -> None:
    run = red_run()
    run.act(FeedbackAction.RESOLVE)
    run.hold(inside(run.policy, Tier.I), timedelta(minutes=30))
    assert run.open_warning() is None, "the same high risk reopened what an operator closed"
    run.hold(quiet(run.policy), timedelta(minutes=2))
    run.hold(inside(run.policy, Tier.I), timedelta(minutes=3))
    reopened = run.open_warning()
    assert reopened is not None and reopened.warning.warning_id != run.events[0].warning.warning_id


def test_a_false_alarm_names_the_series_and_window_for_the_detectors() -> None:
    run = red_run()
    out = run.act(FeedbackAction.FALSE_ALARM, operator="zhao.min")
    (lesson,) = out.false_alarms
    opened = run.events[0].warning
    assert lesson.warning_id == opened.warning_id and lesson.operator == "zhao.min"
    assert lesson.series == (f"{COMMUNITY}/s-1/water_level",)
    assert lesson.window_start <= opened.opened_at < lesson.window_end == run.clock.now()
    assert out.events[0].warning.status is WarningStatus.FALSE_ALARM
    assert [n.kind for n in out.notifications] == [NoticeKind.FALSE_ALARM]


def test_a_notice_names_the_revision_it_is_about() -> None:
    """So ``riskwatch notify`` keys a delivery by (warning, revision, recipient)."""
    run = red_run()
    out = run.act(FeedbackAction.RESOLVE, operator="li.wei")
    (opened,) = [n for n in run.notices if n.kind is NoticeKind.OPENED]
    assert (opened.warning_id, opened.revision) == (run.events[0].warning.warning_id, 1)
    (resolved,) = out.notifications
    assert resolved.revision == out.events[0].warning.revision == 2


def test_repeated_or_unknown_feedback_changes_nothing() -> None:
    run = red_run()
    assert run.act(FeedbackAction.ACKNOWLEDGE).events
    assert run.act(FeedbackAction.ACKNOWLEDGE).events == [], "an ack of an ack is not a revision"
    warning_id = run.events[-1].warning.warning_id
    run.act(FeedbackAction.RESOLVE)
    late = Feedback(
        feedback_id="late",
        warning_id=warning_id,
        community_id=COMMUNITY,
        action=FeedbackAction.ACKNOWLEDGE,
        operator="late.operator",
        time=run.clock.now(),
    )
    assert run.assessor.act(late).events == [], "feedback on a closed warning must not reopen it"


def test_an_unacknowledged_warning_repeats_at_its_tier_interval() -> None:
    run = PolicyRun(TierPolicy())
    run.hold(inside(run.policy, Tier.III), timedelta(minutes=3))
    run.hold(inside(run.policy, Tier.III), EpisodePolicy().repeat_after(Tier.III) * 2)
    repeats = [n for n in run.notices if n.kind is NoticeKind.REPEAT]
    assert len(repeats) == 2
    assert repeats[1].at - repeats[0].at == EpisodePolicy().repeat_after(Tier.III)


def notice(
    community: str = "c1", hazard: Hazard = Hazard.FLOOD, devices: tuple[str, ...] = ()
) -> Notification:
    return Notification(
        kind=NoticeKind.OPENED,
        community_id=community,
        hazard=hazard,
        tier=Tier.III,
        level=0,
        at=PolicyRun(TierPolicy()).clock.now(),
        devices=devices,
        covers=(community,),
    )


def test_silence_matchers() -> None:
    now = notice().at
    window = {"starts_at": now, "ends_at": now + timedelta(hours=1), "author": "a", "comment": "works"}
    by_device = Silence(silence_id="s", device_id="wl-1", **window)
    assert by_device.matches(notice(devices=("wl-1",)))
    assert not by_device.matches(notice(devices=("wl-1", "wl-2"))), "other devices still see the hazard"
    by_hazard = Silence(silence_id="s", community_id="c1", hazard=Hazard.FIRE, **window)
    assert by_hazard.matches(notice(hazard=Hazard.FIRE)) and not by_hazard.matches(notice())
    assert not by_hazard.matches(notice(community="c2", hazard=Hazard.FIRE))


def test_a_silence_needs_an_author_a_reason_and_an_end() -> None:
    now = notice().at
    for bad in ({"comment": " "}, {"ends_at": now}):
        fields = {"silence_id": "s", "starts_at": now, "ends_at": now + timedelta(hours=1)}
        fields |= {"author": "a", "comment": "why"} | bad
        try:
            Silence.model_validate(fields)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_a_tier_one_warning_inhibits_lower_tier_duplicates_in_its_community() -> None:
    run = red_run()
    red = run.open_warning()
    assert red is not None and red.warning.tier is Tier.I
    held = [open_episode(red, run.clock.now(), ())]
    duplicate = notice(community=COMMUNITY).model_copy(update={"warning_id": "other-episode"})
    assert inhibitor(duplicate, held) == red.warning.warning_id
    assert inhibitor(notice(community="elsewhere"), held) is None
    assert inhibitor(duplicate.model_copy(update={"hazard": Hazard.FIRE}), held) is None
    assert inhibitor(duplicate.model_copy(update={"tier": Tier.I}), held) is None


def test_routes_follow_hazard_tier_and_level() -> None:
    routes = default_routes()
    assert route(routes, Hazard.GAS_LEAK, Tier.IV, 0) == ("responders.community_office",)
    assert "responders.fire_brigade" in route(routes, Hazard.GAS_LEAK, Tier.II, 0)
    assert route(routes, Hazard.FLOOD, Tier.I, 2) == ("responders.city_emergency",)
    assert route(routes, Hazard.DEVICE_FAULT, Tier.IV, 0) == (
        "responders.grid_workers",
        "responders.maintenance",
    )
    custom = (Route(topic="ops.all", hazards=frozenset({Hazard.FLOOD}), min_tier=Tier.II),)
    assert route(custom, Hazard.FLOOD, Tier.III, 0) == ()


def test_a_silent_community_steps_down_on_stream_time_not_on_the_wall_clock() -> None:
    run = red_run()
    run.clock.advance(timedelta(hours=3))
    run.collect(run.assessor.tick())
    assert run.open_warning() is not None, "with no stream time passing (a replay), nothing resolves"
    for _ in range(60):
        other = run.signal(0.0).model_copy(update={"community_id": "other", "series": "other/p-1/power"})
        run.collect(run.assessor.observe(other))
        run.clock.advance(timedelta(minutes=1))
        run.collect(run.assessor.tick())
    assert run.open_warning() is None
    assert run.events[-1].warning.change is WarningChange.RESOLVED
    assert run.events[-1].basis == "quiet"


def test_a_silence_can_be_lifted_early() -> None:
    run = PolicyRun(TierPolicy())
    now = run.clock.now()
    run.assessor.add_silence(
        Silence(
            silence_id="s1",
            community_id=COMMUNITY,
            starts_at=now,
            ends_at=now + timedelta(days=1),
            author="a",
            comment="b",
        )
    )
    run.hold(inside(run.policy, Tier.III), timedelta(minutes=3))
    assert [n.suppressed_by is not None for n in run.notices] == [True]
    run.assessor.remove_silence("s1")
    run.hold(inside(run.policy, Tier.III), timedelta(minutes=1))
    assert run.notices[-1].kind is NoticeKind.REPEAT and run.notices[-1].topics
