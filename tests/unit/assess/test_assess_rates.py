"""The ladder behaves the same at 1-second, 1-minute and 1-hour sampling (issue 15, item 3).

One incident shape in event time (quiet, a rise inside III, a rise inside II, a fall to
IV's level, quiet again)
sampled at three spacings gives one tier sequence; blips too short to be a hazard at their
spacing (a single reading, or half a minute of a 1 Hz series) open nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.assess.conformance import inside, quiet
from pipeline.assess.tiers import LadderState, TierPolicy, advance
from schemas.hazard import Impact, Tier
from schemas.warning import WarningChange

POLICY = TierPolicy()
T0 = datetime(2026, 7, 1, tzinfo=UTC)
SPACINGS = {"1 s": timedelta(seconds=1), "1 min": timedelta(minutes=1), "1 h": timedelta(hours=1)}
HOUR = timedelta(hours=1)
INCIDENT = (
    (3 * HOUR, quiet(POLICY)),
    (4 * HOUR, inside(POLICY, Tier.III)),
    (4 * HOUR, inside(POLICY, Tier.II)),
    (4 * HOUR, inside(POLICY, Tier.IV)),
    (20 * HOUR, quiet(POLICY)),
)
"""(duration, risk) stages: long enough for an hourly series to show each one."""

Moves = list[tuple[timedelta, WarningChange, Tier | None]]


Stages = tuple[tuple[timedelta, float], ...]


def ladder_moves(stages: Stages, spacing: timedelta, policy: TierPolicy) -> Moves:
    """(time since start, change, tier) of every tier change, one reading per ``spacing``."""
    state, moves, at = LadderState(), [], T0
    for duration, risk in stages:
        end = at + duration
        while at < end:
            state, change = advance(policy, state, at, risk, Impact.EXTREME, False)
            if change is not None:
                moves.append((at - T0, change, state.tier))
            at += spacing
    return moves


@pytest.mark.parametrize("spacing", SPACINGS.values(), ids=SPACINGS.keys())
def test_one_incident_shape_gives_one_tier_sequence_at_every_spacing(spacing: timedelta) -> None:
    moves = ladder_moves(INCIDENT, spacing, POLICY)
    assert [(change, tier) for _, change, tier in moves] == [
        (WarningChange.OPENED, Tier.III),
        (WarningChange.ESCALATED, Tier.II),
        (WarningChange.DE_ESCALATED, Tier.III),  # IV's level still holds III (the exit thresholds)
        (WarningChange.RESOLVED, None),
    ]
    opened, escalated, *downs = (when for when, _, _ in moves)
    late = 2 * max(spacing, HOUR / 60)
    assert 3 * HOUR + timedelta(seconds=POLICY.enter_s) <= opened <= 3 * HOUR + late
    assert escalated - 7 * HOUR <= late
    steps = [down - fall for fall, down in zip((11 * HOUR, 15 * HOUR), downs, strict=True)]
    assert all(step >= POLICY.exit_dwell and step >= (POLICY.exit_n - 1) * spacing for step in steps), steps


BLIPS = {
    "1 s: half a minute at red": (timedelta(seconds=1), timedelta(seconds=30)),
    "1 s: one reading at red": (timedelta(seconds=1), timedelta(seconds=1)),
    "1 min: one reading at red": (timedelta(minutes=1), timedelta(minutes=1)),
    "1 h: one reading at red": (HOUR, HOUR),
}


@pytest.mark.parametrize(("spacing", "blip"), BLIPS.values(), ids=BLIPS.keys())
def test_a_short_blip_enters_no_tier(spacing: timedelta, blip: timedelta) -> None:
    calm = (6 * HOUR, quiet(POLICY))
    blips = (calm, (blip, inside(POLICY, Tier.I))) * 3 + (calm,)
    assert ladder_moves(blips, spacing, POLICY) == []


def test_counting_readings_alone_would_open_on_a_1_hz_blip() -> None:
    blip = ((HOUR, quiet(POLICY)), (timedelta(seconds=30), inside(POLICY, Tier.I)), (HOUR, quiet(POLICY)))
    readings_only = POLICY.model_copy(update={"enter_s": 0.0})
    assert ladder_moves(blip, timedelta(seconds=1), readings_only)[0][1:] == (WarningChange.OPENED, Tier.I)


def test_a_step_down_on_an_hourly_series_waits_for_five_readings() -> None:
    stages = ((2 * HOUR, inside(POLICY, Tier.III)), (10 * HOUR, quiet(POLICY)))
    moves = ladder_moves(stages, HOUR, POLICY)
    assert [(when, change) for when, change, _ in moves] == [
        (HOUR, WarningChange.OPENED),
        (6 * HOUR, WarningChange.RESOLVED),  # 5 readings below, from 2 h: 4 h, not 5 minutes
    ]


def test_independent_witnesses_agreeing_at_one_instant_enter_without_the_minute() -> None:
    red = inside(POLICY, Tier.I)
    alone, _ = advance(POLICY, LadderState(), T0, red, Impact.EXTREME, False)
    _, lone_change = advance(POLICY, alone, T0, red, Impact.EXTREME, False)
    together, _ = advance(POLICY, LadderState(), T0, red, Impact.EXTREME, False, corroborated=True)
    after, change = advance(POLICY, together, T0, red, Impact.EXTREME, False, corroborated=True)
    assert lone_change is None
    assert (change, after.tier) == (WarningChange.OPENED, Tier.I)


def test_inputs_folded_in_late_enter_on_the_spacing_they_were_observed_at() -> None:
    red, folded_at = inside(POLICY, Tier.I), T0 + 2 * HOUR  # behind another device's later readings

    def late(observed: list[datetime | None]) -> WarningChange | None:
        state, change = LadderState(), None
        for seen in observed:
            state, change = advance(POLICY, state, folded_at, red, Impact.EXTREME, False, observed_at=seen)
        return change

    assert late([T0, T0 + timedelta(minutes=1)]) is WarningChange.OPENED
    assert late([None, None]) is None, "two inputs of one instant span no time"
