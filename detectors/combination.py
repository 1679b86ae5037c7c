"""Several models of one series, the most surprising one speaking: :class:`MostSurprising`.

Each model scores and learns every reading on its own (each keeps its own
learning protection). The combined surprise is the largest one minus
``log10`` of the number of models, a Bonferroni correction: with two models
each alarming at ``p`` by chance, the pair alarms at up to ``2 p``, so the
combined ``p`` is twice the smallest one and one threshold keeps its meaning.
Evidence held through an ongoing incident (:attr:`~detectors.base.Score.held`)
is no chance finding and passes uncorrected. ``expected`` (and
``contributor``) come from the model that spoke.

What it is for: pairing a *novelty* model (:class:`~detectors.multiscale.MultiScaleLevel`,
record-calibrated: it says how new a deviation is, and its evidence fades
once an incident is part of the record) with a *sustained-level* model
(:class:`~detectors.ewma.EwmaZScore` on a sensor's noise floor: its evidence
lasts as long as the deviation, which the tier ladder needs to hold a tier,
but it learns a slow ramp as the new normal). Measured as a candidate for the
live default (:mod:`detectors.ensemble`); not the default yet.

>>> from detectors.ewma import EwmaZScore
>>> from detectors.multiscale import MultiScaleLevel
>>> pair = MostSurprising(MultiScaleLevel(warmup=20), EwmaZScore(warmup=20, min_spread=0.1))
>>> for i in range(500):
...     pair.learn_one(10.0 + (i % 7) * 0.05)
>>> pair.score_one(10.1).surprise < 1, pair.score_one(14.0).surprise > 5
(True, True)
>>> spike = pair.score_one(14.0)
>>> round(max(m.score_one(14.0).surprise for m in pair.models) - spike.surprise, 3)  # log10(2)
0.301
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from detectors.base import NO_EVIDENCE_P, Detector, Score


class MostSurprising:
    """The most surprising of several univariate models, Bonferroni-corrected.

    Parameters
    ----------
    *models
        Fresh detectors of the same series (at least one).

    Warm-up lasts until every model is warmed up, so the combination never
    speaks on the evidence of a model that is not trained yet.
    """

    kind: ClassVar[str] = "most_surprising"

    def __init__(self, *models: Detector) -> None:
        if not models:
            raise ValueError("MostSurprising needs at least one model")
        self.models = models

    def parameters(self) -> dict[str, Any]:
        """Each model's kind and parameters, in order (saved with the state)."""
        return {"models": [{"kind": m.kind, "parameters": m.parameters()} for m in self.models]}

    @property
    def warming_up(self) -> bool:
        """True while any model is warming up."""
        return any(m.warming_up for m in self.models)

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """The most surprising model's score, less ``log10(len(models))`` decades unless held."""
        scores = [m.score_one(value, at) for m in self.models]
        best = max(scores, key=lambda score: score.surprise)
        if not math.isfinite(value) or any(score.warming_up for score in scores):
            return Score(p_value=NO_EVIDENCE_P, expected=best.expected, warming_up=self.warming_up)
        return best.corrected(len(self.models), contributor=best.contributor)

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Every model learns ``value`` (each applies its own rules and protection)."""
        for model in self.models:
            model.learn_one(value, at)
