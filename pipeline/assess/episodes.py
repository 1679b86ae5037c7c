"""Warnings as episodes: one per (scope, hazard) episode, every change a revision, and what to notify.

An episode starts when the ladder opens a tier and ends when it resolves or
an operator resolves it or marks it a false alarm. Its id is derived from the
scope, the hazard and the event time that opened it, so reprocessing the same
inputs after a crash yields the same id and updates the same warning.

Each change is a :class:`WarningEvent`: the :class:`~schemas.warning.RiskWarning`
revision for the audit trail plus what the schema does not carry yet (scope,
district, flapping, linked warnings, the send times of earlier revisions for
CAP ``references``). Notifications are separate: a revision is always
recorded, a notification may be muted by a silence or inhibited.

>>> from datetime import UTC, datetime
>>> episode_id("community", "c1", Hazard.FLOOD, datetime(2026, 1, 1, tzinfo=UTC))
'2640aab1-0be6-5dc7-8684-15d8a3e0d482'
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.assess.tiers import Trend
from schemas.feedback import Feedback, FeedbackAction, Rebaseline
from schemas.hazard import Hazard, Impact, Tier
from schemas.warning import Evidence, RiskWarning, TierAxis, WarningChange, WarningStatus

ASSESSMENT_ACTOR = "riskwatch/assessment"
"""``caused_by`` of changes the assessment made (operators' changes carry their name)."""
_NAMESPACE = uuid.UUID("3b8f0b52-4f0e-4d53-9a57-2f0d8f1c7e21")

Scope = Literal["community", "district"]
Basis = Literal["limit", "corroborated", "single", "quiet"]
"""What a warning rests on now: a physical limit exceedance, several independent
sources, one source, or nothing any more (it is on its way down); CAP
certainty and urgency follow from it."""

Seconds = Annotated[float, Field(gt=0)]


def episode_id(scope: Scope, area_id: str, hazard: Hazard, opened_at: datetime) -> str:
    """Deterministic warning id: the same episode after a replay gets the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{scope}|{area_id}|{hazard.value}|{opened_at.isoformat()}"))


class EpisodePolicy(BaseModel):
    """Per-tier repeat and acknowledgement times, indexed IV, III, II, I like the thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repeat_s: tuple[Seconds, Seconds, Seconds, Seconds] = (14400.0, 3600.0, 1800.0, 900.0)
    """Repeat a still-active, unacknowledged warning every 4 h (IV), 1 h (III), 30 min (II),
    15 min (I): often enough that a missed page is caught within the tier's reaction time,
    rarely enough that a long episode does not train people to ignore the pager."""
    ack_timeout_s: tuple[Seconds, Seconds, Seconds, Seconds] = (3600.0, 1800.0, 900.0, 300.0)
    """Not acknowledged within 1 h (IV), 30 min (III), 15 min (II), 5 min (I) → an
    escalation notice to the next responder level; again after each further timeout up
    to :attr:`max_level`. Red must reach a person in minutes."""
    max_level: Annotated[int, Field(ge=0, le=5)] = 2
    """Responder levels: 0 community office, 1 district command centre, 2 city emergency bureau."""

    def repeat_after(self, tier: Tier) -> timedelta:
        """How long after the last notification an unacknowledged warning is repeated."""
        return timedelta(seconds=self.repeat_s[4 - tier.value])

    def ack_within(self, tier: Tier) -> timedelta:
        """How long responders at one level have to acknowledge a warning of ``tier``."""
        return timedelta(seconds=self.ack_timeout_s[4 - tier.value])


class WarningEvent(BaseModel):
    """One warning change: the revision for ``riskwatch.warnings`` plus the assessment's context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warning: RiskWarning
    scope: Scope = "community"
    district_id: str | None = None
    flapping: bool = False
    basis: Basis = "single"
    witnesses: tuple[str, ...] = ()
    """The independent witnesses the current risk rests on (``device:wl-1``, ``reporters:police``)."""
    trend: Trend = "steady"
    """Where the grade went over the ladder's last inputs (CAP urgency: rising is Immediate)."""
    linked_warning_ids: tuple[str, ...] = ()
    """For a district warning: the community warnings it rolls up."""
    covers: tuple[str, ...] = ()
    """The communities the warning is about (itself, or a district's communities)."""
    earlier_sent: tuple[datetime, ...] = ()
    """``updated_at`` of revisions 1 … revision-1, for CAP ``references``."""


class NoticeKind(StrEnum):
    """Why responders are being told something."""

    OPENED = "opened"
    ESCALATED = "escalated"
    DE_ESCALATED = "de_escalated"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"
    REPEAT = "repeat"
    ACK_OVERDUE = "ack_overdue"
    DEVICE_FAULT = "device_fault"


NOTIFYING_CHANGES: dict[WarningChange, NoticeKind] = {
    WarningChange.OPENED: NoticeKind.OPENED,
    WarningChange.ESCALATED: NoticeKind.ESCALATED,
    WarningChange.DE_ESCALATED: NoticeKind.DE_ESCALATED,
    WarningChange.RESOLVED: NoticeKind.RESOLVED,
    WarningChange.FALSE_ALARM: NoticeKind.FALSE_ALARM,
}
"""Changes that tell responders; an acknowledgement is recorded but pages nobody."""


class Notification(BaseModel):
    """A message to responders, routed to topics, or suppressed with the reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: NoticeKind
    community_id: str
    hazard: Hazard
    tier: Tier
    level: int
    """Responder level: 0 community office, 1 district, 2 city."""
    at: datetime
    warning_id: str | None = None
    revision: int | None = None
    """The warning's revision the notice is about (``None`` for device faults)."""
    devices: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    text: str = ""
    topics: tuple[str, ...] = ()
    suppressed_by: str | None = None


class FalseAlarmFeedback(BaseModel):
    """What the detectors and the report classifier should learn from a false alarm.

    The named series must not learn ``window_start``…``window_end`` as a
    normal-breaking pattern and should raise their threshold; the named reports
    are negative examples for their category.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    warning_id: str
    community_id: str
    hazard: Hazard
    series: tuple[str, ...]
    report_ids: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    operator: str
    comment: str | None = None


class EpisodeState(BaseModel):
    """One open episode, as plain data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latest: WarningEvent
    tier_since: datetime
    """Clock time the current tier was reached (acknowledgement timers run from here)."""
    notified_at: datetime | None = None
    """Clock time of the last delivered notification; ``None``: one is owed (e.g. it was muted)."""
    overdue_level: int = 0
    acked_tier: Tier | None = None
    devices: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    """Every series and report that counted during the episode (for false-alarm feedback)."""
    first_seen: datetime
    feedback_ids: tuple[str, ...] = ()

    @property
    def warning(self) -> RiskWarning:
        """The latest revision."""
        return self.latest.warning


def _status(change: WarningChange, previous: WarningStatus) -> WarningStatus:
    if change is WarningChange.RESOLVED:
        return WarningStatus.RESOLVED
    if change is WarningChange.FALSE_ALARM:
        return WarningStatus.FALSE_ALARM
    if change is WarningChange.ACKNOWLEDGED:
        return WarningStatus.ACKNOWLEDGED
    if change in (WarningChange.OPENED, WarningChange.ESCALATED):
        return WarningStatus.ACTIVE
    return previous


def open_episode(event: WarningEvent, now: datetime, devices: tuple[str, ...]) -> EpisodeState:
    """The state of an episode whose first revision is ``event``."""
    evidence = event.warning.evidence
    return EpisodeState(
        latest=event,
        tier_since=now,
        devices=devices,
        sources=_sources((), evidence),
        first_seen=min((e.observed_at for e in evidence), default=event.warning.opened_at),
    )


def _sources(known: tuple[str, ...], evidence: list[Evidence]) -> tuple[str, ...]:
    new = [f"report:{e.report_id}" if e.report_id else e.series for e in evidence]
    return tuple(dict.fromkeys([*known, *new]))[:200]


def revise(
    state: EpisodeState,
    change: WarningChange,
    *,
    tier: Tier,
    at: datetime,
    now: datetime,
    risk: float | None = None,
    evidence: list[Evidence] | None = None,
    caused_by: str = ASSESSMENT_ACTOR,
    comment: str | None = None,
    context: dict[str, object] | None = None,
    impact: Impact | None = None,
    tier_set_by: TierAxis | None = None,
) -> EpisodeState:
    """The next revision of the episode, caused by ``change`` at event time ``at``.

    ``updated_at`` never goes back: a late input revises at the latest time seen.
    ``risk``, ``evidence``, ``impact`` and ``tier_set_by`` keep their last values when not given.
    """
    old = state.warning
    warning = old.model_copy(
        update={
            "revision": old.revision + 1,
            "tier": tier,
            "status": _status(change, old.status),
            "change": change,
            "updated_at": max(at, old.updated_at),
            "risk": old.risk if risk is None else risk,
            "caused_by": caused_by,
            "comment": comment,
            "evidence": old.evidence if evidence is None else evidence,
            "impact": old.impact if impact is None else impact,
            "tier_set_by": old.tier_set_by if tier_set_by is None else tier_set_by,
        }
    )
    latest = state.latest.model_copy(
        update={
            "warning": warning,
            "earlier_sent": (*state.latest.earlier_sent, old.updated_at),
            **(context or {}),
        }
    )
    rose = tier.severity > old.tier.severity
    return state.model_copy(
        update={
            "latest": latest,
            "tier_since": now if rose else state.tier_since,
            "overdue_level": 0 if rose else state.overdue_level,
            "acked_tier": None if rose else state.acked_tier,
            "sources": _sources(state.sources, warning.evidence),
        }
    )


def acknowledge_or_close(
    state: EpisodeState, feedback: Feedback, now: datetime
) -> tuple[EpisodeState, FalseAlarmFeedback | None] | None:
    """Apply an operator action; ``None`` when it changes nothing (a duplicate, or ack of an ack)."""
    warning = state.warning
    if feedback.feedback_id in state.feedback_ids:
        return None
    if feedback.action is FeedbackAction.ACKNOWLEDGE and warning.status is WarningStatus.ACKNOWLEDGED:
        return None
    change = {
        FeedbackAction.ACKNOWLEDGE: WarningChange.ACKNOWLEDGED,
        FeedbackAction.RESOLVE: WarningChange.RESOLVED,
        FeedbackAction.FALSE_ALARM: WarningChange.FALSE_ALARM,
    }[feedback.action]
    revised = revise(
        state,
        change,
        tier=warning.tier,
        at=feedback.time,
        now=now,
        caused_by=feedback.operator,
        comment=feedback.comment,
    )
    revised = revised.model_copy(
        update={
            "feedback_ids": (*state.feedback_ids, feedback.feedback_id)[-20:],
            "acked_tier": warning.tier if change is WarningChange.ACKNOWLEDGED else state.acked_tier,
        }
    )
    if change is not WarningChange.FALSE_ALARM:
        return revised, None
    lesson = FalseAlarmFeedback(
        warning_id=warning.warning_id,
        community_id=warning.community_id,
        hazard=warning.hazard,
        series=tuple(s for s in state.sources if not s.startswith("report:")),
        report_ids=tuple(s.removeprefix("report:") for s in state.sources if s.startswith("report:")),
        window_start=min(state.first_seen, warning.opened_at),
        window_end=max(feedback.time, warning.updated_at),
        operator=feedback.operator,
        comment=feedback.comment,
    )
    return revised, lesson


def note_rebaseline(state: EpisodeState, request: Rebaseline, now: datetime) -> EpisodeState | None:
    """The episode's revision recording an accepted new normal of one of its series (the audit
    trail); ``None`` when it does not rest on that series or the request was recorded already."""
    if request.series not in state.sources or request.rebaseline_id in state.feedback_ids:
        return None
    revised = revise(
        state,
        WarningChange.REBASELINED,
        tier=state.warning.tier,
        at=request.time,
        now=now,
        caused_by=request.operator,
        comment=f"new normal of {request.series}: {request.reason}"[:200],
    )
    return revised.model_copy(update={"feedback_ids": (*state.feedback_ids, request.rebaseline_id)[-20:]})


def due_notices(
    policy: EpisodePolicy, state: EpisodeState, now: datetime, base_level: int = 0
) -> list[tuple[NoticeKind, int]]:
    """Timer-driven notices owed now: a repeat at ``base_level``, or an overdue-ack escalation.

    ``base_level`` is the level the warning is addressed to (1 for a district
    warning); escalations climb from there up to :attr:`EpisodePolicy.max_level`.
    An acknowledged warning repeats nothing; a rise clears the acknowledgement
    (see :func:`revise`), so the new tier is repeated and timed again.
    """
    warning = state.warning
    if warning.status is not WarningStatus.ACTIVE:
        return []
    due: list[tuple[NoticeKind, int]] = []
    if state.notified_at is None or now - state.notified_at >= policy.repeat_after(warning.tier):
        due.append((NoticeKind.REPEAT, base_level))
    climbed = state.overdue_level + 1
    overdue = now - state.tier_since >= policy.ack_within(warning.tier) * climbed
    if base_level + climbed <= policy.max_level and overdue:
        due.append((NoticeKind.ACK_OVERDUE, base_level + climbed))
    return due
