"""Report bursts: many reports of one hazard in one community, more than its history explains.

Each (community, category) learns its report rate λ (reports per hour) as an
exponentially weighted Poisson rate with a Gamma prior at ``floor_per_day``:
``λ = max(floor, (n + floor·E₀) / (E + E₀))`` where ``n`` and ``E`` are the
report count and observed time faded with time constant ``tau``, and ``E₀`` is
the prior's weight (``prior``, one day: one pseudo-report at the default
floor). The reports of the last ``window`` are then scored by the Poisson
tail ``P(X ≥ k | μ = λ·window)``. A brand-new community sits at the floor,
so one report is not a burst, while four flood reports in a quarter of an
hour where there were none is.

Reports scored as a burst (``p < protect_p``) are not learned into the rate,
so a flood of reports does not become the new normal in the same hour; once
reports have been protected for ``max_protected`` without a break, the rate
really has changed (a new estate, a new reporting app) and they are learned.

>>> from datetime import datetime, timedelta
>>> bursts = ReportBursts()
>>> t0 = datetime(2026, 7, 1, 12)
>>> round(bursts.observe("c1", Hazard.FLOOD, t0).p_value, 3)   # a first report: not a burst
0.041
>>> b = [bursts.observe("c1", Hazard.FLOOD, t0 + timedelta(minutes=m)) for m in (5, 9, 14)][-1]
>>> b.count, b.p_value < 1e-4
(4, True)
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from detectors.base import Score
from schemas.hazard import Hazard


def poisson_tail(k: int, mu: float) -> float:
    """``P(X ≥ k)`` for ``X ~ Poisson(mu)``, accurate far into the tail.

    >>> poisson_tail(0, 2.0), round(poisson_tail(3, 0.5), 6), poisson_tail(40, 0.01) < 1e-100
    (1.0, 0.014388, True)
    """
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    log_term = k * math.log(mu) - mu - math.lgamma(k + 1)
    if k > mu:  # sum the upper tail directly: terms fall at least geometrically
        total, term, j = 0.0, math.exp(log_term), k
        while term > total * 1e-17:
            total += term
            j += 1
            term *= mu / j
        return min(1.0, total)
    below = sum(math.exp(j * math.log(mu) - mu - math.lgamma(j + 1)) for j in range(k))
    return max(0.0, 1.0 - below)


@dataclass(frozen=True, slots=True)
class ReportBurst:
    """How surprising the reports of the last window are for one (community, category)."""

    community_id: str
    category: Hazard
    count: int
    """Reports in the window, including the one just observed."""
    expected: float
    """Reports expected in the window from the learned rate."""
    p_value: float

    @property
    def score(self) -> Score:
        """As a detector score (the contributor is the category)."""
        return Score(self.p_value, self.expected, warming_up=False, contributor=self.category.value)


@dataclass(frozen=True, slots=True)
class BurstConfig:
    """Parameters of every report-rate baseline.

    Parameters
    ----------
    window
        The span a burst is counted over.
    tau
        Memory of the learned rate.
    prior
        Weight of the prior, as observed time at the floor rate.
    floor_per_day
        Prior and lowest rate: reports per day expected of any community and category.
    protect_p
        Reports in a window scoring below this are not learned ...
    max_protected
        ... unless reports have been protected for this long without a break.
    max_window_reports
        Reports kept per window; more saturate the count (the p-value is long tiny by then).
    """

    window: timedelta = timedelta(hours=1)
    tau: timedelta = timedelta(days=14)
    prior: timedelta = timedelta(days=1)
    floor_per_day: float = 1.0
    protect_p: float = 1e-3
    max_protected: timedelta = timedelta(hours=6)
    max_window_reports: int = 64


class ReportRate:
    """The learned report rate and recent reports of one (community, category)."""

    def __init__(self, config: BurstConfig) -> None:
        self.config = config
        self._faded_count = 0.0
        self._faded_hours = 0.0
        self._last_s: float | None = None
        self._protected_since_s: float | None = None
        self._recent: deque[float] = deque(maxlen=config.max_window_reports)

    def export(self) -> list[float | None]:
        """The learned state as plain numbers (faded count, faded hours, last report, protected
        since, then the recent reports' times), for a checkpoint; :meth:`resume` reads it back."""
        return [self._faded_count, self._faded_hours, self._last_s, self._protected_since_s, *self._recent]

    def resume(self, state: list[float | None]) -> None:
        """Continue from :meth:`export`'s numbers (raises ``ValueError`` if they are not such)."""
        if len(state) < 4 or state[0] is None or state[1] is None or None in state[4:]:
            raise ValueError(f"not a report rate state: {state!r}")
        self._faded_count, self._faded_hours = state[0], state[1]
        self._last_s, self._protected_since_s = state[2], state[3]
        self._recent.clear()
        self._recent.extend(t for t in state[4:] if t is not None)

    def rate_per_hour(self) -> float:
        """The learned rate, shrunk toward (and never below) the floor."""
        floor = self.config.floor_per_day / 24.0
        prior_hours = self.config.prior.total_seconds() / 3600
        learned = (self._faded_count + floor * prior_hours) / (self._faded_hours + prior_hours)
        return max(floor, learned)

    def _fade_to(self, at_s: float) -> None:
        if self._last_s is not None and at_s > self._last_s:
            tau_h = self.config.tau.total_seconds() / 3600
            elapsed_h = (at_s - self._last_s) / 3600
            keep = math.exp(-elapsed_h / tau_h)
            self._faded_count *= keep
            self._faded_hours = self._faded_hours * keep + tau_h * (1 - keep)
        self._last_s = at_s if self._last_s is None else max(self._last_s, at_s)

    def observe(self, at_s: float) -> tuple[int, float, float]:
        """Score a report at ``at_s`` (epoch seconds), then learn it: ``(count, expected, p)``."""
        window_s = self.config.window.total_seconds()
        self._fade_to(at_s)
        while self._recent and self._recent[0] <= at_s - window_s:
            self._recent.popleft()
        self._recent.append(at_s)
        count = len(self._recent)
        expected = self.rate_per_hour() * window_s / 3600
        p = poisson_tail(count, expected)
        if p >= self.config.protect_p:
            self._protected_since_s = None
            self._faded_count += 1.0
        else:
            if self._protected_since_s is None:
                self._protected_since_s = at_s
            if at_s - self._protected_since_s > self.config.max_protected.total_seconds():
                self._faded_count += 1.0
        return count, expected, p


class ReportBursts:
    """One :class:`ReportRate` per (community, category), created on the first report."""

    def __init__(self, config: BurstConfig | None = None) -> None:
        self.config = config or BurstConfig()
        self._rates: dict[tuple[str, Hazard], ReportRate] = {}

    def __len__(self) -> int:
        return len(self._rates)

    def export_by_community(self) -> dict[str, dict[str, list[float | None]]]:
        """``{community: {category: rate state}}`` (:meth:`ReportRate.export`), in one pass."""
        states: dict[str, dict[str, list[float | None]]] = {}
        for (community, category), rate in self._rates.items():
            states.setdefault(community, {})[category.value] = rate.export()
        return states

    def import_community(self, community_id: str, states: dict[str, list[float | None]]) -> None:
        """Resume a community's rates from its part of :meth:`export_by_community`."""
        for category, state in states.items():
            rate = ReportRate(self.config)
            rate.resume(state)
            self._rates[(community_id, Hazard(category))] = rate

    def forget_communities(self, communities: set[str]) -> None:
        """Drop the rates of communities whose partitions moved to another worker."""
        self._rates = {key: rate for key, rate in self._rates.items() if key[0] not in communities}

    def observe(self, community_id: str, category: Hazard, at: datetime) -> ReportBurst:
        """Score a report submitted at ``at`` against its community's history, then learn it."""
        key = (community_id, category)
        rate = self._rates.get(key)
        if rate is None:
            rate = self._rates[key] = ReportRate(self.config)
        count, expected, p = rate.observe(at.timestamp())
        return ReportBurst(community_id, category, count, expected, p)
