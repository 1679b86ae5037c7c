"""The drill score card: warnings compared with ground truth. Pure: no broker, no clock.

Rules (event time throughout, so a replay scores the same):

* An **incident is warned** when a warning revision of its hazard, in one of its
  communities, is dated between its start and its end. The first such revision
  gives the **detection delay** (from the incident's start); the most serious
  tier among them is the **tier reached**; escalations and de-escalations among
  them count as **tier changes** (the most of any one of its warnings: an
  air-pollution episode warns each of its communities), and more than one
  warning id per community as re-opening (both are flapping). It is **exact**
  when warned within its allowed delay at exactly its expected tier, the
  headline; it **passes** at its expected tier ± ``tolerance``.
* An incident with a **plateau** (full strength from its peak to ``plateau_until``:
  a flood that lasts) is also graded for **holding**: a warning of its hazard
  in its community open for at least :data:`PLATEAU_HELD_SHARE` of the plateau,
  no tier change during it, and the last one closed within
  :data:`ALL_CLEAR_WITHIN` of the incident's end (the level back).
* A **decoy is quiet** unless a hazard warning (any hazard except
  ``device_fault``, which is the right answer to a broken device) in its
  community is opened or escalated between its start and ``DECOY_GRACE`` after
  its end, and no incident explains it.
* Each warning id (one episode) counts once for **precision**: it is *true*
  when an incident of the same hazard in its community was under way when it
  was first seen (up to ``INCIDENT_GRACE`` after the end); *cross-hazard* when
  an incident of another hazard was (a fire's CO warning as a gas leak); else
  a *decoy* or *unexplained* false warning. Precision = true / all hazard episodes.

>>> from datetime import UTC, datetime
>>> t0 = datetime(2026, 6, 1, tzinfo=UTC)
>>> truth = GroundTruth(scenario="doc", seed=1, start=t0, end=t0 + timedelta(hours=2),
...     communities=["c001"], decoys=[], incidents=[TrueIncident(
...         id="gas", kind="gas_leak", hazard="gas_leak", communities=["c001"],
...         start=t0 + timedelta(minutes=30), peak=t0 + timedelta(minutes=50),
...         end=t0 + timedelta(minutes=90), intensity=25, intensity_unit="%LEL",
...         expected_tier="II", max_delay_s=600)])
>>> card = score(truth, [])
>>> card.totals.recall, card.incidents[0].warned
(0.0, False)
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.simulation.scenario import DecoyKind, IncidentKind, TierName
from pipeline.simulation.truth import GroundTruth, TrueDecoy, TrueIncident
from schemas.envelope import StrictModel
from schemas.hazard import Hazard, Tier
from schemas.types import Identifier, ShortText
from schemas.warning import RiskWarning, WarningChange

#: A decoy's false warning may come a little after it ends (the last faulty sample).
DECOY_GRACE = timedelta(minutes=15)
#: A warning first seen this soon after an incident ends is still about it.
INCIDENT_GRACE = timedelta(minutes=15)
#: Water that stays high is as dangerous in its twelfth hour as in its first: the warning must stay
#: open for (nearly) all of a plateau ...
PLATEAU_HELD_SHARE = 0.95
#: ... and give the all-clear once the level is back, within the time a duty office needs to see
#: the water gone and stand down its crews (the issue's "resolves within 3 h").
ALL_CLEAR_WITHIN = timedelta(hours=3)
_CLOSING = frozenset({WarningChange.RESOLVED, WarningChange.FALSE_ALARM})
_TIER_CHANGES = frozenset({WarningChange.ESCALATED, WarningChange.DE_ESCALATED})
_RAISING = frozenset({WarningChange.OPENED, WarningChange.ESCALATED})
_ACTIVE = _RAISING | _TIER_CHANGES


class IncidentScore(StrictModel):
    """How the pipeline did on one incident."""

    id: Identifier
    kind: IncidentKind
    communities: list[Identifier]
    expected_tier: TierName
    tier_reached: TierName | None
    warned: bool
    delay_s: float | None
    max_delay_s: float
    on_time: bool
    tier_ok: bool
    exact: bool
    """Warned in time at exactly the expected tier."""
    tier_changes: int
    episodes: int
    communities_warned: int
    other_hazards: list[Hazard]
    passed: bool
    held_share: float | None = None
    """Share of the plateau with a warning of its hazard open in its communities (None: no plateau)."""
    plateau_tier_changes: int | None = None
    all_clear_after_s: float | None = None
    """From the incident's end to the last of its warnings closing (None: not closed by the drill's end)."""
    held: bool | None = None
    """Held through the plateau at one tier, all-clear in time (None: no plateau)."""


class DecoyScore(StrictModel):
    """How the pipeline did on one decoy: quiet, or which hazard warnings it raised."""

    id: Identifier
    kind: DecoyKind
    community: Identifier
    quiet: bool
    false_warnings: list[ShortText]


class Totals(StrictModel):
    """The drill in a few numbers."""

    incidents: int
    warned: int
    passed: int
    exact: int
    recall: float
    pass_rate: float
    exact_rate: float
    max_tier_changes: int
    median_delay_s: float | None
    max_delay_s: float | None
    decoys: int
    decoys_quiet: int
    hazard_warnings: int
    true_warnings: int
    cross_hazard_warnings: int
    decoy_warnings: int
    unexplained_warnings: int
    precision: float | None


class ScoreCard(StrictModel):
    """Per incident, per decoy, and totals."""

    scenario: ShortText
    tolerance: int
    incidents: list[IncidentScore]
    decoys: list[DecoyScore]
    totals: Totals


@dataclass(frozen=True)
class _Episode:
    warning_id: str
    community_id: str
    hazard: Hazard
    first_seen: datetime
    revisions: tuple[RiskWarning, ...]


def _episodes(warnings: Iterable[RiskWarning]) -> list[_Episode]:
    by_id: dict[str, dict[int, RiskWarning]] = defaultdict(dict)
    for warning in warnings:
        by_id[warning.warning_id][warning.revision] = warning  # a re-delivered revision counts once
    episodes = []
    for warning_id, revisions in by_id.items():
        ordered = tuple(revisions[r] for r in sorted(revisions))
        first = ordered[0]
        seen = min(first.opened_at, min(r.updated_at for r in ordered))
        episodes.append(_Episode(warning_id, first.community_id, first.hazard, seen, ordered))
    return sorted(episodes, key=lambda e: (e.first_seen, e.warning_id))


def _within(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment <= end


def _score_incident(
    incident: TrueIncident, episodes: list[_Episode], tolerance: int, drill_end: datetime
) -> IncidentScore:
    revisions = [
        (episode, revision)
        for episode in episodes
        if episode.community_id in incident.communities and episode.hazard is incident.hazard
        for revision in episode.revisions
        if revision.change in _ACTIVE and _within(revision.updated_at, incident.start, incident.end)
    ]
    other = sorted(
        {
            e.hazard
            for e in episodes
            if e.community_id in incident.communities
            and e.hazard not in (incident.hazard, Hazard.DEVICE_FAULT)
            and _within(e.first_seen, incident.start, incident.end + INCIDENT_GRACE)
        }
    )
    warned = bool(revisions)
    delay = (min(r.updated_at for _, r in revisions) - incident.start).total_seconds() if revisions else None
    reached = max((r.tier for _, r in revisions), key=lambda t: t.severity, default=None)
    on_time = delay is not None and delay <= incident.max_delay_s
    tier_ok = reached is not None and abs(reached.severity - incident.expected_tier.severity) <= tolerance
    changes: dict[str, int] = defaultdict(int)
    for episode, revision in revisions:
        changes[episode.warning_id] += revision.change in _TIER_CHANGES
    return IncidentScore(
        id=incident.id,
        kind=incident.kind,
        communities=incident.communities,
        expected_tier=incident.expected_tier,
        tier_reached=reached,
        warned=warned,
        delay_s=delay,
        max_delay_s=incident.max_delay_s,
        on_time=on_time,
        tier_ok=tier_ok,
        exact=warned and on_time and reached is incident.expected_tier,
        tier_changes=max(changes.values(), default=0),
        episodes=len({e.warning_id for e, _ in revisions}),
        communities_warned=len({e.community_id for e, _ in revisions}),
        other_hazards=other,
        passed=warned and on_time and tier_ok,
    ).model_copy(update=_plateau(incident, episodes, drill_end))


def _open_spells(episodes: list[_Episode], drill_end: datetime) -> list[tuple[datetime, datetime]]:
    """When each episode's warning was open: from its first revision to its closing one."""
    spells = []
    for episode in episodes:
        closing = next((r.updated_at for r in episode.revisions if r.change in _CLOSING), drill_end)
        spells.append((episode.first_seen, closing))
    return spells


def _plateau(incident: TrueIncident, episodes: list[_Episode], drill_end: datetime) -> dict[str, object]:
    """The holding grades of an incident with a plateau (empty without one)."""
    if incident.plateau_until is None:
        return {}
    mine = [e for e in episodes if e.community_id in incident.communities and e.hazard is incident.hazard]
    spells = _open_spells(mine, drill_end)
    start, end = incident.peak, incident.plateau_until
    covered, reach = timedelta(0), start
    for opened, closed in sorted(spells):
        lo, hi = max(opened, reach), min(closed, end)
        if hi > lo:
            covered, reach = covered + (hi - lo), hi
    share = covered / (end - start)
    changes = sum(
        r.change in _TIER_CHANGES and _within(r.updated_at, start, end) for e in mine for r in e.revisions
    )
    last_closed = max((closed for _, closed in spells), default=None)
    all_clear = None if last_closed is None or last_closed >= drill_end else last_closed - incident.end
    return {
        "held_share": share,
        "plateau_tier_changes": changes,
        "all_clear_after_s": None if all_clear is None else all_clear.total_seconds(),
        "held": share >= PLATEAU_HELD_SHARE
        and changes == 0
        and all_clear is not None
        and all_clear <= ALL_CLEAR_WITHIN,
    }


def _explaining_incident(episode: _Episode, incidents: list[TrueIncident]) -> TrueIncident | None:
    """The incident under way in the episode's community when it was first seen, same hazard first."""
    candidates = [
        i
        for i in incidents
        if episode.community_id in i.communities
        and _within(episode.first_seen, i.start, i.end + INCIDENT_GRACE)
    ]
    return next((i for i in candidates if i.hazard is episode.hazard), None) or next(iter(candidates), None)


def _score_decoy(decoy: TrueDecoy, suspects: list[_Episode]) -> DecoyScore:
    false = [
        f"{e.hazard.value} {r.tier.name}"
        for e in suspects
        if e.community_id == decoy.community
        for r in e.revisions
        if r.change in _RAISING and _within(r.updated_at, decoy.start, decoy.end + DECOY_GRACE)
    ]
    return DecoyScore(
        id=decoy.id, kind=decoy.kind, community=decoy.community, quiet=not false, false_warnings=false
    )


def score(truth: GroundTruth, warnings: Iterable[RiskWarning], tolerance: int = 1) -> ScoreCard:
    """Score every warning revision in ``warnings`` against ``truth``."""
    episodes = [e for e in _episodes(warnings) if e.hazard is not Hazard.DEVICE_FAULT]
    incidents = [_score_incident(i, episodes, tolerance, truth.end) for i in truth.incidents]
    true = cross = 0
    unexplained: list[_Episode] = []
    for episode in episodes:
        incident = _explaining_incident(episode, truth.incidents)
        if incident is None:
            unexplained.append(episode)
        elif incident.hazard is episode.hazard:
            true += 1
        else:
            cross += 1
    decoys = [_score_decoy(d, unexplained) for d in truth.decoys]
    decoy_ids = {
        e.warning_id
        for d in truth.decoys
        for e in unexplained
        if e.community_id == d.community and _within(e.first_seen, d.start, d.end + DECOY_GRACE)
    }
    delays = [i.delay_s for i in incidents if i.delay_s is not None]
    count = len(incidents)
    return ScoreCard(
        scenario=truth.scenario,
        tolerance=tolerance,
        incidents=incidents,
        decoys=decoys,
        totals=Totals(
            incidents=count,
            warned=sum(i.warned for i in incidents),
            passed=sum(i.passed for i in incidents),
            exact=sum(i.exact for i in incidents),
            recall=sum(i.warned for i in incidents) / count if count else 1.0,
            pass_rate=sum(i.passed for i in incidents) / count if count else 1.0,
            exact_rate=sum(i.exact for i in incidents) / count if count else 1.0,
            max_tier_changes=max((i.tier_changes for i in incidents), default=0),
            median_delay_s=statistics.median(delays) if delays else None,
            max_delay_s=max(delays) if delays else None,
            decoys=len(decoys),
            decoys_quiet=sum(d.quiet for d in decoys),
            hazard_warnings=len(episodes),
            true_warnings=true,
            cross_hazard_warnings=cross,
            decoy_warnings=len(decoy_ids),
            unexplained_warnings=len(unexplained) - len(decoy_ids),
            precision=true / len(episodes) if episodes else None,
        ),
    )


def _tier(tier: Tier | None) -> str:
    return tier.label if tier is not None else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value / 60:.1f} min"


def format_scorecard(card: ScoreCard) -> str:
    """The score card as a table for people."""
    lines = [f"Drill score card: {card.scenario} (graded at the exact tier; ± {card.tolerance} shown too)"]
    lines += ["", "Incidents"]
    lines.append(
        f"  {'id':<18} {'kind':<16} {'result':<7} {'delay':>9} {'allowed':>9}  "
        f"{'expected':<10} {'reached':<10} {'changes':>7} {'episodes':>8}  other hazards"
    )
    for i in card.incidents:
        result = "PASS" if i.exact else ("late" if i.warned and not i.on_time else "MISS")
        if i.warned and i.on_time and not i.exact:
            result = f"±{card.tolerance}" if i.tier_ok else "TIER"
        lines.append(
            f"  {i.id:<18} {i.kind.value:<16} {result:<7} {_seconds(i.delay_s):>9} "
            f"{_seconds(i.max_delay_s):>9}  {_tier(i.expected_tier):<10} {_tier(i.tier_reached):<10} "
            f"{i.tier_changes:>7} {i.episodes:>8}  {', '.join(h.value for h in i.other_hazards) or '-'}"
        )
        if i.held is not None:
            lines.append(
                f"  {'':<18} plateau: warning open {i.held_share or 0.0:.0%} of it, {i.plateau_tier_changes} "
                f"tier changes, all-clear {_seconds(i.all_clear_after_s)} after the level was back: "
                + ("HELD" if i.held else "NOT HELD")
            )
    lines += ["", "Decoys"]
    for d in card.decoys:
        verdict = "quiet" if d.quiet else "FALSE WARNING: " + ", ".join(d.false_warnings)
        lines.append(f"  {d.id:<18} {d.kind.value:<16} {d.community:<10} {verdict}")
    t = card.totals
    precision = "-" if t.precision is None else f"{t.precision:.0%}"
    lines += [
        "",
        "Totals",
        f"  at the exact tier, in time: {t.exact}/{t.incidents} ({t.exact_rate:.0%})",
        f"  within ± {card.tolerance} tier, in time: {t.passed}/{t.incidents} ({t.pass_rate:.0%}); "
        f"warned {t.warned}/{t.incidents} (recall {t.recall:.0%})",
        f"  tier changes of one warning: at most {t.max_tier_changes}",
        f"  detection delay: median {_seconds(t.median_delay_s)}, max {_seconds(t.max_delay_s)}",
        f"  decoys quiet {t.decoys_quiet}/{t.decoys}",
        *(
            [f"  plateaus held {sum(bool(i.held) for i in plateaus)}/{len(plateaus)}"]
            if (plateaus := [i for i in card.incidents if i.held is not None])
            else []
        ),
        f"  hazard warnings {t.hazard_warnings}: true {t.true_warnings}, cross-hazard "
        f"{t.cross_hazard_warnings}, at decoys {t.decoy_warnings}, unexplained {t.unexplained_warnings}; "
        f"precision {precision}",
    ]
    return "\n".join(lines)
