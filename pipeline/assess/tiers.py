"""The four-tier ladder (IV blue · III yellow · II orange · I red) for one (community, hazard).

A tier says how bad, not how surprised. Each input has two axes: the fused
risk (*likelihood*: how sure, :mod:`pipeline.assess.fusion`) and the *impact*
(how bad, :mod:`pipeline.assess.impact`). The risk is cut into four likelihood
levels by the enter (or, for holding a tier, the exit) thresholds, and the
tier is the cell of :attr:`TierPolicy.matrix` at (likelihood level, impact),
as impact-based warnings of national weather services do. By default the tier
is the lesser of the two axes: a surprising but small deviation stays IV, and
I red needs an extreme impact *and* near-certain, corroborated evidence.

:func:`advance` folds one (risk, impact) input into a :class:`LadderState` and
says how the tier moved. Rules, in order:

* **Enter, N of M and a time**: a tier is reached when at least ``enter_n`` of
  the last ``enter_m`` inputs grade at or above it (by the enter thresholds)
  and has gone on doing so for ``enter_s`` of event time, counted from the
  oldest of those inputs, or the input is corroborated (independent witnesses
  agree: several reporters at once are not one series' noise); the most
  serious such tier is taken at once (a jump skips tiers).
* **Warm-up cap**: while the evidence comes from models still warming up the
  ladder does not go above IV.
* **Exit, hysteresis and dwell**: after the inputs have graded below the tier
  for ``exit_dwell_s`` and ``exit_n`` inputs (graded by the lower exit thresholds
  and the impact one step up, :meth:`TierPolicy.grade`), the tier drops to the
  highest grade they held in that dwell, and the warning is lifted when they held
  none: a hazard that is over ends, rather than being walked down through tiers
  the evidence no longer shows (each step a notice to the responders). A further
  step needs another full dwell.
* **Flapping**: ``flap_max_reversals`` reversals of direction (a rise after a
  fall, or a fall after a rise) within ``flap_window_s`` mark the ladder
  flapping; while flapping it does not step down (rises still pass), so the
  tier is held at the top of the oscillation. A plain incident — up, up, down,
  down, resolved — has one reversal and never flaps.
* **Re-arm**: after an operator closes a warning (resolved, false alarm) the
  ladder opens nothing new until the risk has fallen below IV's exit threshold.

Times are the inputs' event times, so a replay decides the same way.

Entry and exit count inputs *and* time, whichever is longer, so the ladder
behaves the same at any sampling rate: on a 1-minute series the readings
and the times agree (2 readings span a minute; 6 readings five minutes); on a
1-second series the time rules (60 readings are needed to enter, where 2 of 3
would be a two-second blip), on an hourly one the readings (2 hours to enter,
5 readings to step down, where 5 minutes would be one reading).

>>> from datetime import UTC, datetime, timedelta
>>> policy, state = TierPolicy(), LadderState()
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> state, change = advance(policy, state, t0, 0.9, Impact.EXTREME, False)
>>> change is None   # one high risk is 1 of the last 3: not yet
True
>>> state, change = advance(policy, state, t0 + timedelta(minutes=1), 0.9, Impact.EXTREME, False)
>>> change, state.tier   # 2 of 3 at II's 0.85: opened straight at II
(<WarningChange.OPENED: 'opened'>, <Tier.II: 2>)
>>> policy.tier_of(0.99, Impact.MINOR).label   # near certain, but small: blue
'IV blue'
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.hazard import Impact, Tier
from schemas.warning import TierAxis, WarningChange

LADDER: tuple[Tier, ...] = (Tier.IV, Tier.III, Tier.II, Tier.I)
"""The tiers from least to most serious; index ``i`` of a policy's thresholds is ``LADDER[i]``."""

Threshold = Annotated[float, Field(gt=0.0, le=1.0)]
Row = tuple[Tier, Tier, Tier, Tier]
Trend = Literal["rising", "steady", "falling"]

DEFAULT_MATRIX: tuple[Row, Row, Row, Row] = (
    (Tier.IV, Tier.IV, Tier.IV, Tier.IV),
    (Tier.IV, Tier.III, Tier.III, Tier.III),
    (Tier.IV, Tier.III, Tier.II, Tier.II),
    (Tier.IV, Tier.III, Tier.II, Tier.I),
)
"""Rows: likelihood possible (≥ IV's threshold) … near certain (≥ I's); columns: impact
MINOR … EXTREME. The tier is the lesser axis, the "impact × likelihood" rule of the UK
Met Office's National Severe Weather Warning Service and of WMO-No. 1150 (*Guidelines on
Multi-hazard Impact-based Forecast and Warning Services*, 2015) read conservatively: where
they let a low-likelihood, high-impact event reach amber, we keep it at the level its
likelihood supports, because our likelihood is the evidence already in hand (a physical
limit exceedance alone is "very likely", :attr:`~pipeline.assess.fusion.FusionConfig.limit_strength`)
rather than a forecast's probability."""


class TierPolicy(BaseModel):
    """Every parameter of the ladder, with the reason for each default.

    Risks are fused probabilities in [0, 1] (see :mod:`pipeline.assess.fusion`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    matrix: tuple[Row, Row, Row, Row] = DEFAULT_MATRIX
    """The tier at (likelihood level, impact): :data:`DEFAULT_MATRIX`; tiers by name ("IV") in
    a settings file. Every row and column must not fall as the axis rises."""
    enter: tuple[Threshold, Threshold, Threshold, Threshold] = (0.50, 0.70, 0.85, 0.97)
    """Likelihood levels (rows of :attr:`matrix`) entered from these risks; with an extreme
    impact they are the enter thresholds for IV, III, II, I, on the fused-risk scale of
    :mod:`pipeline.assess.fusion`. IV at 0.5: the evidence says "hazard" more
    likely than not; III at 0.7: one strong witness (a sensor at surprise ≈ 6.5,
    see :func:`~pipeline.assess.fusion.sensor_score`); II at 0.85: a very strong
    witness, or two agreeing; I at 0.97: above what one witness can reach
    (:attr:`~pipeline.assess.fusion.FusionConfig.lone_witness_cap`), so red always
    rests on independent sources agreeing, e.g. a limit exceedance plus a report."""
    exit: tuple[Threshold, Threshold, Threshold, Threshold] = (0.35, 0.55, 0.75, 0.93)
    """The likelihood levels a tier is held at (exit thresholds): 0.05–0.15 below the enter thresholds, wider
    than the sample-to-sample wobble of a fused risk near a threshold, so a risk
    hovering at a threshold does not toggle the tier (hysteresis)."""
    enter_n: Annotated[int, Field(ge=1, le=20)] = 2
    enter_m: Annotated[int, Field(ge=1, le=20)] = 3
    """2 of the last 3 risks: one isolated spike never opens a warning, one dropped
    or low sample inside a real rise does not delay it, and with sensors reporting
    about once a minute a warning opens within ~2 minutes of the rise."""
    enter_s: Annotated[float, Field(ge=0)] = 60.0
    """The inputs that enter a tier span at least a minute of event time (from the oldest of
    the ``enter_n``): what 2 readings of a 60-second sensor span, so a 1-minute series enters
    as it does by readings alone, while a 1 Hz series needs a minute-long rise, not a
    two-second blip. 0 counts readings only."""
    exit_dwell_s: Annotated[float, Field(gt=0)] = 300.0
    """5 minutes below the tier's exit threshold per step down: about five readings of a
    60-second sensor, longer than the lull between two waves of a storm; red whose
    evidence is gone is lifted after these 5 minutes, and one that falls part way steps to
    the tier its evidence still holds, each step a further dwell."""
    exit_n: Annotated[int, Field(ge=1, le=100)] = 5
    """And at least 5 inputs below it (the first one included): on a 1-minute series the
    5 minutes rule (6 inputs), on an hourly one a step down needs 5 readings (4 hours after
    the first one below), not the next reading, so one calm hour does not step it down."""
    flap_window_s: Annotated[float, Field(gt=0)] = 1800.0
    flap_max_reversals: Annotated[int, Field(ge=1, le=50)] = 2
    """Up, down, up within 30 minutes (2 reversals) is noise for people who must act on
    each change: it marks the warning flapping and holds its tier until the window
    holds fewer reversals. Hysteresis and the exit dwell already stop most
    oscillation; this is the backstop for a risk that swings across both thresholds."""

    @field_validator("matrix", mode="before")
    @classmethod
    def _tiers_by_name(cls, rows: object) -> object:
        if isinstance(rows, list | tuple):
            return tuple(
                tuple(Tier[cell] if isinstance(cell, str) else cell for cell in row)
                if isinstance(row, list | tuple)
                else row
                for row in rows
            )
        return rows

    @model_validator(mode="after")
    def _thresholds_are_a_ladder(self) -> TierPolicy:
        if list(self.enter) != sorted(set(self.enter)):
            raise ValueError("enter thresholds must rise strictly from IV to I")
        if list(self.exit) != sorted(set(self.exit)):
            raise ValueError("exit thresholds must rise strictly from IV to I")
        if any(out >= into for out, into in zip(self.exit, self.enter, strict=True)):
            raise ValueError("each exit threshold must lie below its tier's enter threshold (hysteresis)")
        if self.enter_n > self.enter_m:
            raise ValueError("enter_n cannot exceed enter_m")
        if self.enter_n == 1 and self.enter_s > 0:
            raise ValueError("enter_s needs enter_n of 2 or more: one input spans no time (set enter_s 0)")
        for row in self.matrix:
            if any(a.severity > b.severity for a, b in pairwise(row)):
                raise ValueError("matrix: a tier must not fall as impact rises (along a row)")
        for low, high in pairwise(self.matrix):
            if any(a.severity > b.severity for a, b in zip(low, high, strict=True)):
                raise ValueError("matrix: a tier must not fall as likelihood rises (down a column)")
        return self

    def grade(self, risk: float, impact: Impact, holding: bool = False) -> int:
        """The matrix's tier for one input as a severity (1 IV … 4 I, 0 none).

        Entering goes by the enter thresholds and the impact as it is; ``holding`` a
        tier goes by the lower exit thresholds and the impact one step up, so both
        axes have hysteresis: a tier is held until the magnitude falls a whole line
        below the one that raised it, and a level wobbling at a line does not flap.
        """
        level = sum(risk >= threshold for threshold in (self.exit if holding else self.enter))
        column = min(impact.rank + 1, len(Impact)) if holding else impact.rank
        return self.matrix[level - 1][column - 1].severity if level else 0

    def tier_of(self, risk: float, impact: Impact) -> Tier | None:
        """The matrix's tier for one input by the enter thresholds (None below IV's)."""
        grade = self.grade(risk, impact)
        return Tier(5 - grade) if grade else None

    def set_by(self, risk: float, impact: Impact) -> TierAxis:
        """Which axis holds the input's tier where it is: the one whose rise alone would raise it.

        >>> policy = TierPolicy()
        >>> policy.set_by(0.99, Impact.MODERATE), policy.set_by(0.75, Impact.EXTREME)
        ('impact', 'likelihood')
        """
        grade = self.grade(risk, impact)
        by_impact = self.grade(risk, Impact.EXTREME) > grade
        by_likelihood = self.grade(1.0, impact) > grade
        if by_impact != by_likelihood:
            return "impact" if by_impact else "likelihood"
        return "both"

    def enter_of(self, tier: Tier) -> float:
        """The risk at which ``tier`` is entered."""
        return self.enter[LADDER.index(tier)]

    def exit_of(self, tier: Tier) -> float:
        """The risk below which ``tier`` starts its exit dwell."""
        return self.exit[LADDER.index(tier)]

    @property
    def exit_dwell(self) -> timedelta:
        """:attr:`exit_dwell_s` as a duration."""
        return timedelta(seconds=self.exit_dwell_s)

    @property
    def flap_window(self) -> timedelta:
        """:attr:`flap_window_s` as a duration."""
        return timedelta(seconds=self.flap_window_s)


class LadderState(BaseModel):
    """Everything the ladder remembers, as plain data (dwell timers included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: Tier | None = None
    recent: tuple[Annotated[int, Field(ge=0, le=4)], ...] = ()
    """The grades (tier severity 1 IV … 4 I, 0 none) of the last ``enter_m`` inputs, oldest first."""
    recent_at: tuple[datetime, ...] = ()
    """The event times of those inputs."""
    entering_since: tuple[datetime | None, ...] = ()
    """Per tier of :data:`LADDER` (IV first): since when its N of M has held without a break
    (the oldest input of the N when it began), None while it does not."""
    below_since: datetime | None = None
    """When the inputs started to grade below the current tier (by the exit thresholds) and stayed there."""
    below_count: int = 0
    """How many inputs have graded below it since then."""
    below_peak: Annotated[int, Field(ge=0, le=4)] = 0
    """The highest grade (by the exit thresholds) of those inputs: the tier a step down goes to."""
    changes: tuple[tuple[datetime, int], ...] = ()
    """Tier changes inside the flap window: (event time, +1 for a rise or -1 for a fall)."""
    flapping: bool = False
    last_at: datetime | None = None
    """Event time of the last risk folded in; older inputs are ignored."""
    rearm: bool = False

    @field_validator("recent", mode="before")
    @classmethod
    def _forget_risks_of_older_checkpoints(cls, recent: object) -> object:
        """Checkpoints written before the impact axis held the last risks here (fractions of 1):
        they are forgotten, which delays a pending rise by at most ``enter_n`` inputs, rather
        than refusing the community's whole state on the first start after an upgrade."""
        if isinstance(recent, list | tuple) and any(
            isinstance(v, float) and not v.is_integer() for v in recent
        ):
            return ()
        return recent

    @property
    def trend(self) -> Trend:
        """Rising or falling when the newest grade is above or below the oldest one still held.

        >>> LadderState(recent=(1, 2, 3)).trend, LadderState(recent=(2, 1, 2)).trend
        ('rising', 'steady')
        """
        if len(self.recent) < 2 or self.recent[-1] == self.recent[0]:
            return "steady"
        return "rising" if self.recent[-1] > self.recent[0] else "falling"

    def is_idle(self, policy: TierPolicy) -> bool:
        """True when forgetting this state changes nothing (no tier, no pending rise, no history)."""
        return self.tier is None and not any(self.recent) and not self.rearm and not self.changes


def _entering(
    policy: TierPolicy, state: LadderState, recent: tuple[int, ...], recent_at: tuple[datetime, ...]
) -> tuple[datetime | None, ...]:
    """Per tier, since when its N of M has held (kept from ``state`` while unbroken).

    Grades and times are paired from the newest: grades of a checkpoint written before entry
    counted time have none and are left out, delaying a pending rise by at most ``enter_n``
    inputs rather than entering a tier on a guessed time.
    """
    timed = list(zip(reversed(recent), reversed(recent_at), strict=False))[::-1]
    since: list[datetime | None] = []
    for index, tier in enumerate(LADDER):
        times = [t for grade, t in timed if grade >= tier.severity]
        held = state.entering_since[index] if index < len(state.entering_since) else None
        since.append((held or times[0]) if len(times) >= policy.enter_n else None)
    return tuple(since)


def _reached(
    policy: TierPolicy,
    entering: tuple[datetime | None, ...],
    at: datetime,
    warming_up: bool,
    corroborated: bool,
) -> Tier | None:
    reached = None
    for tier, since in zip(LADDER, entering, strict=True):
        if since is not None and (corroborated or (at - since).total_seconds() >= policy.enter_s):
            reached = tier
    if warming_up and reached is not None:
        return Tier.IV
    return reached


def _reversals(changes: tuple[tuple[datetime, int], ...]) -> int:
    return sum(a[1] != b[1] for a, b in pairwise(changes))


def advance(
    policy: TierPolicy,
    state: LadderState,
    at: datetime,
    risk: float,
    impact: Impact,
    warming_up: bool,
    *,
    corroborated: bool = False,
    observed_at: datetime | None = None,
) -> tuple[LadderState, WarningChange | None]:
    """Fold the risk and impact at event time ``at`` in; return the new state and the tier change, if any.

    ``corroborated``: the risk rests on two or more independent witnesses, so its tier needs
    no time beyond the N of M. ``observed_at``: when its evidence was observed, if earlier
    than ``at`` (an input folded in late, behind another device's readings): the entry's
    time is counted on it, so a late batch keeps its own readings' spacing.

    An input older than the last one is ignored (``(state, None)``), so
    redelivered or out-of-order inputs never move the ladder backwards.
    """
    if state.last_at is not None and at < state.last_at:
        return state, None
    recent = (*state.recent, policy.grade(risk, impact))[-policy.enter_m :]
    seen = min(observed_at or at, at)
    recent_at = (*state.recent_at, seen)[-policy.enter_m :]
    entering = _entering(policy, state, recent, recent_at)
    held = policy.grade(risk, impact, holding=True)
    changes = tuple((t, d) for t, d in state.changes if at - t < policy.flap_window)
    rearm = state.rearm and risk >= policy.exit_of(Tier.IV)
    target = None if rearm else _reached(policy, entering, max(recent_at), warming_up, corroborated)
    tier, below_since, below_count, change = state.tier, state.below_since, state.below_count, None
    below_peak = state.below_peak
    flapping = _reversals(changes) >= policy.flap_max_reversals
    if target is not None and (tier is None or target.severity > tier.severity):
        change = WarningChange.OPENED if tier is None else WarningChange.ESCALATED
        tier, below_since, below_count = target, None, 0
    elif tier is not None and held < tier.severity:
        below_peak = max(below_peak, held) if below_since else held
        below_since, below_count = below_since or at, below_count + 1
        dwelt = at - below_since >= policy.exit_dwell and below_count >= policy.exit_n
        if dwelt and not flapping:
            tier = LADDER[below_peak - 1] if below_peak else None
            change = WarningChange.RESOLVED if tier is None else WarningChange.DE_ESCALATED
            if tier is not None and held < tier.severity:
                below_since, below_count, below_peak = at, 1, held
            else:
                below_since, below_count, below_peak = None, 0, 0
    elif tier is not None:
        below_since, below_count, below_peak = None, 0, 0
    if change is not None:
        rise = change in (WarningChange.OPENED, WarningChange.ESCALATED)
        changes = (*changes, (at, 1 if rise else -1))
        flapping = _reversals(changes) >= policy.flap_max_reversals
    new_state = LadderState(
        tier=tier,
        recent=recent,
        recent_at=recent_at,
        entering_since=entering,
        below_since=below_since,
        below_count=below_count,
        below_peak=below_peak,
        changes=changes,
        flapping=flapping,
        last_at=at,
        rearm=rearm,
    )
    return new_state, change


def closed_by_operator(state: LadderState) -> LadderState:
    """The ladder after an operator resolved the warning or marked it false: no tier, re-arm first."""
    return state.model_copy(
        update={
            "tier": None,
            "below_since": None,
            "below_count": 0,
            "recent": (),
            "recent_at": (),
            "entering_since": (),
            "rearm": True,
        }
    )
