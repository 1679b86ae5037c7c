"""The batch step: score then learn readings, each against its series' model, in one call.

The pipeline does the same two things with every reading: score it against its series'
model, then let the model learn it (held, :func:`detectors.hold.learn_held`).
:func:`observe_reading` is that per-reading form, kept as the reference;
:func:`observe` is the step the worker and ``riskwatch replay`` take, and
:func:`observe_batch` takes it over a message's readings of one or more series.

Almost every reading of a product sensor is the common case: a held EWMA z-score
(:class:`~detectors.hold.HeldBaseline` of :class:`~detectors.ewma.EwmaZScore`) that is
calibrated, not frozen, not back after a gap, not warned, and a reading inside the band
(learned). For it :func:`observe` takes an inlined step: the model's judgement
(:meth:`~detectors.ewma.EwmaZScore.tail_decades`), one :class:`~detectors.base.Score`, the
hold's bookkeeping of an in-band reading and the model's :meth:`~detectors.ewma.EwmaZScore.fold`,
without the per-reading form's chain of calls and its score caches (two tuples, an ABC
``isinstance`` per call, the gap judged twice). It reads the two models' fields as their
own methods do: it is their friend, kept next to them in this package. Anything else (a
reading that deviates or is protected, a warned or frozen series, a calibrating one, a
generic series' multi-scale level) takes the models' own code: a held baseline's
:meth:`~detectors.hold.HeldBaseline.score_and_learn`, any other model's ``score_one`` then
``learn_one``.

The results are the per-reading form's, bit for bit: the same scores and the same state
(pickled bytes). :func:`detectors.conformance.check_batch_matches_per_reading` checks it for
every conforming detector, on readings that go through every branch.

>>> from datetime import UTC, datetime, timedelta
>>> from detectors.ensemble import default_detector
>>> from detectors.base import Direction
>>> one, other = (default_detector("water_level", direction=Direction.UP, min_spread=0.02) for _ in "ab")
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> values = [1.0 + 0.01 * (i % 5) for i in range(200)] + [3.0, 3.0]
>>> ats = [t0 + timedelta(minutes=i) for i in range(len(values))]
>>> batch = observe_batch([one] * len(values), values, ats)
>>> batch == [observe_reading(other, v, at) for v, at in zip(values, ats)]
True
>>> batch[-1].surprise > 6, one.frozen
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from detectors.base import Detector, Score
from detectors.ewma import EwmaZScore
from detectors.hold import HeldBaseline, learn_held


def observe_reading(
    detector: Detector, value: float, at: datetime | None = None, warned: bool = False
) -> Score:
    """The per-reading form: ``detector.score_one`` then its (held) ``learn_one``; the score.

    ``warned``: the series' hazard has an open warning in its community, so a held baseline
    learns nothing (:func:`~detectors.hold.learn_held`)."""
    score = detector.score_one(value, at)
    learn_held(detector, value, at, warned)
    return score


def observe(detector: Detector, value: float, at: datetime | None = None, warned: bool = False) -> Score:
    """Score ``value`` against ``detector``, then let it learn: :func:`observe_reading`'s result,
    by the inlined step where the reading is the common case (see the module docstring)."""
    if isinstance(detector, HeldBaseline):
        model = detector.model
        if type(model) is EwmaZScore and not warned:
            steady = _steady_step(detector, model, value, at)
            if steady is not None:
                return steady
        return detector.score_and_learn(value, at, warned=warned)
    return observe_reading(detector, value, at, warned)


def observe_batch(
    detectors: Sequence[Detector],
    values: Sequence[float],
    ats: Sequence[datetime | None],
    warned: Sequence[bool] | None = None,
) -> list[Score]:
    """:func:`observe` each reading in order (``values[i]`` at ``ats[i]`` with ``detectors[i]``,
    its series' model; one detector may recur); their scores.

    ``warned[i]`` (default: none) must be known before the batch: where a reading's signal can
    open a warning that holds a later reading of the same message (the worker), step the
    message reading by reading with :func:`observe` instead.
    """
    flags = warned if warned is not None else [False] * len(values)
    return [
        observe(detector, value, at, held)
        for detector, value, at, held in zip(detectors, values, ats, flags, strict=True)
    ]


def _steady_step(
    held: HeldBaseline[float], model: EwmaZScore, value: float, at: datetime | None
) -> Score | None:
    """The common case inlined: the score of an in-band reading of a calibrated, unfrozen,
    unwarned held z-score, learned; None (nothing changed) for any other reading.

    Mirrors :meth:`HeldBaseline.score_one` then :meth:`HeldBaseline.learn_one` on that path:
    the score is the model's own; the hold breaks any deviating run and clears the peak; the
    model learns the reading (:meth:`EwmaZScore.fold`) since it is not protected."""
    if not held._calibrated or held._frozen or model._seen < model.warmup or model._seen == 0:
        return None
    if not math.isfinite(value):
        return None
    last = held._last_at
    if at is not None and last is not None and (at - last).total_seconds() > held.max_gap_s:
        return None
    decades, mean = model.tail_decades(value)
    if decades >= held.deviating_decades:
        return None
    score = Score.of_decades(decades, mean)
    if score.p_value < model.protect_p:
        return None
    held._run = 0
    held._run_since = None
    held._peak = 0.0
    held._last_at = at
    held._scored = None
    model.fold(value)
    return score
