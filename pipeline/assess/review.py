"""An episode's timeline for the post-incident review, rebuilt from its warning revisions.

The input is what ``riskwatch.warnings`` holds for one warning id (in any
order, duplicates allowed): the review needs nothing but the audit trail.

>>> from datetime import UTC, datetime, timedelta
>>> from schemas.warning import Evidence, RiskWarning, WarningStatus
>>> t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
>>> seen = Evidence(source="sensor", series="c1/wl-1/water_level", observed_at=t0 - timedelta(minutes=2),
...                 score=0.9, model="ewma")
>>> opened = RiskWarning(warning_id="w1", revision=1, community_id="c1", hazard="flood", tier=3,
...                      status="active", change="opened", opened_at=t0, updated_at=t0, risk=0.8,
...                      caused_by="riskwatch/assessment", evidence=[seen])
>>> acked = opened.model_copy(update={"revision": 2, "status": WarningStatus.ACKNOWLEDGED,
...     "change": WarningChange.ACKNOWLEDGED, "updated_at": t0 + timedelta(minutes=4),
...     "caused_by": "wang.fang"})
>>> print(episode_review([acked, opened, acked]).text())   # doctest: +NORMALIZE_WHITESPACE
warning w1: flood in c1, opened 2026-01-01 12:00:00+00:00, peak III yellow, still open
first showed the problem:
  11:58:00  sensor c1/wl-1/water_level (score 0.900)
tiers reached:
  12:00:00  III yellow
acknowledged:
  12:04:00  III yellow by wang.fang
time to acknowledge: 0:04:00
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.hazard import Hazard, Tier
from schemas.warning import RiskWarning, WarningChange

SHOWED_FROM = 0.5
"""Evidence counts as "showing the problem" from this score (the fusion's default witness minimum)."""


@dataclass(frozen=True)
class OperatorStep:
    """An operator's action on the episode."""

    at: datetime
    operator: str
    tier: Tier
    comment: str | None


@dataclass(frozen=True)
class EpisodeReview:
    """What a post-incident review asks about one warning."""

    warning_id: str
    community_id: str
    hazard: Hazard
    opened_at: datetime
    first_showed: tuple[tuple[datetime, str, str, float], ...]
    """(first time, source, series or report, score) per source, earliest first."""
    tiers_reached: tuple[tuple[datetime, Tier], ...]
    acknowledgements: tuple[OperatorStep, ...]
    closed_at: datetime | None
    closed_by: str | None
    false_alarm: OperatorStep | None
    rebaselines: tuple[OperatorStep, ...] = ()
    """Operators who accepted a series' new normal during the episode (their comment says which)."""

    @property
    def peak(self) -> Tier:
        """The most serious tier the episode reached."""
        return max((tier for _, tier in self.tiers_reached), key=lambda t: t.severity)

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """From opening to the first acknowledgement."""
        return self.acknowledgements[0].at - self.opened_at if self.acknowledgements else None

    @property
    def time_to_close(self) -> timedelta | None:
        """From opening to resolution (or the false-alarm mark)."""
        return self.closed_at - self.opened_at if self.closed_at else None

    def text(self) -> str:
        """The timeline as the review meeting reads it."""
        state = f"closed by {self.closed_by}" if self.closed_by else "still open"
        lines = [
            f"warning {self.warning_id}: {self.hazard.value} in {self.community_id}, opened "
            f"{self.opened_at}, peak {self.peak.label}, {state}",
            "first showed the problem:",
            *(
                f"  {at:%H:%M:%S}  {src} {what} (score {score:.3f})"
                for at, src, what, score in self.first_showed
            ),
            "tiers reached:",
            *(f"  {at:%H:%M:%S}  {tier.label}" for at, tier in self.tiers_reached),
        ]
        if self.acknowledgements:
            lines.append("acknowledged:")
            lines += [f"  {a.at:%H:%M:%S}  {a.tier.label} by {a.operator}" for a in self.acknowledgements]
            lines.append(f"time to acknowledge: {self.time_to_acknowledge}")
        if self.rebaselines:
            lines.append("new normal accepted:")
            lines += [f"  {r.at:%H:%M:%S}  by {r.operator}: {r.comment or ''}" for r in self.rebaselines]
        if self.false_alarm:
            mark = self.false_alarm
            lines.append(f"marked FALSE ALARM at {mark.at:%H:%M:%S} by {mark.operator}: {mark.comment or ''}")
        if self.time_to_close is not None:
            lines.append(f"time to close: {self.time_to_close}")
        return "\n".join(lines)


def _step(revision: RiskWarning) -> OperatorStep:
    return OperatorStep(revision.updated_at, revision.caused_by, revision.tier, revision.comment)


def episode_review(revisions: Iterable[RiskWarning]) -> EpisodeReview:
    """Rebuild one episode's timeline; revisions of other warnings are an error."""
    by_revision = {r.revision: r for r in revisions}
    if not by_revision:
        raise ValueError("an episode review needs at least one warning revision")
    ordered = [by_revision[n] for n in sorted(by_revision)]
    first = ordered[0]
    if any(r.warning_id != first.warning_id for r in ordered):
        raise ValueError("revisions of several warnings were given; review one warning id at a time")
    showed: dict[tuple[str, str], tuple[datetime, float]] = {}
    for revision in ordered:
        for evidence in revision.evidence:
            if evidence.score < SHOWED_FROM:
                continue
            key = (evidence.source, evidence.report_id or evidence.series)
            if key not in showed or evidence.observed_at < showed[key][0]:
                showed[key] = (evidence.observed_at, evidence.score)
    reached: dict[Tier, datetime] = {}
    for revision in ordered:
        if revision.change in (WarningChange.OPENED, WarningChange.ESCALATED):
            reached.setdefault(revision.tier, revision.updated_at)
    closing = next(
        (r for r in ordered if r.change in (WarningChange.RESOLVED, WarningChange.FALSE_ALARM)), None
    )
    marked = closing if closing and closing.change is WarningChange.FALSE_ALARM else None
    return EpisodeReview(
        warning_id=first.warning_id,
        community_id=first.community_id,
        hazard=first.hazard,
        opened_at=first.opened_at,
        first_showed=tuple(
            sorted((at, source, what, score) for (source, what), (at, score) in showed.items())
        ),
        tiers_reached=tuple(sorted(((at, tier) for tier, at in reached.items()), key=lambda p: p[0])),
        acknowledgements=tuple(_step(r) for r in ordered if r.change is WarningChange.ACKNOWLEDGED),
        closed_at=closing.updated_at if closing else None,
        closed_by=closing.caused_by if closing else None,
        false_alarm=_step(marked) if marked else None,
        rebaselines=tuple(_step(r) for r in ordered if r.change is WarningChange.REBASELINED),
    )
