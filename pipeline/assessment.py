"""First assessment: one warning per (community, hazard) episode, opened and escalated by
the strongest sensor signal, resolved after a quiet spell.

This is the seam the full tier ladder (fusion, hysteresis, dwell, flapping,
lifecycle) replaces: it takes :class:`RiskSignal` values and returns warning
revisions, and depends on event time only, so a replay gives the same ids and
revisions.

Tier rule: the signal's surprise (``-log10 p``) against fixed cut-offs,
:data:`TIER_CUTOFFS`. IV starts at p < 1e-4 (≈ 3.7 σ one-sided).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.hazard import Hazard, Tier
from schemas.warning import Evidence, RiskWarning, WarningChange, WarningStatus

#: Minimum surprise (decades of unlikeliness) for each tier, most serious first.
TIER_CUTOFFS: tuple[tuple[Tier, float], ...] = (
    (Tier.I, 20.0),
    (Tier.II, 12.0),
    (Tier.III, 7.0),
    (Tier.IV, 4.0),
)
_WARNING_NAMESPACE = uuid.UUID("6f1d3c1e-7a47-4c55-9b8f-2f6e1c0e9a10")
_MAX_EVIDENCE = 10
ASSESSMENT_ACTOR = "riskwatch/assessment"


def tier_for(surprise: float) -> Tier | None:
    """The tier a surprise reaches, or ``None`` below IV.

    >>> tier_for(3.0) is None, tier_for(8.0)
    (True, <Tier.III: 3>)
    """
    for tier, cutoff in TIER_CUTOFFS:
        if surprise >= cutoff:
            return tier
    return None


def warning_id(community_id: str, hazard: Hazard, opened_at: datetime) -> str:
    """Deterministic id of an episode: the same inputs after a replay give the same id."""
    name = f"{community_id}|{hazard.value}|{opened_at.isoformat()}"
    return str(uuid.uuid5(_WARNING_NAMESPACE, name))


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """One scored observation about one hazard in one community.

    Cheap to make for every reading; the pydantic :class:`Evidence` record is
    built by :meth:`evidence` only when a warning keeps it.
    """

    community_id: str
    hazard: Hazard
    observed_at: datetime
    surprise: float
    risk: float
    series: str
    value: float | None
    expected: float | None
    model: str

    def evidence(self) -> Evidence:
        """This signal as warning evidence."""
        return Evidence(
            source="sensor",
            series=self.series,
            observed_at=self.observed_at,
            value=self.value,
            expected=self.expected,
            score=self.risk,
            model=self.model,
        )


@dataclass
class _Episode:
    latest: RiskWarning
    last_hot_at: datetime
    evidence: list[Evidence] = field(default_factory=list)


class EpisodeAssessment:
    """Opens, escalates and resolves warnings from a stream of :class:`RiskSignal`."""

    def __init__(self, resolve_after: timedelta) -> None:
        self.resolve_after = resolve_after
        self._episodes: dict[tuple[str, Hazard], _Episode] = {}

    def active(self) -> list[RiskWarning]:
        """The latest revision of every open warning."""
        return [episode.latest for episode in self._episodes.values()]

    def observe(self, signal: RiskSignal) -> RiskWarning | None:
        """Fold one signal in; return the new warning revision it causes, if any."""
        key = (signal.community_id, signal.hazard)
        tier = tier_for(signal.surprise)
        episode = self._episodes.get(key)
        if episode is None:
            if tier is None:
                return None
            return self._open(key, signal, tier)
        if tier is not None:
            episode.last_hot_at = max(episode.last_hot_at, signal.observed_at)
            episode.evidence = [*episode.evidence, signal.evidence()][-_MAX_EVIDENCE:]
            if tier.severity > episode.latest.tier.severity:
                return self._revise(episode, WarningChange.ESCALATED, tier, signal)
            return None
        if signal.observed_at - episode.last_hot_at >= self.resolve_after:
            del self._episodes[key]
            return self._revise(episode, WarningChange.RESOLVED, episode.latest.tier, signal)
        return None

    def _open(self, key: tuple[str, Hazard], signal: RiskSignal, tier: Tier) -> RiskWarning:
        warning = RiskWarning(
            warning_id=warning_id(signal.community_id, signal.hazard, signal.observed_at),
            revision=1,
            community_id=signal.community_id,
            hazard=signal.hazard,
            tier=tier,
            status=WarningStatus.ACTIVE,
            change=WarningChange.OPENED,
            opened_at=signal.observed_at,
            updated_at=signal.observed_at,
            risk=signal.risk,
            caused_by=ASSESSMENT_ACTOR,
            evidence=[evidence := signal.evidence()],
        )
        self._episodes[key] = _Episode(warning, signal.observed_at, [evidence])
        return warning

    def _revise(
        self, episode: _Episode, change: WarningChange, tier: Tier, signal: RiskSignal
    ) -> RiskWarning:
        status = WarningStatus.RESOLVED if change is WarningChange.RESOLVED else WarningStatus.ACTIVE
        episode.latest = episode.latest.model_copy(
            update={
                "revision": episode.latest.revision + 1,
                "tier": tier,
                "status": status,
                "change": change,
                "updated_at": signal.observed_at,
                "risk": signal.risk,
                "evidence": list(episode.evidence),
            }
        )
        return episode.latest
