"""Level models: the z-score's exact tail, the multi-scale level's hold and clipping, their pair."""

from __future__ import annotations

import math
import random

import pytest

from detectors.autocorrelation import MAX_PHI
from detectors.base import Direction
from detectors.combination import MostSurprising
from detectors.ensemble import PerMetricDevice, SeriesModel, default_detector
from detectors.ewma import EwmaZScore, normal_tail_decades
from detectors.hold import HeldBaseline
from detectors.multiscale import MultiScaleLevel


def noise(n: int, level: float = 10.0, sd: float = 0.5, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(level, sd) for _ in range(n)]


def test_normal_tail_is_exact_and_continuous_where_erfc_underflows() -> None:
    for z in (0.0, 1.0, 5.0, 20.0, 29.0):
        assert normal_tail_decades(z) == pytest.approx(-math.log10(0.5 * math.erfc(z / math.sqrt(2))))
    below, above = normal_tail_decades(30.0 - 1e-9), normal_tail_decades(30.0)
    assert above == pytest.approx(below, rel=1e-8)
    assert 0.5 * math.erfc(40.0 / math.sqrt(2)) == 0.0
    assert normal_tail_decades(40.0) == pytest.approx(349.437, abs=1e-3)  # P(Z >= 40) = 3.66e-350


def test_ewma_surprise_keeps_ranking_readings_whose_p_value_underflows() -> None:
    detector = EwmaZScore(warmup=30)
    for value in noise(300):
        detector.learn_one(value)
    far, farther = detector.score_one(40.0), detector.score_one(80.0)
    assert far.p_value == farther.p_value == 0.0
    assert far.decades is not None and math.isfinite(far.surprise)
    assert farther.surprise > far.surprise > 300


def test_a_lone_spike_does_not_make_the_next_normal_reading_alarming() -> None:
    detector = MultiScaleLevel(warmup=30, min_spread=0.5, direction=Direction.UP)
    for value in noise(400, level=0.3, sd=0.1):
        detector.learn_one(value)
    spike = detector.score_one(90.0)
    detector.learn_one(90.0)
    after = detector.score_one(0.35)
    assert spike.surprise > 100
    assert after.surprise < 2, "the spike entered the fast average clipped: back to normal is normal"


def test_unclipped_the_fast_average_keeps_a_spike_alive() -> None:
    detector = MultiScaleLevel(warmup=30, min_spread=0.5, direction=Direction.UP, fast_clip=math.inf)
    for value in noise(400, level=0.3, sd=0.1):
        detector.learn_one(value)
    detector.learn_one(90.0)
    assert detector.score_one(0.35).surprise > 5


def test_a_lasting_shift_keeps_tier_iv_evidence_through_the_quiet_spell() -> None:
    detector = MultiScaleLevel(warmup=30)
    for value in noise(2_000):
        detector.learn_one(value)
    surprises = []
    for value in noise(20, level=16.0, seed=9):
        surprises.append(detector.score_one(value).surprise)
        detector.learn_one(value)
    assert surprises[0] > 10, "the onset is an alarm"
    assert min(surprises[1:]) >= 5.0, "held at tier IV's entry while the shift lasts"
    damped = MultiScaleLevel(warmup=30, hold_decades=0.0)
    for value in noise(2_000):
        damped.learn_one(value)
    damped.learn_one(16.0)
    assert damped.score_one(16.0).surprise < 5.0, "without the hold the spell damps it"


def test_a_slow_rise_below_the_noise_floor_never_counts() -> None:
    detector = MultiScaleLevel(warmup=30, min_spread=0.02, direction=Direction.UP)
    level = [0.6 + 0.0001 * (i % 10) for i in range(500)]
    for value in level:
        detector.learn_one(value)
    rise = [0.6 + 0.0002 * i for i in range(100)]  # 2 cm in 100 readings: under the 2 cm floor
    assert max(detector.score_one(value).surprise for value in rise) < 4


def test_the_pair_is_the_more_surprising_less_log10_2() -> None:
    novelty, level = MultiScaleLevel(warmup=30), EwmaZScore(warmup=60, min_spread=0.1)
    pair = MostSurprising(novelty, level)
    assert pair.parameters()["models"][1] == {"kind": "ewma_z", "parameters": level.parameters()}
    values = noise(200)
    for value in values[:59]:
        pair.learn_one(value)
    assert pair.warming_up and pair.score_one(30.0).surprise == 0.0, "until every model is trained"
    for value in values[59:]:
        pair.learn_one(value)
    score = pair.score_one(14.0)
    best = max(novelty.score_one(14.0), level.score_one(14.0), key=lambda s: s.surprise)
    assert score.surprise == pytest.approx(best.surprise - math.log10(2))
    assert score.expected == best.expected
    assert pair.score_one(math.nan).p_value == 1.0
    with pytest.raises(ValueError, match="at least one"):
        MostSurprising()


def test_the_family_follows_the_noise_floor() -> None:
    assert isinstance(default_detector(warmup=12), MultiScaleLevel)
    held = default_detector("gas_ch4", direction=Direction.UP, min_spread=0.5, alpha=0.05, warmup=12)
    assert isinstance(held, HeldBaseline)
    sensor = held.model
    assert isinstance(sensor, EwmaZScore)
    assert (sensor.alpha, sensor.min_spread, sensor.direction, sensor.warmup) == (0.05, 0.5, Direction.UP, 12)


def test_held_evidence_is_not_corrected_for_the_number_of_models_or_metrics() -> None:
    device = PerMetricDevice(SeriesModel(warmup=30))
    pair = MostSurprising(MultiScaleLevel(warmup=30), EwmaZScore(warmup=30))
    for level, flow in zip(noise(2_000), noise(2_000, level=3.0, seed=5), strict=True):
        device.learn_one({"level": level, "flow": flow})
        pair.learn_one(level)
    shifted = noise(10, level=16.0, seed=9)
    device.learn_one({"level": shifted[0], "flow": 3.0})
    pair.learn_one(shifted[0])
    held = device.score_one({"level": shifted[1], "flow": 3.0})
    assert held.held and held.surprise == 5.05, "tier IV's entry survives the correction for 2 metrics"
    # the pair's z-score still sees the full shift: it speaks, corrected, above the hold
    assert not pair.score_one(shifted[1]).held and pair.score_one(shifted[1]).surprise > 5.05


def ar1_noise(n: int, seed: int, phi: float = 0.95, sd: float = 3.0) -> list[float]:
    """AR(1) noise of lag-1 autocorrelation ``phi`` and spread ``sd`` around 100."""
    rng, x, out = random.Random(seed), 0.0, []
    for _ in range(n):
        x = phi * x + rng.gauss(0.0, sd * math.sqrt(1.0 - phi * phi))
        out.append(100.0 + x)
    return out


def record_beats(detector: MultiScaleLevel, values: list[float]) -> list[int]:
    """Readings scoring a record beat (5 decades or more, not a held spell)."""
    beats = []
    for i, value in enumerate(values):
        score = detector.score_one(value)
        if score.surprise >= 5.0 and not score.held:
            beats.append(i)
        detector.learn_one(value)
    return beats


def test_autocorrelated_noise_beats_no_record_once_the_floors_learn_its_autocorrelation() -> None:
    for seed in range(3):
        values = ar1_noise(3_000, seed)
        assert record_beats(MultiScaleLevel(), list(values)), "the fast average's wander beats the floor"
        assert record_beats(MultiScaleLevel(autocorrelation=True), list(values)) == []


def test_a_level_shift_on_autocorrelated_noise_still_alarms_and_freezes_the_level() -> None:
    detector = MultiScaleLevel(autocorrelation=True)
    values = ar1_noise(2_000, seed=4)
    assert record_beats(detector, values) == []
    before = detector.score_one(100.0).expected
    assert isinstance(before, float)
    shifted = [value + 20.0 for value in ar1_noise(40, seed=5)]
    assert record_beats(detector, shifted)[:1] == [0]
    after = detector.score_one(100.0).expected
    assert isinstance(after, float) and abs(after - before) < 0.5, "the shift is not learned"


def test_a_young_autocorrelated_series_needs_a_higher_z_than_a_white_one() -> None:
    white, wandering = MultiScaleLevel(autocorrelation=True), MultiScaleLevel(autocorrelation=True)
    for value in noise(300, level=100.0, sd=3.0):
        white.learn_one(value)
    for value in ar1_noise(300, seed=6):
        wandering.learn_one(value)
    assert white.autocorrelation is not None and white.autocorrelation.phi < 0.2
    assert wandering.autocorrelation is not None and wandering.autocorrelation.phi > 0.8
    spike = 100.0 + 5.5 * 3.0  # 5.5 spreads: beats a white series' floor, not a wandering one's
    assert white.score_one(spike).surprise >= 5.0 > wandering.score_one(spike).surprise


def test_a_spike_on_a_smooth_wave_still_alarms_though_its_readings_are_nearly_a_random_walk() -> None:
    """A sine's lag-1 autocorrelation is nearly 1; the estimate stops at ``MAX_PHI`` so its
    effective readings, and the floor they set, stay finite."""
    detector = MultiScaleLevel(autocorrelation=True)
    for i in range(450):
        detector.learn_one(10.0 + math.sin(i / 10.0))
    assert detector.autocorrelation is not None and detector.autocorrelation.phi == MAX_PHI
    assert detector.score_one(30.0).surprise >= 5.0
