"""A baseline that holds while a series reads abnormally, and stays quiet until calibrated.

:class:`HeldBaseline` wraps a series' model and decides what it may learn and
what its scores may say. Three rules (DESIGN.md, "What a warning must mean"):

* **New is quiet.** A new series (or one back after :data:`MAX_GAP_S` without
  readings) scores ``warming_up`` until it is calibrated on its own record: a
  record of ``calibration`` readings after the model's warm-up in which
  readings deviating by ``deviating_decades`` or more came at no more than
  ``false_alarm_target`` of the readings. A record that fails starts again, so
  a series whose model does not fit it (autocorrelated noise, a drift the
  model cannot follow) stays quiet: physical limits (:mod:`detectors.limits`)
  still warn about it, and it is counted among the warming-up series. While
  calibrating, the model learns every reading: there is no baseline yet to
  protect.
* **A hazard holds while it lasts.** Once calibrated, a deviating reading is
  never learned. A deviation that lasts ``freeze`` freezes the baseline: the
  model learns nothing until readings have been back inside the band for
  ``exit``; until then an in-band reading keeps the episode's peak evidence
  (:attr:`~detectors.base.Score.held`), and ``expected`` stays the
  pre-incident baseline. A warning therefore ends because readings came back,
  never because the model adapted. Accepting a new normal is an operator's
  decision (``riskwatch rebaseline``, which starts the series' model afresh
  once it has been frozen long enough: :attr:`HeldBaseline.frozen_for_s`); a
  series that never comes back stays frozen.
  Only a model of unknown meaning (``max_freeze``: a generic device) learns
  one reading each time a freeze has lasted that long, so a lasting new level
  is followed slowly while its warning stays open; and a model with an
  ``observe_one`` (:class:`~detectors.device_level.DeviceLevel`) sees every
  reading once the series is calibrated, learned or not, to accept a steady
  step of one metric alone.
* **A warned hazard holds too.** While the series' hazard has an open warning in
  its community (another source opened it: residents' reports, a neighbouring
  gauge), the caller says so (``learn_one(..., warned=True)``) and a calibrated
  model learns nothing, not even readings inside the band: a slow rise that
  never deviates reading by reading, and that the model would otherwise follow,
  stays judged against the pre-incident baseline until the warning ends. A model
  of unknown meaning still learns its one reading per ``max_freeze`` (its own
  warning is what a generic device's hazard means; holding that too cost
  gecco-water's row F1 0.586 to 0.574, against 0.584 so). The warning is the
  assessment's state, not the detector's: it is checkpointed with the community,
  so nothing of it is stored here.
* **Rules that work at any rate.** ``freeze`` and ``exit`` are
  :class:`~detectors.dwell.Dwell` rules counting readings and time, whichever
  is longer. A deviation's evidence is not delayed: the assessment's ladder
  decides when a warning opens (its 2-of-3 readings entry).

>>> from datetime import UTC, datetime, timedelta
>>> from detectors.ewma import EwmaZScore
>>> held = HeldBaseline(EwmaZScore(warmup=5, min_spread=0.01))
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> def feed(values, start):
...     scores = []
...     for i, value in enumerate(values, start):
...         at = t0 + timedelta(minutes=i)
...         scores.append(held.score_one(value, at))
...         held.learn_one(value, at)
...     return scores
>>> quiet = feed([1.0, 1.01, 0.99] * 200, 0)
>>> held.warming_up, quiet[10].warming_up  # calibrated on 30 quiet readings after warm-up
(False, True)
>>> flood = feed([2.0] * 720, 600)  # 12 hours high: the baseline does not follow
>>> min(s.surprise for s in flood) > 6, round(flood[-1].expected, 2)
(True, 1.0)
>>> back = feed([1.0] * 10, 1320)  # back in band: evidence held for the exit dwell, then released
>>> [s.held for s in back[:6]], back[5].surprise < 1
([True, True, True, True, True, False], True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from detectors.base import NO_EVIDENCE_P, RISK_HALF_SURPRISE, Detector, Score
from detectors.dwell import Dwell

DEVIATING_DECADES = RISK_HALF_SURPRISE
"""A reading at ``p <= 1e-4`` deviates: where tier IV's evidence starts, and the z-score's own
learning protection (:attr:`detectors.ewma.EwmaZScore.protect_p`)."""
FREEZE = Dwell(readings=2, seconds=60.0)
"""The baseline freezes once a deviation has lasted two readings and a minute: a lone deviating
reading back in band at the next one is a spike (:mod:`pipeline.processing.signals` reads it as a device's
suspected fault, which holding its evidence would hide); it is still not learned."""
EXIT = Dwell(readings=5, seconds=300.0)
"""Back in band for 5 readings and 5 minutes before the baseline is released: the ladder's exit
dwell (``TierPolicy.exit_dwell_s``, "about five readings of a 60-second sensor"), in both units."""
CALIBRATION_READINGS = 30
"""Readings of the record after the model's warm-up: as many again as the warm-up
(``detectors.ensemble.DEFAULT_WARMUP``). On so short a record the rate can only be shown to be
0, which is the point: a young model, whose spread is still too narrow for its series, shows
deviations early. Counted in readings, not time, because the rate is one per reading. Measured
on fresh drifting autocorrelated noise (``tests/unit/pipeline/test_held_warnings.py``): without
this record 18 of 27 series opened a warning, as many as with no hold at all; with it none, and
every one was calibrated by its 89th reading."""
FALSE_ALARM_TARGET = 1.0 / 1440.0
"""Deviating readings allowed per reading of the record: one a day at 1-minute sampling, the
issue's "at most one warning opened per day"; on a shorter record, none."""
MAX_GAP_S = 86_400.0
"""A series silent for a day may have been serviced, moved or replaced: it calibrates again."""


Reading = TypeVar("Reading", float, Mapping[str, float])
"""One series' value, or one device's metrics read together."""
_Judged = TypeVar("_Judged", contravariant=True)


class HeldModel(Protocol[_Judged]):
    """What :class:`HeldBaseline` holds: a series' :class:`~detectors.base.Detector` (one value per
    reading) or a device's :class:`~detectors.base.DeviceDetector` (several metrics per reading)."""

    kind: ClassVar[str]

    @property
    def warming_up(self) -> bool:
        """True until the model has seen enough readings."""
        ...

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        ...

    def score_one(self, value: _Judged, at: datetime | None = None, /) -> Score:
        """Judge ``value`` without learning it."""
        ...

    def learn_one(self, value: _Judged, at: datetime | None = None, /) -> None:
        """Learn ``value``."""
        ...


def _finite(value: float | Mapping[str, float]) -> bool:
    """Whether a reading carries a number: a finite value, or a device reading with a finite metric.

    >>> _finite(float("nan")), _finite({"a": float("nan"), "b": 1.0})
    (False, True)
    """
    if isinstance(value, Mapping):
        return any(math.isfinite(metric) for metric in value.values())
    return math.isfinite(value)


def learn_held(model: Detector, value: float, at: datetime | None, warned: bool) -> None:
    """Let ``model`` learn ``value``; a held one is told whether its hazard is ``warned`` (a model
    that is not held keeps no baseline to protect and learns as always)."""
    if warned and isinstance(model, HeldBaseline):
        model.learn_one(value, at, warned=True)
    else:
        model.learn_one(value, at)


class HeldBaseline(Generic[Reading]):
    """A series model whose baseline freezes while readings deviate, quiet until calibrated.

    Parameters
    ----------
    model
        The series' (or device's) model (scores and learns the readings it is allowed to).
    deviating_decades
        Surprise from which a reading deviates (not learned once calibrated).
    freeze, exit
        How long a deviation lasts before the baseline freezes; how long
        readings stay back in band before it is released.
    calibration_readings, false_alarm_target
        The record a series must show, and the largest share of deviating
        readings in it, before its scores may warn.
    max_gap_s
        Seconds without readings after which a series calibrates again.
    max_freeze
        ``None`` (the product's sensor types): a freeze lasts until readings come
        back, and only an operator accepts a new normal. Otherwise, each time a
        freeze has lasted this long, one reading is learned: a series of unknown
        meaning (:func:`detectors.ensemble.default_device`) follows a lasting new
        level slowly, never at once, and its warning stays open meanwhile.
    confirm
        When true, the first deviating reading after in-band ones reports at
        most ``deviating_decades``: a deviation is evidence once a second
        reading confirms it. Without it (the sensor types) a lone spike reaches
        the assessment, which reads a spike that came straight back as a
        device's suspected fault; with it a device of unknown meaning does not
        count two lone spikes hours apart as the ladder's 2 of 3 (measured on
        gecco-water, such pairs opened 39 of 86 false warnings).
    """

    kind: ClassVar[str] = "held_baseline"
    _frozen_since: datetime | None = None
    """Event time the baseline froze (a class default, so states pickled before it was kept load)."""

    def __init__(
        self,
        model: HeldModel[Reading],
        *,
        deviating_decades: float = DEVIATING_DECADES,
        freeze: Dwell = FREEZE,
        exit: Dwell = EXIT,
        calibration_readings: int = CALIBRATION_READINGS,
        false_alarm_target: float = FALSE_ALARM_TARGET,
        max_gap_s: float = MAX_GAP_S,
        max_freeze: Dwell | None = None,
        confirm: bool = False,
    ) -> None:
        self.model: HeldModel[Reading] = model
        self.deviating_decades = deviating_decades
        self.freeze = freeze
        self.exit = exit
        self.calibration_readings = calibration_readings
        self.false_alarm_target = false_alarm_target
        self.max_gap_s = max_gap_s
        self.max_freeze = max_freeze
        self.confirm = confirm
        self._calibrated = False
        self._record = 0
        self._record_deviating = 0
        self._frozen = False
        self._run = 0
        """Readings in the current run: deviating ones before a freeze, in-band ones during it."""
        self._run_since: datetime | None = None
        """Event time of the last reading before the run."""
        self._peak = 0.0
        self._frozen_for = 0
        """Readings since the freeze began or since it last learned one (``max_freeze``)."""
        self._frozen_from: datetime | None = None
        self._last_at: datetime | None = None
        self._scored: tuple[Reading, datetime | None, Score] | None = None

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "model": {"kind": self.model.kind, "parameters": self.model.parameters()},
            "deviating_decades": self.deviating_decades,
            "freeze": self.freeze.parameters(),
            "exit": self.exit.parameters(),
            "calibration_readings": self.calibration_readings,
            "false_alarm_target": self.false_alarm_target,
            "max_gap_s": self.max_gap_s,
            "max_freeze": None if self.max_freeze is None else self.max_freeze.parameters(),
            "confirm": self.confirm,
        }

    @property
    def warming_up(self) -> bool:
        """True until the model has warmed up and been calibrated on the series' own record."""
        return self.model.warming_up or not self._calibrated

    @property
    def frozen(self) -> bool:
        """True while the baseline holds through a deviation (nothing is learned)."""
        return self._frozen

    @property
    def frozen_for_s(self) -> float | None:
        """Seconds of the series' own event time since the baseline froze (None: not frozen, or
        the readings carry no times)."""
        if not self._frozen or self._frozen_since is None or self._last_at is None:
            return None
        return (self._last_at - self._frozen_since).total_seconds()

    def _after_gap(self, at: datetime | None) -> bool:
        return (
            at is not None
            and self._last_at is not None
            and (at - self._last_at).total_seconds() > self.max_gap_s
        )

    def _model_score(self, value: Reading, at: datetime | None) -> Score:
        scored = self._scored
        if scored is not None and scored[0] == value and scored[1] == at:
            return scored[2]
        score = self.model.score_one(value, at)
        self._scored = (value, at, score)
        return score

    def score_one(self, value: Reading, at: datetime | None = None) -> Score:
        """The model's score, quiet until calibrated, and held at the episode's peak while a
        frozen series is back in band."""
        if not _finite(value):
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        return self._judged(self._model_score(value, at), at)

    def learn_one(self, value: Reading, at: datetime | None = None, *, warned: bool = False) -> None:
        """Advance calibration and the freeze with this reading; let the model learn it unless it
        deviates, the baseline is frozen or, once calibrated, ``warned``: the series' hazard has
        an open warning in its community (see the module docstring)."""
        if _finite(value):
            self._learn(value, at, self._model_score(value, at), warned)

    def score_and_learn(self, value: Reading, at: datetime | None = None, *, warned: bool = False) -> Score:
        """:meth:`score_one` then :meth:`learn_one` in one call, the model asked once: what the
        pipeline does with every reading (:mod:`detectors.batch`), with the same results."""
        if not _finite(value):
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        model_score = self.model.score_one(value, at)
        judged = self._judged(model_score, at)
        self._learn(value, at, model_score, warned)
        return judged

    def _judged(self, score: Score, at: datetime | None) -> Score:
        """What the model's ``score`` of a finite reading at ``at`` may say (:meth:`score_one`)."""
        if score.warming_up or not self._calibrated or self._after_gap(at):
            return Score(p_value=NO_EVIDENCE_P, expected=score.expected, warming_up=True)
        surprise = score.surprise
        if self._frozen and surprise < self.deviating_decades:
            peak = max(self._peak, surprise)
            return Score.of_decades(peak, score.expected, contributor=score.contributor, held=True)
        if self.confirm and not self._frozen and not self._run and surprise > self.deviating_decades:
            return Score.of_decades(self.deviating_decades, score.expected, contributor=score.contributor)
        return score

    def _learn(self, value: Reading, at: datetime | None, score: Score, warned: bool) -> None:
        """Learn the finite ``value``, which the model scored ``score`` (:meth:`learn_one`)."""
        if self._after_gap(at):
            self._recalibrate()
        if score.warming_up:
            learn = True
        elif not self._calibrated:
            self._calibrate(score.surprise >= self.deviating_decades)
            learn = True
        else:
            learn = self._hold(score.surprise, at, warned)
        if learn:
            self.model.learn_one(value, at)
        if self._calibrated and (observe := getattr(self.model, "observe_one", None)) is not None:
            observe(value, at)  # a model that also watches what it may not learn (DeviceLevel)
        self._last_at = at
        self._scored = None

    def _recalibrate(self) -> None:
        self._calibrated = self._frozen = False
        self._frozen_since = None
        self._record = self._record_deviating = self._run = 0
        self._run_since = None
        self._peak = 0.0

    def _calibrate(self, deviating: bool) -> None:
        self._record += 1
        self._record_deviating += deviating
        if self._record >= self.calibration_readings:
            if self._record_deviating <= self.false_alarm_target * self._record:
                self._calibrated = True
            self._record = self._record_deviating = 0

    def _hold(self, surprise: float, at: datetime | None, warned: bool) -> bool:
        """Advance the freeze; whether the model may learn this reading (``warned``: none but the
        one a ``max_freeze`` lets a model of unknown meaning learn)."""
        deviating = surprise >= self.deviating_decades
        if deviating != self._frozen:  # the run goes on: deviating before a freeze, in band in it
            if not self._run:  # the run's time counts from the reading before it
                self._run_since = self._last_at or at
            self._run += 1
            rule = self.exit if self._frozen else self.freeze
            if rule.met(self._run, self._run_since, at):
                self._frozen, self._run, self._run_since = not self._frozen, 0, None
                self._frozen_since = at if self._frozen else None
                self._frozen_for, self._frozen_from = 0, at
        else:  # the run is broken: a reading back in band before a freeze, a deviation in it
            self._run, self._run_since = 0, None
        if deviating:
            self._peak = max(self._peak, surprise) if self._frozen else surprise
        elif not self._frozen:
            self._peak = 0.0
        return (not deviating and not self._frozen and not warned) or self._follows(at)

    def _follows(self, at: datetime | None) -> bool:
        """Whether a freeze has lasted ``max_freeze`` again, so this reading is learned."""
        if not self._frozen or self.max_freeze is None:
            return False
        self._frozen_for += 1
        if not self.max_freeze.met(self._frozen_for, self._frozen_from, at):
            return False
        self._frozen_for, self._frozen_from = 0, at
        return True
