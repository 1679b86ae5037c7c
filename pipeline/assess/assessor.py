"""The assessment as one object the worker calls: signals, operator actions and ticks in; changes out.

:class:`Assessor` keeps every community's live signals, one tier ladder per
(community, hazard), the open episodes, the device faults already notified and
the silences, all as plain data (:meth:`Assessor.export_state`). Time comes
from two places, on purpose:

* **event time** (the signals' ``observed_at``) drives fusion and the ladder,
  so reprocessing after a crash decides the same way and gives the same ids.
  A community whose sources fell silent is judged on :meth:`Assessor.tick`
  at the *stream time* (the latest event time seen from any community): once
  its signals are older than the fusion TTL its risk is 0 and its ladder steps
  down. A replay therefore never resolves anything early, and when every
  community of a worker is silent nothing steps down (that is an outage of
  the pipeline, for the lag and device-health alerts);
* the injected **clock** drives what people experience: repeats, overdue
  acknowledgements and silence expiry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field

from pipeline.assess.config import AssessmentConfig
from pipeline.assess.episodes import (
    ASSESSMENT_ACTOR,
    NOTIFYING_CHANGES,
    Basis,
    EpisodeState,
    FalseAlarmFeedback,
    NoticeKind,
    Notification,
    WarningEvent,
    acknowledge_or_close,
    due_notices,
    episode_id,
    note_rebaseline,
    open_episode,
    revise,
)
from pipeline.assess.fusion import WARNING_HAZARDS, DeviceFault, HazardRisk, SourceSignal, fuse
from pipeline.assess.routing import route
from pipeline.assess.silences import Silence, inhibitor, muting
from pipeline.assess.tiers import LadderState, advance, closed_by_operator
from pipeline.clock import Clock
from schemas.feedback import Feedback, Rebaseline
from schemas.hazard import Hazard, Tier
from schemas.warning import RiskWarning, WarningChange, WarningStatus


@dataclass
class AssessmentOutput:
    """What one call produced; the worker sends each list to its topic."""

    events: list[WarningEvent] = field(default_factory=list)
    """Warning revisions for ``riskwatch.warnings`` (``event.warning``) and the CAP view."""
    notifications: list[Notification] = field(default_factory=list)
    """Routed notifications (``topics``) and suppressed ones (``suppressed_by``), for the record."""
    device_faults: list[DeviceFault] = field(default_factory=list)
    false_alarms: list[FalseAlarmFeedback] = field(default_factory=list)
    """Lessons for the detectors and the report classifier."""

    def extend(self, other: AssessmentOutput) -> None:
        """Append everything ``other`` produced, in order."""
        self.events.extend(other.events)
        self.notifications.extend(other.notifications)
        self.device_faults.extend(other.device_faults)
        self.false_alarms.extend(other.false_alarms)


class AssessorState(BaseModel):
    """The whole assessment state; ``model_dump(mode="json")`` is its checkpoint."""

    signals: dict[str, dict[str, SourceSignal]] = Field(default_factory=dict)
    watermarks: dict[str, datetime] = Field(default_factory=dict)
    """Latest event time seen per community."""
    ladders: dict[str, LadderState] = Field(default_factory=dict)
    episodes: dict[str, EpisodeState] = Field(default_factory=dict)
    faults: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    silences: list[Silence] = Field(default_factory=list)
    members: dict[str, dict[str, RiskWarning]] = Field(default_factory=dict)
    """Per ``district|hazard``, the open warning of each member community (:meth:`Assessor.note_member`)."""
    held: dict[str, list[SourceSignal]] = Field(default_factory=dict)
    """Signals waiting, per community, for its readings to reach their event time (:meth:`Assessor.hold`)."""


def _basis(risk: HazardRisk) -> Basis:
    if risk.limit_exceeded:
        return "limit"
    if not risk.witnesses:
        return "quiet"
    return "corroborated" if len(risk.witnesses) >= 2 else "single"


def _devices(risk: HazardRisk) -> tuple[str, ...]:
    return tuple(w.removeprefix("device:") for w in risk.witnesses if w.startswith("device:"))


DISTRICT_KEY_PREFIX = "district:"
"""Checkpoint keys of district roll-up state start with this; community keys are plain ids."""


def _ladder_keys(community_id: str) -> list[str]:
    return [f"{community_id}|{hazard.value}" for hazard in WARNING_HAZARDS]


def _episode_keys(community_id: str) -> list[str]:
    return [f"community|{community_id}|{hazard.value}" for hazard in WARNING_HAZARDS]


class Assessor:
    """Turns source signals and operator feedback into warning events and notifications.

    Parameters
    ----------
    config
        The assessment configuration.
    clock
        The clock for repeats, acknowledgement timers, silences and quiet communities.
    state
        A checkpoint from :meth:`export_state` to resume from, or ``None`` to start empty.
    roll_up_locally
        Roll community warnings up into district warnings here, at once. A worker
        sees only its own partitions' communities, so it passes False and sends each
        community warning, keyed by district, to the one worker that owns that
        district, which calls :meth:`note_member`.
    """

    def __init__(
        self,
        config: AssessmentConfig,
        clock: Clock,
        state: dict[str, object] | None = None,
        roll_up_locally: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock
        self.roll_up_locally = roll_up_locally
        self._state = AssessorState.model_validate(state) if state is not None else AssessorState()
        self._hazards_of_type: dict[str, tuple[str, ...]] = {}
        """Hazard names per sensor type, for :meth:`warns_for` (the configuration is frozen)."""

    # --- inputs ----------------------------------------------------------------------------------

    def observe(self, signal: SourceSignal) -> AssessmentOutput:
        """Fold one source signal in; a duplicate, or one older than its series' latest, changes nothing."""
        out = AssessmentOutput()
        community = signal.community_id
        held = self._state.signals.setdefault(community, {})
        known = held.get(signal.key)
        if known is not None and known.observed_at >= signal.observed_at:
            return out
        held[signal.key] = signal
        at = max(signal.observed_at, self._state.watermarks.get(community, signal.observed_at))
        self._state.watermarks[community] = at
        oldest = at - self.config.fusion.signal_ttl
        for key in [k for k, s in held.items() if s.observed_at < oldest]:
            del held[key]
        hazards = self.config.fusion.hazards_of(signal)
        self._assess(community, at, out, hazards or None)
        return out

    def hold(self, signal: SourceSignal) -> None:
        """Keep ``signal`` back until :meth:`release` lets its community's time reach it.

        Reports and device telemetry come on other topics than readings and, in a
        catch-up (a drill, a restart after an outage), the worker may read them
        minutes of event time ahead of the readings. Folded in at once they would
        move the community's time on, and the readings behind them would then be
        judged late: a flood would be stamped when the basement reports came, not
        when the water rose. Held signals are state (checkpointed with their
        community), so a crash does not lose them.
        """
        self._state.held.setdefault(signal.community_id, []).append(signal)

    @property
    def holding(self) -> bool:
        """True when some community has signals held back."""
        return bool(self._state.held)

    def held_communities(self) -> list[str]:
        """Communities with signals held back."""
        return list(self._state.held)

    def release(self, community_id: str, up_to: datetime | None = None) -> AssessmentOutput:
        """Fold in, in event-time order, the held signals of ``community_id`` up to ``up_to`` (all: None)."""
        out = AssessmentOutput()
        held = self._state.held.get(community_id)
        if not held:
            return out
        due = sorted(
            (s for s in held if up_to is None or s.observed_at <= up_to), key=lambda s: s.observed_at
        )
        if not due:
            return out
        waiting = [s for s in held if up_to is not None and s.observed_at > up_to]
        if waiting:
            self._state.held[community_id] = waiting
        else:
            del self._state.held[community_id]
        for signal in due:
            out.extend(self.observe(signal))
        return out

    def advance(self, community_id: str, at: datetime) -> AssessmentOutput | None:
        """Event time moved on in ``community_id`` with nothing worth fusing.

        The worker does not forward quiet readings (they cannot raise a risk), so
        without this a community's event time would stand still once everything is
        calm, and its open ladders would never finish their exit dwell. Cheap: one
        lookup per hazard when nothing is open, and None (nothing allocated) when the
        community's event time did not move.
        """
        seen = self._state.watermarks.get(community_id)
        if seen is None or at <= seen:
            return None
        out = AssessmentOutput()
        self._state.watermarks[community_id] = at
        open_ladders = (
            self._state.ladders.get(f"{community_id}|{hazard.value}") for hazard in WARNING_HAZARDS
        )
        if any(ladder is not None and ladder.tier is not None for ladder in open_ladders):
            self._assess(community_id, at, out)
        return out

    def act(self, feedback: Feedback) -> AssessmentOutput:
        """Apply an operator's ack / resolve / false alarm; unknown or closed warnings change nothing."""
        out = AssessmentOutput()
        now = self.clock.now()
        key, episode = next(
            ((k, e) for k, e in self._state.episodes.items() if e.warning.warning_id == feedback.warning_id),
            (None, None),
        )
        if key is None or episode is None or (result := acknowledge_or_close(episode, feedback, now)) is None:
            return out
        episode, lesson = result
        out.events.append(episode.latest)
        warning = episode.warning
        if lesson is not None:
            out.false_alarms.append(lesson)
        if warning.is_open:
            self._state.episodes[key] = episode
            return out
        del self._state.episodes[key]
        ladder_key = f"{warning.community_id}|{warning.hazard.value}"
        if ladder_key in self._state.ladders:
            self._state.ladders[ladder_key] = closed_by_operator(self._state.ladders[ladder_key])
        self._notify(episode, NOTIFYING_CHANGES[warning.change], now, out)
        self._member_changed(episode.latest, out)
        return out

    def note_rebaseline(self, request: Rebaseline) -> AssessmentOutput:
        """Record an accepted new normal on every open warning of the community resting on its
        series (a revision by the operator; it pages nobody). The series' model has been
        started afresh by then, so its evidence ends and the warning steps down by its ladder."""
        out = AssessmentOutput()
        now = self.clock.now()
        for key, episode in list(self._state.episodes.items()):
            if episode.warning.community_id != request.community_id:
                continue
            if (revised := note_rebaseline(episode, request, now)) is not None:
                self._state.episodes[key] = revised
                out.events.append(revised.latest)
        return out

    def note_member(self, district: str, warning: RiskWarning) -> AssessmentOutput:
        """A community warning of ``district`` changed: update the district warning it rolls up into.

        Redelivered or stale revisions change nothing (at-least-once delivery).
        """
        out = AssessmentOutput()
        members = self._state.members.setdefault(f"{district}|{warning.hazard.value}", {})
        known = members.get(warning.community_id)
        same = known is not None and known.warning_id == warning.warning_id
        if same and known is not None and known.revision >= warning.revision:
            return out
        if warning.is_open:
            if known is not None and not same and known.opened_at > warning.opened_at:
                return out
            members[warning.community_id] = warning
        elif same:
            del members[warning.community_id]
        else:
            return out
        self._roll_up(district, warning.hazard, warning.updated_at, self.clock.now(), out)
        if not members:
            del self._state.members[f"{district}|{warning.hazard.value}"]
        return out

    def _member_changed(self, event: WarningEvent, out: AssessmentOutput) -> None:
        if self.roll_up_locally and event.scope == "community" and event.district_id is not None:
            out.extend(self.note_member(event.district_id, event.warning))

    def tick(self, stream_time_of: Callable[[str], datetime | None] | None = None) -> AssessmentOutput:
        """Timed work: expire silences, judge silent communities, repeat and escalate notices.

        Call it from a timer (every few seconds); it is cheap when nothing is due.
        ``stream_time_of(community)`` is the event time a community is judged at (the
        latest event time of the partition it arrives on: partitions are consumed at
        different speeds, so one community's time must not run ahead on another's).
        Without it, the latest event time seen from any community is used.
        """
        out = AssessmentOutput()
        now = self.clock.now()
        self._state.silences = [s for s in self._state.silences if s.ends_at > now]
        latest_anywhere = max(self._state.watermarks.values(), default=None)
        ttl = self.config.fusion.signal_ttl
        for community, seen in list(self._state.watermarks.items()):
            stream_time = stream_time_of(community) if stream_time_of is not None else latest_anywhere
            if stream_time is None or stream_time - seen < ttl:
                continue
            if any(
                key.startswith(f"{community}|") and ladder.tier is not None and ladder.last_at < stream_time
                for key, ladder in self._state.ladders.items()
                if ladder.last_at is not None
            ):
                self._assess(community, stream_time, out)
        for key, episode in list(self._state.episodes.items()):
            base = 1 if episode.latest.scope == "district" else 0
            for kind, level in due_notices(self.config.episodes, episode, now, base):
                notice = self._notice(episode, kind, level, now)
                if self._suppression(notice, now) is not None:
                    continue
                out.notifications.append(notice.model_copy(update={"topics": self._topics(notice)}))
                episode = episode.model_copy(
                    update={"notified_at": now}
                    if kind is NoticeKind.REPEAT
                    else {"overdue_level": level - base}
                )
            self._state.episodes[key] = episode
        return out

    def add_silence(self, silence: Silence) -> None:
        """Start (or replace, by id) a silence."""
        self._state.silences = [s for s in self._state.silences if s.silence_id != silence.silence_id]
        self._state.silences.append(silence)

    def remove_silence(self, silence_id: str) -> None:
        """End a silence early."""
        self._state.silences = [s for s in self._state.silences if s.silence_id != silence_id]

    # --- views -----------------------------------------------------------------------------------

    def open_warnings(self) -> list[WarningEvent]:
        """The latest event of every open warning (the CAP feed and the state table)."""
        return [episode.latest for episode in self._state.episodes.values()]

    def warns_for(self, community_id: str, sensor_type: str) -> bool:
        """Whether a hazard that readings of ``sensor_type`` speak for
        (:meth:`~pipeline.assess.fusion.FusionConfig.sensor_type_hazards`) has an open warning in
        ``community_id``, whoever opened it (a report, another device).

        The worker asks before each reading is learned: while its hazard is warned, a series'
        held baseline learns nothing (:class:`detectors.hold.HeldBaseline`), so a slow rise
        during the incident is judged against the level before it. A lookup per hazard."""
        hazards = self._hazards_of_type.get(sensor_type)
        if hazards is None:
            hazards = self._hazards_of_type[sensor_type] = tuple(
                hazard.value for hazard in self.config.fusion.sensor_type_hazards(sensor_type)
            )
        return any(f"community|{community_id}|{hazard}" in self._state.episodes for hazard in hazards)

    def silences(self) -> list[Silence]:
        """The silences not yet expired."""
        return list(self._state.silences)

    def export_community(self, community_id: str) -> dict[str, object] | None:
        """One community's part of the state (signals, ladders, episodes, faults) as JSON-able
        data, or None when it holds nothing; a worker checkpoints its communities one by one
        and another worker imports them when their partition moves."""
        part = AssessorState(
            signals={community_id: held} if (held := self._state.signals.get(community_id)) else {},
            watermarks={community_id: seen} if (seen := self._state.watermarks.get(community_id)) else {},
            ladders={
                k: v for k in _ladder_keys(community_id) if (v := self._state.ladders.get(k)) is not None
            },
            episodes={
                k: e for k in _episode_keys(community_id) if (e := self._state.episodes.get(k)) is not None
            },
            faults={community_id: f} if (f := self._state.faults.get(community_id)) else {},
            held={community_id: h} if (h := self._state.held.get(community_id)) else {},
        )
        if not (part.signals or part.watermarks or part.ladders or part.episodes or part.faults or part.held):
            return None
        return part.model_dump(mode="json")

    def import_community(self, data: dict[str, object]) -> None:
        """Resume a community from :meth:`export_community` (raises ``ValidationError`` if malformed)."""
        part = AssessorState.model_validate(data)
        self._state.signals.update(part.signals)
        self._state.watermarks.update(part.watermarks)
        self._state.ladders.update(part.ladders)
        self._state.episodes.update(part.episodes)
        self._state.faults.update(part.faults)
        self._state.held.update(part.held)
        self._state.members.update(part.members)

    def forget_community(self, community_id: str) -> None:
        """Drop a community whose partition moved to another worker."""
        self._state.signals.pop(community_id, None)
        self._state.watermarks.pop(community_id, None)
        self._state.faults.pop(community_id, None)
        self._state.held.pop(community_id, None)
        for key in _ladder_keys(community_id):
            self._state.ladders.pop(key, None)
        for key in _episode_keys(community_id):
            self._state.episodes.pop(key, None)

    def export_district(self, district_id: str) -> dict[str, object] | None:
        """One district's roll-up (its members' warnings and its district warnings) as JSON-able
        data, or None when it holds nothing; :meth:`import_community` takes it back."""
        prefix = f"{district_id}|"
        part = AssessorState(
            members={k: m for k, m in self._state.members.items() if k.startswith(prefix)},
            episodes={
                k: e for k, e in self._state.episodes.items() if k.startswith(f"district|{district_id}|")
            },
        )
        if not (part.members or part.episodes):
            return None
        return part.model_dump(mode="json")

    def forget_district(self, district_id: str) -> None:
        """Drop a district whose roll-up moved to another worker."""
        for key in [k for k in self._state.members if k.startswith(f"{district_id}|")]:
            del self._state.members[key]
        for key in [k for k in self._state.episodes if k.startswith(f"district|{district_id}|")]:
            del self._state.episodes[key]

    def export_state(self) -> dict[str, object]:
        """The whole state as JSON-able data, for a checkpoint; pass it back as ``state``."""
        return self._state.model_dump(mode="json")

    # --- decisions -------------------------------------------------------------------------------

    def _assess(
        self, community: str, at: datetime, out: AssessmentOutput, hazards: frozenset[Hazard] | None = None
    ) -> None:
        """Fuse and step the ladders of ``hazards`` (all: for device health, or a silent community)."""
        signals = list(self._state.signals.get(community, {}).values())
        risks, faults = fuse(self.config.fusion, signals, at, hazards, lambda: self._open_hazards(community))
        by_hazard = {risk.hazard: risk for risk in risks}
        for key, ladder in self._state.ladders.items():
            area, _, name = key.partition("|")
            hazard = Hazard(name)
            wanted = hazards is None or hazard in hazards
            if wanted and area == community and ladder.tier is not None and hazard not in by_hazard:
                by_hazard[hazard] = HazardRisk(hazard=hazard, risk=0.0)
        for hazard in sorted(by_hazard):
            self._step(community, by_hazard[hazard], at, out)
        self._record_faults(community, faults, hazards, out)

    def _open_hazards(self, community: str) -> frozenset[Hazard]:
        """The hazards whose ladder holds a tier in ``community``."""
        return frozenset(
            hazard
            for hazard in WARNING_HAZARDS
            if (ladder := self._state.ladders.get(f"{community}|{hazard.value}")) is not None
            and ladder.tier is not None
        )

    def _step(self, community: str, risk: HazardRisk, at: datetime, out: AssessmentOutput) -> None:
        now = self.clock.now()
        ladder_key = f"{community}|{risk.hazard.value}"
        ladder = self._state.ladders.get(ladder_key, LadderState())
        at = max(at, ladder.last_at or at)  # a late input is folded in at the latest time seen
        ladder, change = advance(
            self.config.tiers,
            ladder,
            at,
            risk.risk,
            risk.impact,
            risk.warming_up,
            corroborated=len(risk.witnesses) >= 2,
            observed_at=max((s.observed_at for s in risk.signals), default=at),
        )
        self._state.ladders[ladder_key] = ladder
        key = f"community|{community}|{risk.hazard.value}"
        episode = self._state.episodes.get(key)
        context: dict[str, object] = {
            "flapping": ladder.flapping,
            "basis": _basis(risk),
            "witnesses": risk.witnesses,
            "trend": ladder.trend,
        }
        if change is None:
            if episode is not None:
                latest = episode.latest.model_copy(update={"flapping": ladder.flapping})
                self._state.episodes[key] = episode.model_copy(update={"latest": latest})
            elif ladder.is_idle(self.config.tiers):
                del self._state.ladders[ladder_key]
            return
        if episode is None:
            if ladder.tier is None:  # a ladder restored without its episode has nothing to resolve
                return
            episode = self._open(community, risk, ladder.tier, at, now, context)
        else:
            evidence = risk.evidence() or None
            tier = ladder.tier or episode.warning.tier
            episode = revise(
                episode,
                change,
                tier=tier,
                at=at,
                now=now,
                risk=risk.risk,
                evidence=evidence,
                impact=risk.impact,
                tier_set_by=self.config.tiers.set_by(risk.risk, risk.impact),
            )
            episode = episode.model_copy(
                update={
                    "latest": episode.latest.model_copy(update=context),
                    "devices": _devices(risk) or episode.devices,
                }
            )
        self._publish(key, episode, now, out)
        self._member_changed(episode.latest, out)

    def _open(
        self,
        community: str,
        risk: HazardRisk,
        tier: Tier,
        at: datetime,
        now: datetime,
        context: dict[str, object],
    ) -> EpisodeState:
        warning = RiskWarning(
            warning_id=episode_id("community", community, risk.hazard, at),
            revision=1,
            community_id=community,
            hazard=risk.hazard,
            tier=tier,
            status=WarningStatus.ACTIVE,
            change=WarningChange.OPENED,
            opened_at=at,
            updated_at=at,
            risk=risk.risk,
            caused_by=ASSESSMENT_ACTOR,
            evidence=risk.evidence(),
            impact=risk.impact,
            tier_set_by=self.config.tiers.set_by(risk.risk, risk.impact),
        )
        event = WarningEvent.model_validate(
            {
                "warning": warning,
                "scope": "community",
                "district_id": self.config.district_of(community),
                "covers": (community,),
                **context,
            }
        )
        return open_episode(event, now, _devices(risk))

    def _roll_up(
        self, district: str, hazard: Hazard, at: datetime, now: datetime, out: AssessmentOutput
    ) -> None:
        """Open, move or resolve the district warning that links its communities' warnings of ``hazard``."""
        held = self._state.members.get(f"{district}|{hazard.value}", {})
        members = [held[community] for community in sorted(held)]
        key = f"district|{district}|{hazard.value}"
        episode = self._state.episodes.get(key)
        links: dict[str, object] = {
            "linked_warning_ids": tuple(w.warning_id for w in members),
            "covers": tuple(w.community_id for w in members),
            "witnesses": tuple(f"community:{w.community_id}" for w in members),
        }
        tier = max((w.tier for w in members), key=lambda t: t.severity, default=Tier.IV)
        risk = max((w.risk for w in members), default=0.0)
        evidence = [ev for w in members for ev in w.evidence[:5]][:50]
        if episode is None:
            if len(members) < self.config.district_min_communities:
                return
            warning = RiskWarning(
                warning_id=episode_id("district", district, hazard, at),
                revision=1,
                community_id=district,
                hazard=hazard,
                tier=tier,
                status=WarningStatus.ACTIVE,
                change=WarningChange.OPENED,
                opened_at=at,
                updated_at=at,
                risk=risk,
                caused_by=ASSESSMENT_ACTOR,
                evidence=evidence,
            )
            event = WarningEvent.model_validate(
                {
                    "warning": warning,
                    "scope": "district",
                    "district_id": district,
                    "basis": "corroborated",
                    **links,
                }
            )
            episode = open_episode(event, now, ())
        else:
            old = episode.warning.tier
            if not members:
                change: WarningChange | None = WarningChange.RESOLVED
            elif tier.severity != old.severity:
                change = (
                    WarningChange.ESCALATED if tier.severity > old.severity else WarningChange.DE_ESCALATED
                )
            else:
                change = None
            if change is None:
                latest = episode.latest.model_copy(update=links)
                self._state.episodes[key] = episode.model_copy(update={"latest": latest})
                return
            episode = revise(
                episode,
                change,
                tier=tier if members else old,
                at=at,
                now=now,
                risk=risk,
                evidence=evidence or None,
                context=links if members else None,
            )
        self._publish(key, episode, now, out)

    def _publish(self, key: str, episode: EpisodeState, now: datetime, out: AssessmentOutput) -> None:
        """Keep ``episode`` under ``key`` while its warning is open, emit its latest revision, notify."""
        if episode.warning.is_open:
            self._state.episodes[key] = episode
        else:
            self._state.episodes.pop(key, None)
        out.events.append(episode.latest)
        self._notify(episode, NOTIFYING_CHANGES[episode.warning.change], now, out)

    def _record_faults(
        self,
        community: str,
        faults: list[DeviceFault],
        hazards: frozenset[Hazard] | None,
        out: AssessmentOutput,
    ) -> None:
        """Notify each device fault once per onset; a fault that clears may notify again later.

        Withheld-spike faults of hazards not evaluated this time are kept as they were.
        """
        known = set(self._state.faults.get(community, ()))
        current = [
            key
            for key in known
            if hazards is not None and key.rpartition("|")[2] not in {"-", *(h.value for h in hazards)}
        ]
        for fault in faults:
            key = f"{fault.device_id}|{fault.finding}|{fault.hazard.value if fault.hazard else '-'}"
            current.append(key)
            if key in known:
                continue
            out.device_faults.append(fault)
            withheld = (
                f"; its lone {fault.hazard.value} signal was not taken as a hazard" if fault.hazard else ""
            )
            notice = Notification(
                kind=NoticeKind.DEVICE_FAULT,
                community_id=community,
                hazard=Hazard.DEVICE_FAULT,
                tier=Tier.IV,
                level=0,
                at=self.clock.now(),
                devices=(fault.device_id,),
                covers=(community,),
                text=f"device {fault.device_id} in {community}: {fault.finding}{withheld}",
            )
            out.notifications.append(self._deliver(notice, self.clock.now()))
        if current:
            self._state.faults[community] = tuple(current)
        else:
            self._state.faults.pop(community, None)

    # --- notifications ---------------------------------------------------------------------------

    def _notice(self, episode: EpisodeState, kind: NoticeKind, level: int, now: datetime) -> Notification:
        warning = episode.warning
        area = self.config.area_of(warning.community_id).description
        flapping = " (flapping: tier held)" if episode.latest.flapping else ""
        return Notification(
            kind=kind,
            community_id=warning.community_id,
            hazard=warning.hazard,
            tier=warning.tier,
            level=level,
            at=now,
            warning_id=warning.warning_id,
            revision=warning.revision,
            devices=episode.devices,
            covers=episode.latest.covers,
            text=f"{warning.tier.label} {warning.hazard.value} warning, {area}: {kind.value}{flapping}",
        )

    def _suppression(self, notice: Notification, now: datetime) -> str | None:
        silence = muting(self._state.silences, notice, now)
        if silence is not None:
            return f"silence {silence.silence_id} by {silence.author}: {silence.comment}"
        inhibiting = inhibitor(notice, list(self._state.episodes.values()))
        return f"inhibited by tier I warning {inhibiting}" if inhibiting else None

    def _topics(self, notice: Notification) -> tuple[str, ...]:
        return route(self.config.routes, notice.hazard, notice.tier, notice.level)

    def _deliver(self, notice: Notification, now: datetime) -> Notification:
        reason = self._suppression(notice, now)
        if reason is not None:
            return notice.model_copy(update={"suppressed_by": reason})
        return notice.model_copy(update={"topics": self._topics(notice)})

    def _notify(self, episode: EpisodeState, kind: NoticeKind, now: datetime, out: AssessmentOutput) -> None:
        """Notify a lifecycle change; a suppressed notice leaves one owed (sent by :meth:`tick` later)."""
        level = 1 if episode.latest.scope == "district" else 0
        notice = self._deliver(self._notice(episode, kind, level, now), now)
        out.notifications.append(notice)
        key = next(
            (k for k, e in self._state.episodes.items() if e.warning.warning_id == notice.warning_id), None
        )
        if key is not None:
            notified = None if notice.suppressed_by else now
            self._state.episodes[key] = self._state.episodes[key].model_copy(update={"notified_at": notified})
