"""The lag-1 autocorrelation estimator and what autocorrelation costs a z-score
(detectors.autocorrelation)."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.autocorrelation import (
    MAX_PHI,
    LagOneAutocorrelation,
    effective_readings,
    ewma_widening,
    student_t_quantile,
)


def ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, 1.0, n)
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + shocks[i]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.95])
def test_the_estimator_recovers_the_autocorrelation_of_ar1_noise(phi: float) -> None:
    estimator = LagOneAutocorrelation(rate=0.001)
    for value in ar1(30_000, phi, seed=1):
        estimator.learn_one(float(value))
    assert estimator.phi == pytest.approx(phi, abs=0.05)


def test_negative_autocorrelation_reads_as_none_and_a_random_walk_is_clipped() -> None:
    alternating, walk = LagOneAutocorrelation(), LagOneAutocorrelation()
    for i in range(1_000):
        alternating.learn_one(1.0 if i % 2 else -1.0)
        walk.learn_one(float(i))
    assert alternating.phi == 0.0
    assert walk.phi == MAX_PHI


def test_a_gap_keeps_the_pair_across_it_out_of_the_estimate() -> None:
    """Alternating pairs (+1, +1), (-1, -1): every pair within a chain agrees (phi 1), every pair
    across chains disagrees; with a gap between chains only the agreeing pairs are learned."""
    chained, gapped = LagOneAutocorrelation(), LagOneAutocorrelation()
    for i in range(400):
        sign = 1.0 if i % 2 else -1.0
        for estimator in (chained, gapped):
            estimator.learn_one(sign)
            estimator.learn_one(sign)
        gapped.gap()
    assert chained.phi < 0.05
    assert gapped.phi == MAX_PHI


@pytest.mark.parametrize("phi", [0.0, 0.8, 0.95])
def test_the_widening_is_the_simulated_spread_of_an_ewma_of_ar1_noise(phi: float) -> None:
    rate, x = 0.1, ar1(200_000, phi, seed=2)
    average, averages = 0.0, np.empty(x.size)
    for i, value in enumerate(x):
        average += rate * (value - average)
        averages[i] = average
    independent = x[1_000:].std() * np.sqrt(rate / (2.0 - rate))
    assert averages[1_000:].std() / independent == pytest.approx(ewma_widening(phi, rate), rel=0.05)


def test_few_effective_readings_need_a_higher_z() -> None:
    assert effective_readings(1_000, 0.0) == 1_000
    assert effective_readings(1_000, 0.95) == pytest.approx(1_000 * 0.05 / 1.95)
    quantiles = [student_t_quantile(4.0, df) for df in (1.0, 5.0, 20.0, 100.0, 1e6)]
    assert quantiles == sorted(quantiles, reverse=True)
    assert quantiles[-1] == pytest.approx(4.0, abs=1e-4)
    assert student_t_quantile(4.0, 20.0) == pytest.approx(5.04, abs=0.1)  # the exact quantile: 5.04
