"""``check_policy()``: the behaviour every :class:`~pipeline.assess.tiers.TierPolicy` must show.

Each scenario drives a whole :class:`~pipeline.assess.assessor.Assessor` with
one sensor of one community and a :class:`~pipeline.clock.ManualClock` (its
score is the fused risk: no witness minimum, no lone-witness cap; its reading
is an extreme impact, so the likelihood axis alone moves the tier); risk
levels and durations are derived from the policy under test (a level "inside
II" lies between II's and I's enter thresholds), so the same suite checks any
policy. One parametrised test runs it over every policy the project ships.

>>> names = check_policy(TierPolicy())
>>> len(names), names[0]
(12, 'slow_rise')
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from pipeline.assess.assessor import AssessmentOutput, Assessor
from pipeline.assess.config import AssessmentConfig
from pipeline.assess.episodes import NoticeKind, Notification, WarningEvent
from pipeline.assess.fusion import FusionConfig, SourceSignal
from pipeline.assess.impact import ImpactConfig
from pipeline.assess.silences import Silence
from pipeline.assess.tiers import LADDER, TierPolicy
from pipeline.clock import ManualClock
from schemas.feedback import Feedback, FeedbackAction
from schemas.hazard import Tier
from schemas.warning import WarningChange, WarningStatus

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COMMUNITY = "conformance-c1"
_RISES = (WarningChange.OPENED, WarningChange.ESCALATED)
EXTREME_RISE_M = 5.0
"""The one sensor's water rise: beyond every flood line, so its impact is extreme."""


def inside(policy: TierPolicy, tier: Tier) -> float:
    """A risk that enters ``tier`` and no more serious one."""
    index = LADDER.index(tier)
    upper = policy.enter[index + 1] if index + 1 < len(LADDER) else 1.0
    return (policy.enter[index] + upper) / 2


def quiet(policy: TierPolicy) -> float:
    """A risk below every exit threshold."""
    return policy.exit_of(Tier.IV) / 2


class PolicyRun:
    """One community, one sensor, a manual clock: feed risks, collect what the assessor says."""

    def __init__(self, policy: TierPolicy) -> None:
        self.policy = policy
        self.config = AssessmentConfig(
            tiers=policy,
            fusion=FusionConfig(witness_min=1e-9, lone_witness_cap=1.0, impact=ImpactConfig(extent={})),
        )
        self.clock = ManualClock(START)
        self.assessor = Assessor(self.config, self.clock)
        self.step = max(
            min(policy.exit_dwell / 5, timedelta(minutes=1)),
            timedelta(seconds=policy.enter_s / max(policy.enter_n - 1, 1)),
        )
        """One reading per step: at least five inside every exit dwell (unless the entry's time
        asks for longer steps), and ``enter_n`` readings enter a tier."""
        self.events: list[WarningEvent] = []
        self.notices: list[Notification] = []

    def signal(self, risk: float, warming_up: bool = False) -> SourceSignal:
        """A reading of the one sensor now, whose score is ``risk``."""
        return SourceSignal(
            source="sensor",
            community_id=COMMUNITY,
            series=f"{COMMUNITY}/s-1/water_level",
            signal_type="water_level",
            device_id="s-1",
            observed_at=self.clock.now(),
            score=risk,
            value=EXTREME_RISE_M,
            expected=0.0,
            model="conformance",
            warming_up=warming_up,
        )

    def collect(self, out: AssessmentOutput) -> None:
        """Keep the events and notifications of one call."""
        self.events += out.events
        self.notices += out.notifications

    def feed(self, risks: Iterable[float], warming_up: bool = False) -> None:
        """One reading per risk, a clock step and a tick after each."""
        for risk in risks:
            self.collect(self.assessor.observe(self.signal(risk, warming_up)))
            self.clock.advance(self.step)
            self.collect(self.assessor.tick())

    def hold(self, risk: float, duration: timedelta, warming_up: bool = False) -> None:
        """Readings of ``risk`` for ``duration``."""
        self.feed([risk] * math.ceil(duration / self.step), warming_up)

    def act(self, action: FeedbackAction, operator: str = "duty.officer") -> AssessmentOutput:
        """An operator's action on the open community warning."""
        warning = self.open_warning()
        assert warning is not None, "no open warning to act on"
        feedback = Feedback(
            feedback_id=f"fb-{len(self.events)}",
            warning_id=warning.warning.warning_id,
            community_id=COMMUNITY,
            action=action,
            operator=operator,
            time=self.clock.now(),
        )
        out = self.assessor.act(feedback)
        self.collect(out)
        return out

    def open_warning(self) -> WarningEvent | None:
        """The open warning, if any (never more than one in these scenarios)."""
        open_ = self.assessor.open_warnings()
        assert len(open_) <= 1, f"{len(open_)} open warnings for one (community, hazard)"
        return open_[0] if open_ else None

    def moves(self) -> list[tuple[WarningChange, Tier]]:
        """(change, tier) of every event so far."""
        return [(e.warning.change, e.warning.tier) for e in self.events]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def slow_rise(policy: TierPolicy) -> None:
    """A slow monotonic rise opens at IV and escalates one tier at a time to I, under one id."""
    run = PolicyRun(policy)
    low, top = quiet(policy), inside(policy, Tier.I)
    gap = min(b - a for a, b in zip(policy.enter, (*policy.enter[1:], 1.0), strict=True))
    samples = math.ceil((top - low) / gap * (policy.enter_m + 1)) + 1
    run.feed(low + (top - low) * i / samples for i in range(samples + 1))
    _expect(
        run.moves() == [(WarningChange.OPENED, Tier.IV)] + [(WarningChange.ESCALATED, t) for t in LADDER[1:]],
        f"slow rise gave {run.moves()}",
    )
    _expect(len({e.warning.warning_id for e in run.events}) == 1, "one episode must keep one id")


def spike(policy: TierPolicy) -> None:
    """One reading at red among quiet ones opens nothing unless the policy enters on one reading."""
    run = PolicyRun(policy)
    run.hold(quiet(policy), policy.exit_dwell)
    run.feed([inside(policy, Tier.I)])
    run.hold(quiet(policy), policy.exit_dwell * 6)
    if policy.enter_n >= 2:
        _expect(run.events == [], f"a lone spike opened {run.moves()}")
    else:
        _expect(run.moves()[:1] == [(WarningChange.OPENED, Tier.I)], f"spike gave {run.moves()}")
        _expect(run.open_warning() is None, "the spike's warning did not resolve")


def jump(policy: TierPolicy) -> None:
    """A sustained jump to red opens at I directly, on the enter_n-th red reading."""
    run = PolicyRun(policy)
    run.hold(quiet(policy), policy.exit_dwell)
    for n in range(1, policy.enter_n + 1):
        run.feed([inside(policy, Tier.I)])
        _expect(bool(run.events) == (n == policy.enter_n), f"opened after {n} red readings: {run.moves()}")
    _expect(run.moves() == [(WarningChange.OPENED, Tier.I)], f"jump gave {run.moves()}")


def oscillation(policy: TierPolicy) -> None:
    """A risk wobbling around III's enter threshold, inside the hysteresis band, moves nothing more."""
    run = PolicyRun(policy)
    above = inside(policy, Tier.III)
    below = (policy.exit_of(Tier.III) + policy.enter_of(Tier.III)) / 2
    run.feed([above, below] * math.ceil(policy.flap_window / run.step))
    _expect(run.moves()[-1:] == [(run.moves()[-1][0], Tier.III)], f"wobble ended at {run.moves()}")
    _expect(
        all(change in _RISES for change, _ in run.moves()) and len(run.events) <= 2,
        f"a wobble inside the hysteresis band moved the tier: {run.moves()}",
    )
    _expect(not any(e.flapping for e in run.events), "a wobble inside the band is not flapping")


def wide_oscillation(policy: TierPolicy) -> None:
    """Swings between II and IV across both thresholds mark the warning flapping and bound the
    reversals per window (a swing to quiet for a full dwell ends the warning instead)."""
    run = PolicyRun(policy)
    for _ in range(12):
        run.hold(inside(policy, Tier.II), run.step * (policy.enter_m + 1))
        run.hold(inside(policy, Tier.IV), policy.exit_dwell + run.step * 2)
    _expect(any(e.flapping for e in run.events), f"swings were never marked flapping: {run.moves()}")
    moves = [
        (e.warning.updated_at, 1 if e.warning.change in _RISES else -1)
        for e in run.events
        if e.warning.change is not WarningChange.ACKNOWLEDGED
    ]
    for start, _ in moves:
        window = [d for t, d in moves if start <= t < start + policy.flap_window]
        reversals = sum(a != b for a, b in pairwise(window))
        _expect(
            reversals <= policy.flap_max_reversals + 1,
            f"{reversals} reversals within one flap window from {start}",
        )


def recovery(policy: TierPolicy) -> None:
    """After red, a quiet risk lifts the warning after one exit dwell: a hazard that is over
    is not walked down through tiers the evidence no longer shows."""
    run = PolicyRun(policy)
    run.hold(inside(policy, Tier.I), run.step * (policy.enter_m + 1))
    calm_from = run.clock.now()
    run.hold(quiet(policy), policy.exit_dwell * 6)
    downs = [e.warning for e in run.events if e.warning.change not in _RISES]
    _expect(
        [(w.change, w.tier) for w in downs] == [(WarningChange.RESOLVED, Tier.I)],
        f"recovery gave {run.moves()}",
    )
    _expect(downs[0].updated_at - calm_from >= policy.exit_dwell, "lifted before one exit dwell")
    _expect(downs[-1].status is WarningStatus.RESOLVED and run.open_warning() is None, "not resolved")


def descent(policy: TierPolicy) -> None:
    """After red, a risk that falls part way steps down, after one exit dwell and in one
    step, to the tier it still holds (by the exit thresholds), and is lifted one more dwell
    after it falls quiet."""
    run = PolicyRun(policy)
    run.hold(inside(policy, Tier.I), run.step * (policy.enter_m + 1))
    calm_from = run.clock.now()
    run.hold(inside(policy, Tier.III), policy.exit_dwell * 3)
    run.hold(quiet(policy), policy.exit_dwell * 6)
    downs = [e.warning for e in run.events if e.warning.change not in _RISES]
    changes = [w.change for w in downs]
    _expect(changes == [WarningChange.DE_ESCALATED, WarningChange.RESOLVED], f"descent gave {run.moves()}")
    _expect(
        downs[0].tier in (Tier.II, Tier.III) and downs[1].tier is downs[0].tier, f"descent gave {run.moves()}"
    )
    times = [calm_from, *(w.updated_at for w in downs)]
    _expect(
        all(b - a >= policy.exit_dwell for a, b in pairwise(times)),
        f"stepped down faster than one exit dwell: {times}",
    )


def _episode_risks(run: PolicyRun) -> tuple[list[float], int]:
    """Quiet, III, I, then quiet until resolved; and an index in the exit dwell before the end."""
    policy, steps = run.policy, run.policy.enter_m + 1
    dwell = math.ceil(policy.exit_dwell / run.step)
    risks = (
        [quiet(policy)] * steps
        + [inside(policy, Tier.III)] * steps
        + [inside(policy, Tier.I)] * steps
        + [quiet(policy)] * dwell * 6
    )
    return risks, 3 * steps + dwell // 2


def _dumps(events: list[WarningEvent]) -> list[str]:
    return [e.model_dump_json() for e in events]


def restart(policy: TierPolicy) -> None:
    """State exported mid-episode (as JSON text) and imported into a new assessor changes nothing."""
    whole = PolicyRun(policy)
    risks, half = _episode_risks(whole)
    whole.feed(risks)
    split = PolicyRun(policy)
    split.feed(risks[:half])
    _expect(split.open_warning() is not None, "the restart must happen mid-episode")
    checkpoint = json.loads(json.dumps(split.assessor.export_state()))
    split.assessor = Assessor(split.config, split.clock, checkpoint)
    split.feed(risks[half:])
    _expect(_dumps(split.events) == _dumps(whole.events), "a restart changed the warning events")


def redelivery(policy: TierPolicy) -> None:
    """Duplicates and late redeliveries (at-least-once) neither add a warning nor move it back."""
    clean = PolicyRun(policy)
    risks, _ = _episode_risks(clean)
    clean.feed(risks)
    noisy = PolicyRun(policy)
    sent: list[SourceSignal] = []
    for risk in risks:
        signal = noisy.signal(risk)
        sent.append(signal)
        for again in (signal, signal, *sent[-4:-3]):
            noisy.collect(noisy.assessor.observe(again))
        noisy.clock.advance(noisy.step)
        noisy.collect(noisy.assessor.tick())
    _expect(_dumps(noisy.events) == _dumps(clean.events), "redelivered inputs changed the warning events")
    revisions = [e.warning.revision for e in noisy.events]
    _expect(revisions == list(range(1, len(revisions) + 1)), f"revisions went {revisions}")


def _delivered(run: PolicyRun, kind: NoticeKind) -> list[Notification]:
    return [n for n in run.notices if n.kind is kind and n.suppressed_by is None and n.topics]


def ack_then_escalation(policy: TierPolicy) -> None:
    """An ack stops repeats and overdue notices at its tier; a rise notifies again and re-arms the timers."""
    run = PolicyRun(policy)
    run.hold(inside(policy, Tier.III), run.step * (policy.enter_m + 1))
    _expect(run.moves()[-1][1] is Tier.III, f"did not reach III: {run.moves()}")
    out = run.act(FeedbackAction.ACKNOWLEDGE)
    _expect([e.warning.status for e in out.events] == [WarningStatus.ACKNOWLEDGED], "ack was not recorded")
    episodes = run.config.episodes
    before = len(run.notices)
    run.hold(inside(policy, Tier.III), episodes.repeat_after(Tier.III) + episodes.ack_within(Tier.III) * 3)
    _expect(len(run.notices) == before, f"acknowledged warning still notified: {run.notices[before:]}")
    run.hold(inside(policy, Tier.I), run.step * (policy.enter_m + 1))
    rise = run.events[-1].warning
    _expect(
        (rise.change, rise.tier, rise.status) == (WarningChange.ESCALATED, Tier.I, WarningStatus.ACTIVE),
        f"the rise after the ack gave {rise.change} {rise.tier} {rise.status}",
    )
    _expect(bool(_delivered(run, NoticeKind.ESCALATED)), "the rise after an ack was not notified")
    run.hold(inside(policy, Tier.I), episodes.ack_within(Tier.I) + run.step)
    overdue = _delivered(run, NoticeKind.ACK_OVERDUE)
    _expect(bool(overdue) and overdue[0].level == 1, "unacknowledged red did not reach the next level")


def silence_expiry(policy: TierPolicy) -> None:
    """A warning opened under a silence is recorded but not paged, and is paged once the silence ends."""
    run = PolicyRun(policy)
    length = run.step * (policy.enter_m + 1) * 4
    run.assessor.add_silence(
        Silence(
            silence_id="maintenance-1",
            community_id=COMMUNITY,
            starts_at=run.clock.now(),
            ends_at=run.clock.now() + length,
            author="duty.officer",
            comment="sensor recalibration",
        )
    )
    run.hold(inside(policy, Tier.III), length - run.step)
    _expect(bool(run.events), "a silence must not stop the warning being recorded")
    _expect(
        all(n.suppressed_by for n in run.notices) and bool(run.notices),
        f"notified during the silence: {[n for n in run.notices if not n.suppressed_by]}",
    )
    run.hold(inside(policy, Tier.III), run.step * 2)
    _expect(run.assessor.silences() == [], "the silence did not expire")
    _expect(bool(_delivered(run, NoticeKind.REPEAT)), "the owed notification was not sent after expiry")


def warm_up(policy: TierPolicy) -> None:
    """While models warm up nothing goes above IV; afterwards the same risk escalates."""
    run = PolicyRun(policy)
    run.hold(inside(policy, Tier.I), policy.exit_dwell * 2, warming_up=True)
    _expect(run.moves() == [(WarningChange.OPENED, Tier.IV)], f"warming up gave {run.moves()}")
    run.hold(inside(policy, Tier.I), run.step * (policy.enter_m + 1))
    _expect(run.moves()[-1] == (WarningChange.ESCALATED, Tier.I), f"after warm-up: {run.moves()}")


SCENARIOS: tuple[Callable[[TierPolicy], None], ...] = (
    slow_rise,
    spike,
    jump,
    oscillation,
    wide_oscillation,
    recovery,
    descent,
    restart,
    redelivery,
    ack_then_escalation,
    silence_expiry,
    warm_up,
)


def check_policy(policy: TierPolicy) -> list[str]:
    """Run every scenario on ``policy``; raise one AssertionError naming each that failed.

    Returns the names of the scenarios checked.
    """
    failures = []
    for scenario in SCENARIOS:
        try:
            scenario(policy)
        except AssertionError as error:
            failures.append(f"{scenario.__name__}: {error}")
    if failures:
        raise AssertionError("policy fails conformance:\n" + "\n".join(failures))
    return [scenario.__name__ for scenario in SCENARIOS]
