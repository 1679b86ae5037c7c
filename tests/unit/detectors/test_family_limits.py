"""Physical-limit rules: tiers at the documented thresholds, device overrides, invalid ladders refused."""

from __future__ import annotations

import math

import pytest

from detectors.base import Direction
from detectors.limits import (
    DEFAULT_RULES,
    OBSERVED_P_VALUE,
    LimitRule,
    LimitStep,
    PhysicalLimits,
    water_line_rule,
)
from schemas.events import CANONICAL_UNITS, SensorType
from schemas.hazard import Tier


def tier_of(
    sensor_type: SensorType, value: float, limits: PhysicalLimits | None = None, device_id: str = "dev-1"
) -> Tier | None:
    breach = (limits or PhysicalLimits()).check(sensor_type, device_id, value)
    return breach.tier if breach else None


def test_every_sensor_type_but_water_level_has_a_default_rule() -> None:
    assert set(DEFAULT_RULES) == set(SensorType) - {SensorType.WATER_LEVEL}
    for sensor_type, rule in DEFAULT_RULES.items():
        assert rule.unit == CANONICAL_UNITS[sensor_type]
        assert rule.source


@pytest.mark.parametrize(
    ("sensor_type", "value", "tier"),
    [
        (SensorType.GAS_CH4, 9.99, None),
        (SensorType.GAS_CH4, 10.0, Tier.III),
        (SensorType.GAS_CH4, 25.0, Tier.II),
        (SensorType.GAS_CH4, 60.0, Tier.I),
        (SensorType.GAS_CO, 49.0, None),
        (SensorType.GAS_CO, 50.0, Tier.IV),
        (SensorType.GAS_CO, 200.0, Tier.III),
        (SensorType.GAS_CO, 300.0, Tier.II),
        (SensorType.PM25, 74.9, None),
        (SensorType.PM25, 75.0, Tier.IV),
        (SensorType.PM25, 115.0, Tier.III),
        (SensorType.PM25, 150.0, Tier.II),
        (SensorType.PM25, 251.0, Tier.I),
        (SensorType.TEMPERATURE, 30.0, None),
        (SensorType.TEMPERATURE, 70.0, Tier.II),
        (SensorType.POWER, 220.0, None),
        (SensorType.POWER, 198.0, Tier.IV),
        (SensorType.POWER, 150.0, Tier.III),
        (SensorType.POWER, 0.0, Tier.I),
    ],
)
def test_default_ladders_map_readings_to_tiers(
    sensor_type: SensorType, value: float, tier: Tier | None
) -> None:
    assert tier_of(sensor_type, value) is tier


def test_a_breach_is_an_observed_certainty_with_the_threshold_as_expected_value() -> None:
    breach = PhysicalLimits().check(SensorType.GAS_CH4, "ch4-7", 27.0)
    assert breach is not None and breach.tier is Tier.II
    score = breach.score
    assert score.p_value == OBSERVED_P_VALUE
    assert score.expected == 25.0
    assert not score.warming_up
    assert score.surprise == pytest.approx(9.0)
    assert "II orange" in breach.evidence and "GB/T 50493" in breach.evidence


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_readings_breach_nothing(value: float) -> None:
    assert tier_of(SensorType.GAS_CH4, value) is None
    assert tier_of(SensorType.POWER, value) is None


def test_water_lines_are_per_device() -> None:
    limits = PhysicalLimits().with_device_rule("gauge-3", water_line_rule(3.2, 4.0))
    assert limits.check(SensorType.WATER_LEVEL, "gauge-3", 3.1) is None
    breach = limits.check(SensorType.WATER_LEVEL, "gauge-3", 3.3)
    assert breach is not None and breach.tier is Tier.III and breach.device_id == "gauge-3"
    assert tier_of(SensorType.WATER_LEVEL, 4.0, limits, "gauge-3") is Tier.II
    assert limits.check(SensorType.WATER_LEVEL, "gauge-4", 9.0) is None


def test_a_device_rule_overrides_the_sensor_type_default_for_that_device_only() -> None:
    garage = LimitRule(SensorType.GAS_CO, Direction.UP, (LimitStep(Tier.III, 30.0),), "garage ventilation")
    limits = PhysicalLimits().with_device_rule("co-garage", garage)
    assert tier_of(SensorType.GAS_CO, 35.0, limits, "co-garage") is Tier.III
    assert limits.check(SensorType.GAS_CO, "co-kitchen", 35.0) is None
    assert PhysicalLimits().device_rules == {}  # the original is unchanged


def test_steps_are_held_most_serious_first_whatever_order_they_are_given() -> None:
    rule = LimitRule(
        SensorType.SMOKE, Direction.UP, (LimitStep(Tier.I, 12.0), LimitStep(Tier.III, 3.0)), "test"
    )
    assert [s.tier for s in rule.steps] == [Tier.I, Tier.III]
    assert rule.breached_step(5.0) == LimitStep(Tier.III, 3.0)


@pytest.mark.parametrize(
    ("direction", "steps", "message"),
    [
        (Direction.UP, (LimitStep(Tier.II, 50.0), LimitStep(Tier.IV, 100.0)), "order the thresholds"),
        (Direction.DOWN, (LimitStep(Tier.IV, 100.0), LimitStep(Tier.I, 150.0)), "order the thresholds"),
        (Direction.UP, (LimitStep(Tier.II, 50.0), LimitStep(Tier.II, 60.0)), "at most once"),
        (Direction.UP, (), "at least one"),
        (Direction.UP, (LimitStep(Tier.II, math.nan),), "finite"),
        (Direction.BOTH, (LimitStep(Tier.II, 50.0),), "up or down"),
    ],
)
def test_invalid_ladders_are_refused_with_a_reason(
    direction: Direction, steps: tuple[LimitStep, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LimitRule(SensorType.GAS_CO, direction, steps, "test")


def test_a_configuration_table_replaces_ladders_and_keeps_directions() -> None:
    limits = PhysicalLimits.from_table({"power": {"III": 190.0}, "water_level": {"II": 5.0}})
    assert tier_of(SensorType.POWER, 185.0, limits) is Tier.III
    assert tier_of(SensorType.POWER, 0.0, limits) is Tier.III  # the table's ladder replaced the default
    assert tier_of(SensorType.WATER_LEVEL, 5.5, limits) is Tier.II
    assert tier_of(SensorType.GAS_CH4, 30.0, limits) is Tier.II  # untouched defaults stay
    assert limits.rules[SensorType.POWER].source == "configuration"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"radon": {"II": 1.0}}, "unknown sensor type 'radon'"),
        ({"pm25": {"IV": 75.0, "orange": 150.0}}, "limits.pm25: unknown tier 'orange'"),
        ({"pm25": {"IV": 150.0, "II": 75.0}}, "order the thresholds"),
    ],
)
def test_a_bad_configuration_table_names_the_setting(
    table: dict[str, dict[str, float]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PhysicalLimits.from_table(table)
