"""How much a series' noise remembers: an online lag-1 autocorrelation, and what it costs a z-score.

A z-score's spread is learned as if readings were independent. On autocorrelated noise (an AR(1)
process ``x_t = phi * x_(t-1) + e_t``, the simplest model of a slowly wandering sensor) that is
wrong twice:

* a series of ``n`` readings holds only ``n * (1 - phi) / (1 + phi)`` independent ones (the
  effective sample size of an AR(1) mean; Bartlett 1946, Bayley and Hammersley 1946), so a young
  record knows its spread far less well than ``n`` says;
* an exponentially weighted average (rate ``a``) of such noise spreads more than of independent
  noise: its variance is ``sigma**2 * a / (2 - a) * (1 + phi * (1 - a)) / (1 - phi * (1 - a))``
  (sum the geometric series of the weights times ``phi**|i - j|``), so
  :func:`ewma_widening` of the independent spread.

:class:`LagOneAutocorrelation` estimates ``phi`` from residuals the caller hands it (deviations
from its baseline), with exponentially weighted lag-0 and lag-1 moments; a gap (a residual the
caller did not learn) breaks the chain so no pair spans it. :func:`student_t_quantile` turns a
normal quantile into the Student-t one for few effective readings.

>>> import random
>>> rng, x, est = random.Random(0), 0.0, LagOneAutocorrelation(rate=0.001)
>>> for _ in range(20_000):
...     x = 0.9 * x + rng.gauss(0.0, 1.0)
...     est.learn_one(x)
>>> round(est.phi, 1)
0.9
>>> round(ewma_widening(0.95, 0.1), 2), ewma_widening(0.0, 0.1)
(3.58, 1.0)
>>> round(student_t_quantile(4.0, 1_000_000.0), 3), round(student_t_quantile(4.0, 10.0), 1)
(4.0, 6.3)
"""

from __future__ import annotations

import math

MAX_PHI = 0.95
"""Largest autocorrelation reported. A random walk (``phi`` 1) has no finite widening, and a
smooth wave reads nearly 1 (a sine of period 63 readings: 0.99, which made 450 readings worth 2
and hid a spike of 28 spreads); at 0.95, the issue-15 drift's own, 450 readings are worth 12.
NAB (standard profile, best threshold / alert column): 65.37 / 63.36 at 0.99, 65.26 / 63.46 at 0.95."""


class LagOneAutocorrelation:
    """Exponentially weighted lag-1 autocorrelation of a stream of residuals, clipped to
    ``[0, MAX_PHI]`` (negative autocorrelation only narrows spreads; it is not used).

    Parameters
    ----------
    rate
        Weight of each new pair once more than ``1 / rate`` were seen (before: the plain mean).
    """

    def __init__(self, *, rate: float = 0.004) -> None:
        self.rate = rate
        self._n = 0
        self._lag0 = 0.0
        self._lag1 = 0.0
        self._previous: float | None = None

    @property
    def phi(self) -> float:
        """The estimated lag-1 autocorrelation, 0 until two residuals in a row were seen."""
        if self._lag0 <= 0.0:
            return 0.0
        return min(max(self._lag1 / self._lag0, 0.0), MAX_PHI)

    def learn_one(self, residual: float) -> None:
        """Fold the pair (previous residual, ``residual``) into the moments."""
        previous, self._previous = self._previous, residual
        if previous is None:
            return
        self._n += 1
        step = max(self.rate, 1.0 / self._n)
        self._lag0 += step * (0.5 * (residual * residual + previous * previous) - self._lag0)
        self._lag1 += step * (residual * previous - self._lag1)

    def gap(self) -> None:
        """A residual was skipped: the next one starts a new chain."""
        self._previous = None


def effective_readings(n: float, phi: float) -> float:
    """Independent readings worth ``n`` readings of AR(1) noise of autocorrelation ``phi``."""
    return n * (1.0 - phi) / (1.0 + phi)


def ewma_widening(phi: float, rate: float) -> float:
    """Spread of an EWMA (``rate``) of AR(1) noise over its spread on independent noise."""
    kept = phi * (1.0 - rate)
    return math.sqrt((1.0 + kept) / (1.0 - kept))


def student_t_quantile(z: float, df: float) -> float:
    """The Student-t quantile (``df`` degrees of freedom) of the same tail as normal quantile
    ``z``: the Cornish-Fisher expansion in ``1 / df`` (Abramowitz and Stegun 26.7.5, two terms),
    for ``df`` of at least 1. It falls short of the exact quantile at very few ``df`` (at 1 about
    85 for ``z`` 4, against about 10,000), still far above any young record."""
    df = max(df, 1.0)
    z2 = z * z
    first = z * (z2 + 1.0) / (4.0 * df)
    second = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / (96.0 * df * df)
    return z + first + second
