"""Turning a raw deviation into a calibrated, quiet p-value: record calibration.

A raw z-score means different things on different series: on a spiky series
|z| = 8 happens every day, on a smooth one never. NAB and operators both want
one threshold that means the same everywhere, and they want one alarm per
incident, not one per reading.

:class:`RecordCalibration` compares each raw deviation ``z`` with the largest
deviation the series has shown recently (a peak that decays with a half-life
of about ``0.69 * memory`` readings). The ratio ``r = z / peak`` says how far a
reading beats the series' own recent record. If the series' deviations have
Gaussian-like tails and a record is a 1-in-``N`` event (``P(Z > peak) = 1/N``),
then ``P(Z > r * peak) ~ N ** -(r ** 2)``: that is the p-value reported, with
``log10 N = record_decades``. The default, 5 decades, puts a reading that just
beats the record where the assessment's tier IV starts (its sensor score is
0.5 at ``p = 1e-5``); ``r = 1.5`` gives ``p ~ 1e-11``. (Taking ``N`` as the
readings seen so far, for young series, measured worse on NAB: 57.0 against
60.9.)

After a reading beats the record, the next ``quiet_after_alarm`` readings are
damped (``quiet_damping``) and judged against the record from before the
alarm, which joins the record only when the spell ends: the incident is
already raised, and NAB (like an operator) rewards the earliest detection and
punishes each repeated one, but an incident that stays far beyond the
pre-incident record keeps its evidence on consecutive readings, which the
assessment's ladder needs (2 of 3 readings) to open a warning. Measured on
NAB (standard profile, best threshold): the record ratio took a multi-scale
EWMA z-score from 0 (uncalibrated: every threshold floods) to 53.6, a 50-reading
quiet spell to 61.7. Judging the spell against the pre-alarm record (without
which a sudden sustained shift fades after one reading and the ladder never
opens a warning for it) scored 57.3 with that spell and 62.4 with a 20-reading
one, the default.

``hold_decades`` limits the damping: during the spell, evidence up to
``hold_decades`` is kept undamped, and only what lies beyond it is damped, so
a reading still beyond the pre-alarm record scores at least ``hold_decades``.
:class:`~detectors.multiscale.MultiScaleLevel` holds just above the
assessment's tier IV entry (5 decades): a deviation that lasts gives the
ladder the second high reading its 2-of-3 entry needs, while a held reading
still ranks below every undamped alarm, so a threshold tells them apart.

``echo_alarm`` extends the hold to the reading right after an alarm, whatever its
deviation: an alarm that came straight back (a one-reading anomaly, NAB's most common
kind) then also gives the ladder its second high reading. Measured on NAB (standard
profile, best threshold / ``alert`` column of ``riskwatch replay``): 62.52 / 54.68 without,
62.52 / 61.53 with it (every window the alert column lost against the best threshold
had one reading above it, and 12 of them now open a warning); holding two readings
scored the same.

>>> c = RecordCalibration(memory=10_000, quiet_after_alarm=3, floor=1.0)
>>> for _ in range(10_000):
...     c.learn_one(2.0)
>>> round(c.p_value(2.0), 6), c.p_value(4.0) < 1e-15
(1e-05, True)
>>> c.learn_one(4.0)
>>> c.p_value(4.0)  # quiet: the alarm was just raised, evidence damped
1.0
>>> held = RecordCalibration(quiet_after_alarm=3, floor=1.0, quiet_damping=3.0, hold_decades=5.05)
>>> for z in [2.0] * 10_000 + [4.0]:
...     held.learn_one(z)
>>> held.surprise(4.0), held.surprise(1.0)  # held at 5.05; below it, undamped
(5.05, 1.25)
"""

from __future__ import annotations

import math
from typing import Any

NO_EVIDENCE = 1.0


class RecordCalibration:
    """Per-series record of deviations, mapping a raw ``z`` to a p-value.

    Parameters
    ----------
    memory
        Readings over which the record fades (the peak decays by
        ``1 - 1 / memory`` per reading).
    quiet_after_alarm
        Readings after an alarm whose evidence is damped (``quiet_damping``).
    floor
        Smallest record: a deviation below ``floor`` never beats it, so a
        flat or perfectly predicted series stays quiet.
    margin
        A record is only beaten by more than this fraction, so a deviation
        that recurs at the same size (a daily pattern the baseline does not
        model) does not alarm every time it comes back.
    record_decades
        Surprise (``-log10 p``) of a reading equal to the record.
    quiet_damping
        During a quiet spell the ratio to the pre-alarm record is divided by
        this: only a reading this many times beyond that record still counts
        (a large or worsening incident); ``inf`` silences the spell entirely.
    hold_decades
        During a quiet spell the surprise is ``max(damped, min(undamped,
        hold_decades))``: an incident that lasts keeps up to this much
        evidence. 0 (the default) damps everything.
    echo_alarm
        When true, the first reading of a quiet spell scores at least
        ``hold_decades``, whatever its deviation (see the module docstring).
    """

    def __init__(
        self,
        *,
        memory: int = 10_000,
        quiet_after_alarm: int = 50,
        floor: float = 1.0,
        margin: float = 0.0,
        quiet_damping: float = math.inf,
        record_decades: float = 5.0,
        hold_decades: float = 0.0,
        echo_alarm: bool = False,
    ) -> None:
        self.echo_alarm = echo_alarm
        self.memory = memory
        self.quiet_after_alarm = quiet_after_alarm
        self.floor = floor
        self.margin = margin
        self.quiet_damping = quiet_damping
        self._decay = 1.0 - 1.0 / memory
        self.record_decades = record_decades
        self.hold_decades = hold_decades
        self._peak = 0.0
        self._seen = 0
        self._quiet_left = 0
        self._alarm = 0.0

    def parameters(self) -> dict[str, Any]:
        """The configuration, as saved with a detector's state."""
        return {
            "memory": self.memory,
            "quiet_after_alarm": self.quiet_after_alarm,
            "floor": self.floor,
            "margin": self.margin,
            "quiet_damping": self.quiet_damping,
            "record_decades": self.record_decades,
            "hold_decades": self.hold_decades,
            "echo_alarm": self.echo_alarm,
        }

    @property
    def record(self) -> float:
        """The deviation a reading must reach to beat the record (never below ``floor``)."""
        return max(self._peak * (1.0 + self.margin), self.floor)

    def surprise(self, z: float) -> float:
        """``-log10`` of the calibrated p-value of deviation ``z`` (>= 0), without learning it.

        Exact even where the p-value itself underflows (``r`` above ~8).
        """
        return self.judge(z)[0]

    def judge(self, z: float) -> tuple[float, bool]:
        """:meth:`surprise` of ``z``, and whether the hold (not the damping) decided it."""
        if self._seen == 0:
            return 0.0, False
        decades = (z / self.record) ** 2 * self.record_decades
        if self._quiet_left > 0:
            damped, held = decades / self.quiet_damping**2, min(decades, self.hold_decades)
            if self.echo_alarm and self._quiet_left == self.quiet_after_alarm:
                held = self.hold_decades
            return (held, True) if held > damped else (damped, False)
        return decades, False

    def p_value(self, z: float) -> float:
        """Calibrated p-value of deviation ``z`` (>= 0), without learning it."""
        return min(NO_EVIDENCE, math.pow(10.0, -self.surprise(z)))

    def learn_one(self, z: float) -> None:
        """Fold deviation ``z`` into the record; start a quiet spell if it beats the record.

        The record is frozen during a quiet spell: an incident is judged against
        the record from before it, so a sustained incident keeps its evidence
        (the assessment needs it on consecutive readings) instead of becoming
        the new record.
        """
        self._seen += 1
        if self._quiet_left > 0:
            self._quiet_left -= 1
            if self._quiet_left == 0:  # the spell is over: the alarm joins the record
                self._peak = max(self._peak, self._alarm)
            return
        if z >= self.record:
            self._quiet_left = self.quiet_after_alarm
            self._alarm = z
            if self.quiet_after_alarm > 0:
                return
        self._peak = max(self._peak * self._decay, z)
