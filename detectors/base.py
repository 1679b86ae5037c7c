"""The detector protocol every online model in riskwatch follows.

A detector sees one series, one value at a time. ``score_one`` judges a value
against what the detector has learned so far (without learning it);
``learn_one`` then folds the value into the model. Keeping the two apart lets
the caller refuse to learn from points judged anomalous.

Scores are calibrated tail probabilities: ``p_value`` is how likely a value at
least this extreme is under the series' own recent behaviour, so one
threshold means the same thing on every series.

Rules every detector follows (checked by :func:`detectors.conformance.check_detector`):

* **Missing values.** A non-finite value (NaN, infinity: a missing or broken
  reading) is no evidence: ``score_one`` returns ``p_value=1`` and
  ``learn_one`` leaves the model unchanged. Multivariate detectors drop the
  non-finite metrics of a reading and judge the rest.
* **Warm-up.** While ``warming_up`` is true, scores carry ``warming_up=True``
  and must not raise a warning.
* **Time.** ``at`` is the reading's event time; models without a notion of
  time (seasonality, gaps) ignore it.
* **State.** ``parameters()`` returns the JSON-serialisable configuration;
  :mod:`detectors.state` stores it next to the pickled model so a state is only
  restored into an identically configured detector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

RISK_HALF_SURPRISE = 4.0
"""Surprise at which :attr:`Score.risk` is 0.5: ``p = 1e-4``, where tier IV starts."""


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
    decades: float | None = None
    """Exact ``-log10(p_value)`` when the detector knows it; kept because tiny
    p-values underflow to 0 and would all tie, losing which reading is more extreme."""
    held: bool = False
    """True when the surprise is an ongoing incident's evidence held after an alarm
    (:attr:`detectors.calibration.RecordCalibration.hold_decades`), not a chance
    finding: a combination of models does not correct it for multiple testing."""

    @classmethod
    def of_decades(
        cls,
        decades: float,
        expected: float | None,
        *,
        warming_up: bool = False,
        contributor: str | None = None,
        held: bool = False,
    ) -> Score:
        """The score ``decades`` (>= 0) of surprise deep: ``p_value`` is ``10**-decades``, which
        may underflow to 0 while ``decades`` keeps the exact figure.

        >>> Score.of_decades(6.0, expected=2.0).p_value
        1e-06
        """
        return cls(min(NO_EVIDENCE_P, 10.0**-decades), expected, warming_up, contributor, decades, held)

    def corrected(self, tests: int, contributor: str | None) -> Score:
        """This score as the most surprising of ``tests`` (a Bonferroni correction: ``log10(tests)``
        decades less), unless it is an incident's :attr:`held` evidence, no chance finding.

        >>> Score.of_decades(5.0, None).corrected(10, "flow").decades
        4.0
        """
        decades = self.surprise if self.held else max(0.0, self.surprise - math.log10(tests))
        return Score.of_decades(decades, self.expected, contributor=contributor, held=self.held)

    @property
    def score(self) -> float:
        """Anomaly score in [0, 1]: ``1 - p_value``."""
        return 1.0 - self.p_value

    @property
    def surprise(self) -> float:
        """Decades of unlikeliness, ``-log10(p_value)``; 0 while warming up."""
        if self.warming_up:
            return 0.0
        if self.decades is not None:
            return self.decades
        return -math.log10(max(self.p_value, 1e-300))

    @property
    def risk(self) -> float:
        """Bounded, non-saturating score in [0, 1): ``surprise / (surprise + 4)``.

        0.5 at ``p = 1e-4`` (where tier IV starts), and unlike ``score`` it keeps
        ordering extreme readings, so it is what replay writes as ``anomaly_score``.

        >>> Score(p_value=1e-4, expected=None, warming_up=False).risk
        0.5
        """
        surprise = self.surprise
        return surprise / (surprise + RISK_HALF_SURPRISE)


class Detector(Protocol):
    """An online model of one univariate series."""

    kind: ClassVar[str]
    """Short name of the detector family, recorded in warning evidence and saved state."""

    @property
    def warming_up(self) -> bool:
        """True until the detector has seen enough data to be trusted."""
        ...

    def parameters(self) -> dict[str, Any]:
        """The configuration, JSON-serialisable (saved with the state)."""
        ...

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """Judge ``value`` against what has been learned, without learning it."""
        ...

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Fold ``value`` into the model (a detector may refuse protected anomalies)."""
        ...


class DeviceDetector(Protocol):
    """An online model of one device reporting several metrics at once."""

    kind: ClassVar[str]
    """Short name of the detector family."""

    @property
    def warming_up(self) -> bool:
        """True until the detector has seen enough data to be trusted."""
        ...

    def parameters(self) -> dict[str, Any]:
        """The configuration, JSON-serialisable (saved with the state)."""
        ...

    def score_one(self, values: Mapping[str, float], at: datetime | None = None) -> Score:
        """Judge one reading of every metric; ``contributor`` names the most surprising one."""
        ...

    def learn_one(
        self, values: Mapping[str, float], at: datetime | None = None, *, warned: bool = False
    ) -> None:
        """Fold one reading into the model; ``warned``: the device's hazard has an open warning in
        its community, so a held model (:class:`~detectors.hold.HeldBaseline`) learns nothing."""
        ...


NO_EVIDENCE_P = 1.0
"""``p_value`` of a value that says nothing (non-finite, or first sight)."""
