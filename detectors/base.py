"""The detector protocol every online model in riskwatch follows.

A detector sees one series, one value at a time. ``score_one`` judges a value
against what the detector has learned so far (without learning it);
``learn_one`` then folds the value into the model. Keeping the two apart lets
the caller refuse to learn from points judged anomalous.

Scores are calibrated tail probabilities: ``p_value`` is how likely a value at
least this extreme is under the series' own recent behaviour, so one
threshold means the same thing on every series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol


class Direction(StrEnum):
    """Which deviations are dangerous: a rising water level, a falling supply voltage."""

    UP = "up"
    DOWN = "down"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Score:
    """A detector's judgement of one value.

    >>> s = Score(p_value=1e-6, expected=2.0, warming_up=False)
    >>> round(s.score, 6), round(s.surprise, 1)
    (0.999999, 6.0)
    """

    p_value: float
    """Probability of a value at least this extreme (in the dangerous direction)."""
    expected: float | None
    """What the detector expected to see, for the evidence shown to operators."""
    warming_up: bool
    """True until the detector has seen enough data to be trusted."""
    contributor: str | None = None
    """Which input contributed most (for multivariate detectors)."""

    @property
    def score(self) -> float:
        """Anomaly score in [0, 1]: ``1 - p_value``."""
        return 1.0 - self.p_value

    @property
    def surprise(self) -> float:
        """Decades of unlikeliness, ``-log10(p_value)``; 0 while warming up."""
        if self.warming_up:
            return 0.0
        return -math.log10(max(self.p_value, 1e-300))


class Detector(Protocol):
    """An online model of one series."""

    kind: ClassVar[str]
    """Short name of the detector family, recorded in warning evidence."""

    def score_one(self, value: float) -> Score:
        """Judge ``value`` against what has been learned, without learning it."""
        ...

    def learn_one(self, value: float) -> None:
        """Fold ``value`` into the model."""
        ...
