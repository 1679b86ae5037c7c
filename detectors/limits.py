"""Physical-limit rules: a reading past a safety limit warns whatever a model has learned.

Models learn what is normal for a series; a methane reading of 30 %LEL is
dangerous even on a series that has read 30 all week. Limits are configuration:
a :class:`LimitRule` per sensor type maps a reading to a warning tier, in the
sensor type's canonical unit (:data:`schemas.events.CANONICAL_UNITS`).
Site-specific lines (a river's warning and danger water levels) are given per
device with :meth:`PhysicalLimits.with_device_rule`, or, in the worker, by the
site and device registry, whose rule table is the ``device_rules`` mapping itself
(read live, so a registry change applies from the next reading).

>>> limits = PhysicalLimits()
>>> limits.check(SensorType.GAS_CH4, "ch4-1", 27.0).tier.label
'II orange'
>>> limits.check(SensorType.GAS_CH4, "ch4-1", 4.0) is None
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from detectors.base import Direction, Score
from schemas.events import CANONICAL_UNITS, SensorType
from schemas.hazard import Tier

OBSERVED_P_VALUE = 1e-9
"""The p-value given to a live limit exceedance.

A limit is not a statistical judgement: the reading itself is the evidence
("Observed" certainty in CAP terms). It is scored as a nine-decade surprise so
it clears any calibrated model threshold and ranks above model evidence of the
same tier.
"""


@dataclass(frozen=True, slots=True)
class LimitStep:
    """One rung of a limit ladder: readings at or past ``threshold`` reach ``tier``."""

    tier: Tier
    threshold: float


@dataclass(frozen=True, slots=True)
class LimitRule:
    """The tier ladder of one sensor type (or one device), in the canonical unit.

    Parameters
    ----------
    sensor_type
        What the rule applies to; its unit is ``CANONICAL_UNITS[sensor_type]``.
    direction
        ``UP``: a reading at or above a threshold breaches it; ``DOWN``: at or below.
    steps
        Thresholds by tier; a more serious tier needs a more extreme reading.
    source
        Where the numbers come from, shown to operators with the warning.

    >>> ladder = (LimitStep(Tier.II, 50), LimitStep(Tier.IV, 100))
    >>> LimitRule(SensorType.GAS_CO, Direction.UP, ladder, "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: gas_co limit: tier IV at 100 is as or more extreme than the more serious tier II ...
    """

    sensor_type: SensorType
    direction: Direction
    steps: tuple[LimitStep, ...]
    source: str

    def __post_init__(self) -> None:
        if self.direction is Direction.BOTH:
            raise ValueError(f"{self.sensor_type.value} limit: direction must be up or down, not both")
        tiers = [s.tier for s in self.steps]
        if not tiers or len(set(tiers)) < len(tiers):
            raise ValueError(f"{self.sensor_type.value} limit: give each tier at most once, at least one")
        if not all(math.isfinite(s.threshold) for s in self.steps):
            raise ValueError(f"{self.sensor_type.value} limit: thresholds must be finite numbers")
        ordered = sorted(self.steps, key=lambda s: s.tier.severity)
        sign = 1.0 if self.direction is Direction.UP else -1.0
        for milder, graver in itertools.pairwise(ordered):
            if sign * graver.threshold <= sign * milder.threshold:
                raise ValueError(
                    f"{self.sensor_type.value} limit: tier {milder.tier.name} at {milder.threshold:g} "
                    f"is as or more extreme than the more serious tier {graver.tier.name} at "
                    f"{graver.threshold:g}; order the thresholds by severity"
                )
        # Most serious first, so the first breached step is the tier.
        object.__setattr__(self, "steps", tuple(reversed(ordered)))

    @property
    def unit(self) -> str:
        """The canonical unit the thresholds are written in."""
        return CANONICAL_UNITS[self.sensor_type]

    def breached_step(self, value: float) -> LimitStep | None:
        """The most serious step ``value`` reaches, or None when within limits (or not finite)."""
        if not math.isfinite(value):
            return None
        for step in self.steps:
            if (value >= step.threshold) if self.direction is Direction.UP else (value <= step.threshold):
                return step
        return None


@dataclass(frozen=True, slots=True)
class LimitBreach:
    """A reading past a physical limit: the tier it reached and why."""

    sensor_type: SensorType
    device_id: str
    value: float
    tier: Tier
    threshold: float
    source: str

    @property
    def score(self) -> Score:
        """The breach as a detector score (observed certainty, expected = the threshold)."""
        return Score(p_value=OBSERVED_P_VALUE, expected=self.threshold, warming_up=False, contributor="limit")

    @property
    def evidence(self) -> str:
        """One sentence for operators, e.g. ``gas_ch4 27 %LEL ≥ 25 (II orange; GB/T 50493-2019 ...)``."""
        sign = "≥" if self.value >= self.threshold else "≤"
        unit = CANONICAL_UNITS[self.sensor_type]
        return (
            f"{self.sensor_type.value} {self.value:g} {unit} {sign} {self.threshold:g} "
            f"({self.tier.label}; {self.source})"
        )


def water_line_rule(warning_line_m: float, danger_line_m: float) -> LimitRule:
    """A site's water-level rule from its gauged lines (metres, same datum as the sensor).

    In Chinese flood control the *warning level* (警戒水位) starts patrols and
    the *guaranteed level* (保证水位, the danger line) is the highest level the
    embankment is designed to hold; they map to III yellow and II orange. Tier
    I is left to the assessment (a breach plus corroborating reports).

    >>> water_line_rule(3.2, 4.0).breached_step(3.5).tier.name
    'III'
    """
    return LimitRule(
        SensorType.WATER_LEVEL,
        Direction.UP,
        (LimitStep(Tier.III, warning_line_m), LimitStep(Tier.II, danger_line_m)),
        "site warning / guaranteed water levels",
    )


def _rule(sensor_type: SensorType, direction: Direction, ladder: dict[Tier, float], source: str) -> LimitRule:
    return LimitRule(sensor_type, direction, tuple(LimitStep(t, v) for t, v in ladder.items()), source)


DEFAULT_RULES: dict[SensorType, LimitRule] = {
    rule.sensor_type: rule
    for rule in (
        _rule(
            SensorType.GAS_CH4,
            Direction.UP,
            {Tier.III: 10.0, Tier.II: 25.0, Tier.I: 50.0},
            "GB 15322 household detector alarm set point ≤ 25 %LEL (10 % common); "
            "GB/T 50493-2019 first / second alarm 25 / 50 %LEL",
        ),
        _rule(
            SensorType.GAS_CO,
            Direction.UP,
            {Tier.IV: 50.0, Tier.III: 100.0, Tier.II: 300.0},
            "EN 50291-1 CO alarm levels 50 / 100 / 300 ppm (alarm within 60–90 / 10–40 / 3 min)",
        ),
        _rule(
            SensorType.PM25,
            Direction.UP,
            {Tier.IV: 75.0, Tier.III: 115.0, Tier.II: 150.0, Tier.I: 250.0},
            "HJ 633-2012 / GB 3095-2012 IAQI breakpoints 75 / 115 / 150 / 250 ug/m3 (AQI 100–300; "
            "24-h breakpoints applied to live readings)",
        ),
        _rule(
            SensorType.SMOKE,
            Direction.UP,
            {Tier.III: 3.0, Tier.II: 6.0, Tier.I: 12.0},
            "UL 217 photoelectric alarm window 0.5–4 %obs/ft (1.6–12.7 %obs/m)",
        ),
        _rule(
            SensorType.TEMPERATURE,
            Direction.UP,
            {Tier.IV: 50.0, Tier.III: 54.0, Tier.II: 69.0, Tier.I: 84.0},
            "EN 54-5 heat detectors: class A1 max application 50 degC, static response from 54 (A1), "
            "69 (B), 84 (C) degC",
        ),
        _rule(
            SensorType.VIBRATION,
            Direction.UP,
            {Tier.IV: 3.0, Tier.III: 5.0, Tier.II: 20.0},
            "DIN 4150-3 short-term guide values at the foundation: 3 (sensitive), 5 (residential), "
            "20 (commercial) mm/s",
        ),
        _rule(
            SensorType.POWER,
            Direction.DOWN,
            {Tier.IV: 198.0, Tier.III: 176.0, Tier.I: 10.0},
            "GB/T 12325-2008: 220 V supply within +7 % / −10 % (198 V); −20 % (176 V) trips "
            "undervoltage protection; under 10 V the supply is lost",
        ),
    )
}
"""Product defaults by sensor type. Water level has none: its lines are per site."""


@dataclass(frozen=True)
class PhysicalLimits:
    """The limit rules in force: defaults by sensor type, overridden per device.

    Parameters
    ----------
    rules
        Rules by sensor type (default :data:`DEFAULT_RULES`).
    device_rules
        Rules for one ``(device_id, sensor_type)``, e.g. a gauge's water lines.
    """

    rules: Mapping[SensorType, LimitRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    device_rules: Mapping[tuple[str, SensorType], LimitRule] = field(default_factory=dict)

    @classmethod
    def from_table(cls, table: Mapping[str, Mapping[str, float]]) -> PhysicalLimits:
        """Defaults with the ladders of a configuration table replaced, e.g. from TOML.

        Keys are sensor types, then tier names; the direction of a default
        rule is kept (up where there is none, i.e. water level).

        >>> limits = PhysicalLimits.from_table({"gas_co": {"IV": 30, "II": 200}})
        >>> [(s.tier.name, s.threshold) for s in limits.rules[SensorType.GAS_CO].steps]
        [('II', 200), ('IV', 30)]
        >>> PhysicalLimits.from_table({"gas_co": {"V": 30}})
        Traceback (most recent call last):
        ...
        ValueError: limits.gas_co: unknown tier 'V'; use I, II, III or IV
        """
        rules = dict(DEFAULT_RULES)
        for type_name, ladder in table.items():
            try:
                sensor_type = SensorType(type_name)
            except ValueError:
                known = ", ".join(t.value for t in SensorType)
                raise ValueError(f"limits: unknown sensor type {type_name!r}; use one of {known}") from None
            unknown = set(ladder) - set(Tier.__members__)
            if unknown:
                raise ValueError(f"limits.{type_name}: unknown tier {min(unknown)!r}; use I, II, III or IV")
            default = DEFAULT_RULES.get(sensor_type)
            direction = default.direction if default else Direction.UP
            steps = tuple(LimitStep(Tier[name], value) for name, value in ladder.items())
            rules[sensor_type] = LimitRule(sensor_type, direction, steps, "configuration")
        return cls(rules)

    def with_device_rule(self, device_id: str, rule: LimitRule) -> PhysicalLimits:
        """A copy with ``rule`` in force for ``device_id``'s sensor of ``rule.sensor_type``."""
        return PhysicalLimits(self.rules, {**self.device_rules, (device_id, rule.sensor_type): rule})

    def rule_for(self, sensor_type: SensorType, device_id: str) -> LimitRule | None:
        """The device's own rule, else the sensor type's, else None."""
        return self.device_rules.get((device_id, sensor_type)) or self.rules.get(sensor_type)

    def check(self, sensor_type: SensorType, device_id: str, value: float) -> LimitBreach | None:
        """The breach ``value`` makes, or None when it is within every limit.

        >>> limits = PhysicalLimits().with_device_rule("gauge-3", water_line_rule(3.2, 4.0))
        >>> limits.check(SensorType.WATER_LEVEL, "gauge-3", 4.1).tier.label
        'II orange'
        >>> limits.check(SensorType.WATER_LEVEL, "gauge-9", 4.1) is None
        True
        """
        rule = self.rule_for(sensor_type, device_id)
        step = rule.breached_step(value) if rule else None
        if rule is None or step is None:
            return None
        return LimitBreach(sensor_type, device_id, value, step.tier, step.threshold, rule.source)
