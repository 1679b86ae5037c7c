"""Level-shift detectors: River's Page-Hinkley and ADWIN wrapped as calibrated detectors.

A level shift (a slowly rising water table, a sensor that re-zeroed) is not
one surprising value but many slightly surprising ones. Both detectors here
feed River's change detectors with the series scaled to unit noise, so their
parameters mean the same on every series, and turn the detector state into a
p-value:

* :class:`PageHinkleyShift` — River ``drift.PageHinkley`` is fed the
  deviations from an anchor (the first value after warm-up or after a
  detection) in noise units. With no change and allowance ``δ``, its CUSUM
  excursion ``T`` has the tail ``P(T ≥ h) ≈ exp(-2·δ·h)`` (Siegmund's
  approximation for a random walk with drift ``-δ`` and unit variance), so
  two-sided ``p = min(1, 2·exp(-2·δ·T))``. The score rises smoothly as
  evidence accumulates; River's threshold is set to fire at ``p = detect_p``.
  River's fading (``alpha < 1``) is switched off: with its default
  ``1 - 1e-4`` the sums settle around ``-δ/(1-α)`` and their running minimum
  drifts away, and on white noise ``P(T > 23)`` was 33 % instead of the 1 %
  above; without fading it measured 0.6–0.9 %.
* :class:`AdwinShift` — River ``drift.ADWIN`` is fed the series in noise
  units fixed at the end of warm-up (its window keeps old values, which a
  moving scale would distort). It declares a change when two sub-windows
  differ beyond a bound that holds with probability ``1 - delta``; the
  detection is scored ``p = delta`` and the surprise decays linearly to 0
  over ``hold`` further values (ADWIN has no graded statistic to score).

Noise scale: the mean absolute step ``E|x_t - x_{t-1}| = 2σ/√π`` for white
noise, tracked by an EWMA, so a level shift (one large step) barely moves it
— unlike the variance, which a shift inflates. It is floored by ``min_spread``.
On a strongly autocorrelated series it underestimates σ, and both detectors
fire on smaller shifts than the nominal ``p`` says.

Both learn every value (no learning protection: refusing to learn the new
level would hide the shift they exist to find). A non-finite value (a gap)
is not learned and scores ``p = 1``: it carries no evidence of a shift.

>>> import random
>>> noise = random.Random(3)
>>> d = PageHinkleyShift(warmup=20, min_spread=0.01)
>>> for i in range(300):
...     d.learn_one(noise.gauss(1.0, 0.1))
>>> d.score_one(1.0).p_value > 0.1
True
>>> shift = []
>>> for _ in range(60):
...     shift.append(d.score_one(v := noise.gauss(2.0, 0.1)).surprise)
...     d.learn_one(v)
>>> max(shift) > 3, shift[-1] < 1   # alarms on the shift, then accepts the new level
(True, True)
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

from river import drift, stats

from detectors.base import NO_EVIDENCE_P, Score

_MEAN_ABS_STEP_TO_SIGMA = math.sqrt(math.pi) / 2.0
"""σ = E|Δx|·√π/2 for independent Gaussian noise (Δx then has sd σ√2)."""
_LOG10_E = math.log10(math.e)


class _NoiseScale:
    """Noise level of a series from its mean absolute step, robust to level shifts."""

    def __init__(self, alpha: float, min_spread: float) -> None:
        self.min_spread = min_spread
        self._abs_step = stats.EWMean(fading_factor=alpha)
        self._last: float | None = None
        self.seen = 0

    def get(self) -> float:
        return max(self._abs_step.get() * _MEAN_ABS_STEP_TO_SIGMA, self.min_spread)

    def update(self, value: float) -> None:
        if self._last is not None:
            self._abs_step.update(abs(value - self._last))
        self._last = value
        self.seen += 1


class PageHinkleyShift:
    """Two-sided Page-Hinkley test on the series in noise units, scored by its excursion tail.

    Parameters
    ----------
    delta
        Allowance per value in noise units: shifts smaller than this are ignored.
    detect_p
        p-value at which River's detector fires (its threshold is derived from it).
    warmup
        Values used only to learn the noise scale before the test starts.
    min_spread
        Floor on the noise scale, in the series' unit.
    alpha
        Fading factor of the noise-scale EWMA.
    """

    kind: ClassVar[str] = "page_hinkley"

    def __init__(
        self,
        *,
        delta: float = 0.1,
        detect_p: float = 1e-4,
        warmup: int = 30,
        min_spread: float = 1e-3,
        alpha: float = 0.01,
    ) -> None:
        self.delta = delta
        self.detect_p = detect_p
        self.warmup = warmup
        self.min_spread = min_spread
        self.alpha = alpha
        self._scale = _NoiseScale(alpha, min_spread)
        self._anchor: float | None = None
        self._ph = drift.PageHinkley(
            min_instances=1, delta=delta, threshold=math.log(2.0 / detect_p) / (2.0 * delta), alpha=1.0
        )

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` values have set the noise scale."""
        return self._scale.seen < self.warmup

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "delta": self.delta,
            "detect_p": self.detect_p,
            "warmup": self.warmup,
            "min_spread": self.min_spread,
            "alpha": self.alpha,
        }

    def decades_of(self, excursion: float) -> float:
        """Surprise of a CUSUM excursion (noise units): ``-log10 min(1, 2·exp(-2·δ·T))``.

        >>> d = PageHinkleyShift(delta=0.1, detect_p=1e-4)
        >>> round(d.decades_of(d._ph.threshold), 6)
        4.0
        """
        return max(0.0, 2.0 * self.delta * max(excursion, 0.0) * _LOG10_E - math.log10(2.0))

    def _starts_afresh(self) -> bool:
        """True when the next value re-anchors the test (first value, or after a detection)."""
        return self._anchor is None or bool(self._ph.drift_detected)

    def _excursion_with(self, z: float) -> tuple[float, float]:
        """The excursion and mean River's update would reach on ``z``, without mutating it."""
        ph = self._ph
        n = ph._x_mean.n + 1
        mean = ph._x_mean.get() + (z - ph._x_mean.get()) / n
        dev = z - mean
        up = ph.alpha * ph._sum_increase + dev - ph.delta
        down = ph.alpha * ph._sum_decrease + dev + ph.delta
        return max(up - min(ph._min_increase, up), max(ph._max_decrease, down) - down), mean

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """Tail probability of the excursion the test would reach with ``value`` (``at`` unused)."""
        if self.warming_up or not math.isfinite(value) or self._starts_afresh():
            expected = None if self._anchor is None else self._anchor
            return Score(p_value=NO_EVIDENCE_P, expected=expected, warming_up=self.warming_up)
        assert self._anchor is not None
        scale = self._scale.get()
        excursion, mean = self._excursion_with((value - self._anchor) / scale)
        decades = self.decades_of(excursion)
        return Score.of_decades(decades, self._anchor + mean * scale)

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """Learn the noise scale; after warm-up, feed the anchored, scaled value to Page-Hinkley."""
        if not math.isfinite(value):
            return
        if not self.warming_up:
            if self._starts_afresh():
                self._anchor = value
            assert self._anchor is not None
            self._ph.update((value - self._anchor) / self._scale.get())  # type: ignore[no-untyped-call]
        self._scale.update(value)


class AdwinShift:
    """ADWIN on the series in warm-up noise units; a detection scores ``p = delta``, fading over ``hold``.

    Parameters
    ----------
    delta
        ADWIN's confidence: the chance of a false detection per check.
    hold
        Values over which the surprise of a detection decays back to 0.
    warmup
        Values that set the noise scale before ADWIN starts.
    min_spread
        Floor on the noise scale, in the series' unit.
    alpha
        Fading factor of the noise-scale EWMA during warm-up.
    clock
        ADWIN checks for a change every ``clock`` values (River's default 32).

    >>> d = AdwinShift(warmup=10, clock=8)
    >>> for i in range(300):
    ...     d.learn_one(float(i % 3))
    >>> d.score_one(1.0).p_value
    1.0
    >>> shift = []
    >>> for _ in range(100):
    ...     shift.append(d.score_one(9.0).p_value)
    ...     d.learn_one(9.0)
    >>> min(shift), shift[-1]   # p = delta on detection, back to 1 after ``hold`` values
    (0.002, 1.0)
    """

    kind: ClassVar[str] = "adwin"

    def __init__(
        self,
        *,
        delta: float = 0.002,
        hold: int = 50,
        warmup: int = 30,
        min_spread: float = 1e-3,
        alpha: float = 0.1,
        clock: int = 32,
    ) -> None:
        self.delta = delta
        self.hold = hold
        self.warmup = warmup
        self.min_spread = min_spread
        self.alpha = alpha
        self.clock = clock
        self._scale = _NoiseScale(alpha, min_spread)
        self._adwin = drift.ADWIN(delta=delta, clock=clock)  # type: ignore[no-untyped-call]
        self._since_detection = hold

    @property
    def warming_up(self) -> bool:
        """True until ``warmup`` values have set the noise scale."""
        return self._scale.seen < self.warmup

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with the state."""
        return {
            "delta": self.delta,
            "hold": self.hold,
            "warmup": self.warmup,
            "min_spread": self.min_spread,
            "alpha": self.alpha,
            "clock": self.clock,
        }

    def score_one(self, value: float, at: datetime | None = None) -> Score:
        """``delta`` right after a detection, its surprise decaying linearly over ``hold`` values."""
        if self.warming_up or not math.isfinite(value):
            return Score(p_value=NO_EVIDENCE_P, expected=None, warming_up=self.warming_up)
        fading = max(0.0, 1.0 - self._since_detection / self.hold)
        expected = self._adwin.estimation * self._scale.get()
        return Score(p_value=self.delta**fading, expected=expected, warming_up=False)

    def learn_one(self, value: float, at: datetime | None = None) -> None:
        """During warm-up learn the noise scale; afterwards feed the scaled value to ADWIN."""
        if not math.isfinite(value):
            return
        if self.warming_up:
            self._scale.update(value)
            return
        self._adwin.update(value / self._scale.get())  # type: ignore[no-untyped-call]
        detected = self._adwin.drift_detected
        self._since_detection = 0 if detected else min(self.hold, self._since_detection + 1)
