"""Invariants of the assessment under arbitrary risk paths, gaps, redeliveries and warm-up (hypothesis)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.assess.assessor import Assessor
from pipeline.assess.conformance import PolicyRun, quiet
from pipeline.assess.episodes import WarningEvent
from pipeline.assess.fusion import SourceSignal
from pipeline.assess.tiers import TierPolicy
from schemas import Hazard, WarningChange

POLICY = TierPolicy()
DOWN = (WarningChange.DE_ESCALATED, WarningChange.RESOLVED)

steps = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=1.0),  # risk
        st.integers(min_value=1, max_value=180),  # seconds to the next reading
        st.integers(min_value=0, max_value=3),  # how many readings back to redeliver (0: none)
        st.booleans(),  # warming up
    ),
    min_size=1,
    max_size=120,
)


def drive(steps_: list[tuple[float, int, int, bool]]) -> PolicyRun:
    return drive_on(PolicyRun(POLICY), steps_, [])


def drive_on(
    run: PolicyRun, steps_: list[tuple[float, int, int, bool]], sent: list[SourceSignal]
) -> PolicyRun:
    """Feed the steps; ``sent`` holds what was sent before, for redeliveries."""
    for risk, gap, back, warming_up in steps_:
        signal = run.signal(risk, warming_up)
        sent.append(signal)
        run.collect(run.assessor.observe(signal))
        if back and len(sent) > back:
            run.collect(run.assessor.observe(sent[-1 - back]))
        run.open_warning()  # asserts at most one open warning
        run.clock.advance(timedelta(seconds=gap))
        run.collect(run.assessor.tick())
    return run


def by_episode(events: list[WarningEvent]) -> dict[str, list[WarningEvent]]:
    episodes: dict[str, list[WarningEvent]] = {}
    for event in events:
        episodes.setdefault(event.warning.warning_id, []).append(event)
    return episodes


@settings(max_examples=60, deadline=None)
@given(steps)
def test_never_two_open_warnings_and_revisions_never_go_back(
    steps_: list[tuple[float, int, int, bool]],
) -> None:
    run = drive(steps_)
    open_at_once: Counter[Hazard] = Counter()
    for events in by_episode(run.events).values():
        assert [e.warning.revision for e in events] == list(range(1, len(events) + 1))
        assert all(a.warning.updated_at <= b.warning.updated_at for a, b in itertools.pairwise(events))
    for event in run.events:
        if event.warning.change is WarningChange.OPENED:
            open_at_once[event.warning.hazard] += 1
        elif not event.warning.is_open:
            open_at_once[event.warning.hazard] -= 1
        assert 0 <= open_at_once[event.warning.hazard] <= 1


@settings(max_examples=60, deadline=None)
@given(steps)
def test_the_tier_moves_down_only_after_an_exit_dwell(steps_: list[tuple[float, int, int, bool]]) -> None:
    run = drive(steps_)
    for events in by_episode(run.events).values():
        for before, after in itertools.pairwise(events):
            if after.warning.change not in DOWN:
                continue
            drop = before.warning.tier.severity - after.warning.tier.severity
            if after.warning.change is WarningChange.RESOLVED:
                assert drop == 0  # a resolution keeps the last tier
            else:
                assert drop >= 1  # to the tier the dwell's inputs still held, maybe skipping some
            last_move = max(
                e.warning.updated_at
                for e in events[: events.index(after)]
                if e.warning.change is not WarningChange.ACKNOWLEDGED
            )
            assert after.warning.updated_at - last_move >= POLICY.exit_dwell


@settings(max_examples=40, deadline=None)
@given(steps, st.booleans())
def test_every_warning_resolves_when_the_risk_stays_low(
    steps_: list[tuple[float, int, int, bool]], sensors_fall_silent: bool
) -> None:
    run = drive(steps_)
    settle = POLICY.flap_window + POLICY.exit_dwell * 5 + run.step * (POLICY.enter_m + 1)
    if sensors_fall_silent:  # another community keeps the stream time moving
        for _ in range(int(settle / run.step) + int(run.config.fusion.signal_ttl / run.step) + 1):
            other = run.signal(0.0).model_copy(update={"community_id": "other", "series": "other/s-9/power"})
            run.collect(run.assessor.observe(other))
            run.clock.advance(run.step)
            run.collect(run.assessor.tick())
    else:
        run.hold(quiet(POLICY), settle)
    assert run.open_warning() is None
    for events in by_episode(run.events).values():
        assert events[-1].warning.change is WarningChange.RESOLVED


@settings(max_examples=30, deadline=None)
@given(steps, st.integers(min_value=0, max_value=119))
def test_a_checkpoint_anywhere_changes_nothing(steps_: list[tuple[float, int, int, bool]], cut: int) -> None:
    whole = drive(steps_)
    sent: list[SourceSignal] = []
    run = drive_on(PolicyRun(POLICY), steps_[:cut], sent)
    checkpoint = json.loads(json.dumps(run.assessor.export_state()))
    run.assessor = Assessor(run.config, run.clock, checkpoint)
    drive_on(run, steps_[cut:], sent)
    assert [e.model_dump_json() for e in run.events] == [e.model_dump_json() for e in whole.events]
    assert [n.model_dump_json() for n in run.notices] == [n.model_dump_json() for n in whole.notices]
