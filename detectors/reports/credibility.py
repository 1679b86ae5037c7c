"""How much a report weighs: by reporter role and track record, learning from operator feedback.

A report's weight is the estimated probability that a report from this
source is genuine. Each role starts from a prior (a community police officer's
report is more often right than an anonymous one) held as a Beta distribution
with ``role_strength`` pseudo-reports; a known reporter starts from their
role's estimate with ``reporter_strength`` pseudo-reports. Operator feedback
moves both: a report whose warning is marked a false alarm lowers its role a
little and its reporter more; one whose warning is resolved (it was real)
raises them.

>>> cred = ReporterCredibility()
>>> round(cred.weight(ReporterRole.POLICE), 3), round(cred.weight(ReporterRole.RESIDENT), 3)
(0.9, 0.6)
>>> cred.record(ReporterRole.RESIDENT, "r-17", FeedbackAction.FALSE_ALARM)
>>> round(cred.weight(ReporterRole.RESIDENT), 3), round(cred.weight(ReporterRole.RESIDENT, "r-17"), 3)
(0.571, 0.48)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.events import ReporterRole
from schemas.feedback import FeedbackAction

ROLE_PRIORS: dict[ReporterRole, float] = {
    ReporterRole.POLICE: 0.9,
    ReporterRole.GRID_WORKER: 0.85,
    ReporterRole.SOCIAL_ORG: 0.75,
    ReporterRole.RESIDENT: 0.6,
}
"""Prior share of genuine reports by role: product defaults until feedback says otherwise.

Community police and grid workers (网格员) are trained to verify before
reporting; social organisations are often on site; residents report in good
faith but see less.
"""


@dataclass
class _Record:
    """Beta(genuine, false) pseudo-counts."""

    genuine: float
    false: float

    @property
    def mean(self) -> float:
        return self.genuine / (self.genuine + self.false)


class ReporterCredibility:
    """Role and reporter credibility as Beta posteriors over "this report is genuine".

    Parameters
    ----------
    priors
        Prior share of genuine reports by role.
    role_strength
        Pseudo-reports behind a role's prior: larger moves slower.
    reporter_strength
        Pseudo-reports behind a reporter's prior (their role's current estimate).
    max_reporters
        Known reporters kept; the least recently updated is forgotten beyond it.
    """

    def __init__(
        self,
        priors: Mapping[ReporterRole, float] = ROLE_PRIORS,
        *,
        role_strength: float = 20.0,
        reporter_strength: float = 4.0,
        max_reporters: int = 100_000,
    ) -> None:
        missing = set(ReporterRole) - set(priors)
        if missing:
            raise ValueError(f"credibility priors lack roles {sorted(missing)}; give one per reporter role")
        self.reporter_strength = reporter_strength
        self.max_reporters = max_reporters
        self._roles = {
            role: _Record(p * role_strength, (1 - p) * role_strength) for role, p in priors.items()
        }
        self._reporters: dict[str, _Record] = {}

    def weight(self, role: ReporterRole, reporter_id: str | None = None) -> float:
        """Probability that a report from ``role`` (and ``reporter_id`` when known) is genuine."""
        own = self._reporters.get(reporter_id) if reporter_id else None
        return own.mean if own else self._roles[role].mean

    def record(self, role: ReporterRole, reporter_id: str | None, action: FeedbackAction) -> None:
        """Learn the operator's verdict on a warning the report contributed to.

        ``FALSE_ALARM`` counts the report as not genuine, ``RESOLVE`` as genuine;
        ``ACKNOWLEDGE`` says nothing about truth and is ignored.
        """
        if action is FeedbackAction.ACKNOWLEDGE:
            return
        genuine = action is FeedbackAction.RESOLVE
        if reporter_id:
            own = self._reporters.pop(reporter_id, None)
            if own is None:
                base = self._roles[role].mean
                own = _Record(base * self.reporter_strength, (1 - base) * self.reporter_strength)
            self._reporters[reporter_id] = own  # most recently updated last
            self._update(own, genuine)
            if len(self._reporters) > self.max_reporters:
                del self._reporters[next(iter(self._reporters))]
        self._update(self._roles[role], genuine)

    @staticmethod
    def _update(record: _Record, genuine: bool) -> None:
        if genuine:
            record.genuine += 1.0
        else:
            record.false += 1.0
