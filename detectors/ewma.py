"""A robust online baseline: exponentially weighted mean and spread, scored as a z tail.

River's ``GaussianScorer`` flags every point of a flat stretch (zero spread);
here the spread has a floor, absolute and relative to the level, so a
flat-lined series never alarms on noise-free data.

>>> d = EwmaZScore(warmup=5, min_spread=0.1)
>>> for v in [1.0, 1.1, 0.9, 1.0, 1.05, 0.95]:
...     d.learn_one(v)
>>> d.score_one(1.0).p_value > 0.3
True
>>> d.score_one(3.0).surprise > 6
True

The surprise is exact far into the tail, where the p-value itself underflows to
0 (``|z|`` above ~38), so two extreme readings still rank by how extreme they
are and a threshold on the surprise separates them:

>>> round(d.score_one(30.0).surprise), round(d.score_one(60.0).surprise)
(18265, 75592)
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from river import stats

from detectors.base import NO_EVIDENCE_P, Direction, Score

_SQRT2 = math.sqrt(2.0)
_LN10 = math.log(10.0)
_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG10_2 = math.log10(2.0)
_ASYMPTOTIC_FROM = 30.0
"""Beyond this z the upper tail (< 1e-197) is taken from its asymptotic series, accurate to ~1e-8
relative there; below it ``erfc`` is exact and far from underflow."""


def normal_tail_decades(z: float) -> float:
    """``-log10 P(Z >= z)`` for a standard normal ``Z``, finite where the probability underflows.

    >>> round(normal_tail_decades(0.0), 4), round(normal_tail_decades(5.0), 3)
    (0.301, 6.543)
    >>> round(normal_tail_decades(40.0), 1)  # P = 10**-349.4: below the smallest float
    349.4
    """
    if z < _ASYMPTOTIC_FROM:
        return -math.log10(0.5 * math.erfc(z / _SQRT2))
    # Mills ratio: P(Z >= z) = phi(z) / z * (1 - 1/z^2 + 3/z^4 - ...)
    ln_tail = -0.5 * z * z - math.log(z) - _HALF_LN_2PI + math.log1p(-1.0 / z**2 + 3.0 / z**4)
    return -ln_tail / _LN10


class EwmaZScore:
    """EWMA level and variance (River ``stats.EWMean``/``EWVar``) with a floored spread.

    Parameters
    ----------
    alpha
        Fading factor of the mean and variance: larger adapts faster.
    warmup
        Values to learn before any score leaves ``warming_up``.
    min_spread
        Absolute floor on the standard deviation, in the series' unit.
    relative_spread
        Floor on the standard deviation as a fraction of ``|mean|``.
    direction
        Which deviations count as anomalous.
    protect_p
        Values scoring a p-value below this are not learned (so a fault does
        not become the new normal) ...
    max_protected
        ... unless that many in a row were refused: then the level has really
        shifted and the model follows it.
    """

    kind: ClassVar[str] = "ewma_z"

    def __init__(
        self,
        *,
        alpha: float = 0.02,
        warmup: int = 30,
        min_spread: float = 1e-3,
        relative_spread: float = 0.01,
        direction: Direction = Direction.BOTH,
        protect_p: float = 1e-4,
        max_protected: int = 60,
    ) -> None:
        self.alpha = alpha
        self.warmup = warmup
        self.min_spread = min_spread
        self.relative_spread = relative_spread
        self.direction = direction
        self.protect_p = protect_p
        self.max_protected = max_protected
        self._mean = stats.EWMean(fading_factor=alpha)
        self._var = stats.EWVar(fading_factor=alpha)
        self._seen = 0
        self._protected_in_row = 0
        self._scored: tuple[float, Score] | None = None
        """The last value scored and its score: ``learn_one`` of the same value (the usual
        score-then-learn step) reuses it instead of scoring twice."""

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "alpha": self.alpha,
            "warmup": self.warmup,
            "min_spread": self.min_spread,
            "relative_spread": self.relative_spread,
            "direction": self.direction.value,
            "protect_p": self.protect_p,
            "max_protected": self.max_protected,
        }

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` values have been learned."""
        return self._seen < self.warmup

    def tail_decades(self, value: float) -> tuple[float, float]:
        """``-log10`` of the tail probability of ``value`` (>= 0) in the configured direction,
        and the mean it is judged against; for a model that has learned at least one value.

        One place for the judgement, shared by :meth:`score_one` and the inlined batch step
        (:mod:`detectors.batch`), so the two cannot drift apart.
        """
        mean = self._mean.get()
        sd = math.sqrt(max(self._var.get(), 0.0))
        z = (value - mean) / max(sd, self.min_spread, self.relative_spread * abs(mean))
        if self.direction is Direction.UP:
            decades = normal_tail_decades(z)
        elif self.direction is Direction.DOWN:
            decades = normal_tail_decades(-z)
        else:  # two-sided: twice the tail of |z|
            decades = normal_tail_decades(abs(z)) - _LOG10_2
        return max(decades, 0.0), mean

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """Tail probability of ``value`` under N(mean, spread²) in the configured direction.

        ``decades`` carries its exact ``-log10``, which stays finite where the probability
        underflows (see :func:`normal_tail_decades`).
        """
        if self._seen == 0 or not math.isfinite(value):
            expected = self._mean.get() if self._seen else None
            return Score(p_value=NO_EVIDENCE_P, expected=expected, warming_up=self.warming_up)
        decades, mean = self.tail_decades(value)
        score = Score.of_decades(decades, mean, warming_up=self.warming_up)
        self._scored = (value, score)
        return score

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Learn ``value`` unless it is non-finite or a protected anomaly (see class docstring)."""
        if not math.isfinite(value):
            return
        if not self.warming_up:
            scored = self._scored
            score = scored[1] if scored is not None and scored[0] == value else self.score_one(value)
            if score.p_value < self.protect_p:
                self._protected_in_row += 1
                if self._protected_in_row <= self.max_protected:
                    return
        self.fold(value)

    def fold(self, value: float) -> None:
        """Fold the finite ``value`` into the mean and variance: the learning step once
        :meth:`learn_one` (or the batch step of :mod:`detectors.batch`) has let it through."""
        self._protected_in_row = 0
        self._mean.update(value)
        self._var.update(value)
        self._seen += 1
        self._scored = None
