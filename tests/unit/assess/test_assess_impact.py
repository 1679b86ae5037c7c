"""The impact axis: each hazard's scale, the extent rule, the ceiling, and the tier matrix it feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.assess.assessor import Assessor
from pipeline.assess.config import AssessmentConfig
from pipeline.assess.fusion import FusionConfig, SourceSignal, fuse
from pipeline.assess.impact import ImpactConfig, impact_of
from pipeline.assess.tiers import DEFAULT_MATRIX, LadderState, TierPolicy
from pipeline.clock import ManualClock
from schemas import Hazard, Tier
from schemas.hazard import Impact

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CONFIG = ImpactConfig()


def reading(sensor: str, value: float, device: str = "d-1", expected: float = 0.0) -> SourceSignal:
    return SourceSignal(
        source="sensor",
        community_id="c1",
        series=f"c1/{device}/{sensor}",
        signal_type=sensor,
        device_id=device,
        observed_at=AT,
        score=0.99,
        model="m",
        value=value,
        expected=expected,
    )


def report(n: int, severity: int) -> SourceSignal:
    return SourceSignal(
        source="report",
        community_id="c1",
        series="c1/reports",
        signal_type="public_security",
        observed_at=AT,
        score=0.9,
        model="m",
        report_id=f"r{n}",
        severity=severity,
    )


# Each type-default line of detectors/limits.py, just below and at it (one device, so SEVERE at most).
@pytest.mark.parametrize(
    ("hazard", "sensor", "value", "impact"),
    [
        (Hazard.GAS_LEAK, "gas_ch4", 9.9, Impact.MINOR),
        (Hazard.GAS_LEAK, "gas_ch4", 10.0, Impact.MODERATE),
        (Hazard.GAS_LEAK, "gas_ch4", 25.0, Impact.SEVERE),
        (Hazard.GAS_LEAK, "gas_ch4", 60.0, Impact.SEVERE),
        (Hazard.GAS_LEAK, "gas_co", 99.0, Impact.MINOR),
        (Hazard.GAS_LEAK, "gas_co", 100.0, Impact.MODERATE),
        (Hazard.GAS_LEAK, "gas_co", 300.0, Impact.SEVERE),
        (Hazard.AIR_POLLUTION, "pm25", 114.0, Impact.MINOR),
        (Hazard.AIR_POLLUTION, "pm25", 115.0, Impact.MODERATE),
        (Hazard.AIR_POLLUTION, "pm25", 150.0, Impact.SEVERE),
        (Hazard.FIRE, "smoke", 2.9, Impact.MINOR),
        (Hazard.FIRE, "smoke", 3.0, Impact.MODERATE),
        (Hazard.FIRE, "smoke", 6.0, Impact.SEVERE),
        (Hazard.FIRE, "temperature", 54.0, Impact.MODERATE),
        (Hazard.FIRE, "temperature", 69.0, Impact.SEVERE),
        (Hazard.STRUCTURAL, "vibration", 5.0, Impact.MODERATE),
        (Hazard.STRUCTURAL, "vibration", 20.0, Impact.SEVERE),
        (Hazard.POWER_OUTAGE, "power", 199.0, Impact.MINOR),
        (Hazard.POWER_OUTAGE, "power", 176.0, Impact.MODERATE),
    ],
)
def test_a_reading_is_graded_against_its_type_lines(
    hazard: Hazard, sensor: str, value: float, impact: Impact
) -> None:
    assert impact_of(CONFIG, hazard, [reading(sensor, value)]) is impact


@pytest.mark.parametrize(
    ("rise", "impact"),
    [(0.49, Impact.MINOR), (0.5, Impact.MODERATE), (1.19, Impact.MODERATE), (1.2, Impact.SEVERE)],
)
def test_a_gauge_without_site_lines_is_graded_by_its_rise(rise: float, impact: Impact) -> None:
    gauge = reading("water_level", 1.0 + rise, expected=1.0)
    assert impact_of(CONFIG, Hazard.FLOOD, [gauge]) is impact


def test_extreme_needs_two_witnesses_at_the_top_line() -> None:
    one = reading("water_level", 3.0, "wl-1", expected=0.6)
    two = reading("water_level", 2.9, "wl-2", expected=0.6)
    assert impact_of(CONFIG, Hazard.FLOOD, [one]) is Impact.SEVERE
    assert impact_of(CONFIG, Hazard.FLOOD, [one, two]) is Impact.EXTREME
    smoke = [reading("smoke", 14.0, "sm-1"), reading("smoke", 13.0, "sm-2")]
    assert impact_of(CONFIG, Hazard.FIRE, smoke) is Impact.EXTREME


def test_a_power_outage_stops_at_its_ceiling() -> None:
    dark = [reading("power", 0.0, "pw-1"), reading("power", 0.0, "pw-2")]
    assert impact_of(CONFIG, Hazard.POWER_OUTAGE, dark) is Impact.MODERATE
    assert impact_of(ImpactConfig(ceiling={}), Hazard.POWER_OUTAGE, dark) is Impact.EXTREME


def test_reports_grade_by_their_median_severity_from_three() -> None:
    assert impact_of(CONFIG, Hazard.PUBLIC_SECURITY, [report(1, 5), report(2, 5)]) is Impact.MINOR
    assert impact_of(CONFIG, Hazard.PUBLIC_SECURITY, [report(n, s) for n, s in enumerate((3, 4, 5))]) is (
        Impact.MODERATE
    )
    crowd = [report(n, 5) for n in range(5)]
    assert impact_of(CONFIG, Hazard.PUBLIC_SECURITY, crowd) is Impact.SEVERE, "people alone never extreme"


def test_a_reading_without_a_value_is_minor() -> None:
    blind = reading("gas_ch4", 0.0).model_copy(update={"value": None})
    assert impact_of(CONFIG, Hazard.GAS_LEAK, [blind]) is Impact.MINOR


def test_impact_scales_must_rise() -> None:
    with pytest.raises(ValueError, match="flood_rise_m must rise"):
        ImpactConfig(flood_rise_m=(1.2, 0.5, 2.0))


# --- the matrix ---------------------------------------------------------------------------------

LIKELIHOODS = {"possible": 0.6, "likely": 0.75, "very likely": 0.9, "near certain": 0.99}


def test_the_default_matrix_is_the_lesser_axis() -> None:
    policy = TierPolicy()
    table = [[policy.tier_of(risk, impact) for impact in Impact] for risk in LIKELIHOODS.values()]
    assert table == [list(row) for row in DEFAULT_MATRIX]
    for row, risk in enumerate(LIKELIHOODS.values()):
        for column, impact in enumerate(Impact):
            assert policy.tier_of(risk, impact) is Tier(4 - min(row, column))


def test_red_needs_extreme_impact_and_near_certainty_and_small_stays_blue() -> None:
    policy = TierPolicy()
    reds = [(r, i) for r in LIKELIHOODS.values() for i in Impact if policy.tier_of(r, i) is Tier.I]
    assert reds == [(0.99, Impact.EXTREME)]
    assert {policy.tier_of(r, Impact.MINOR) for r in LIKELIHOODS.values()} == {Tier.IV}
    assert policy.tier_of(0.4, Impact.EXTREME) is None, "below IV's likelihood nothing opens"


def test_the_evidence_names_the_axis_that_set_the_tier() -> None:
    policy = TierPolicy()
    assert policy.set_by(0.99, Impact.MINOR) == "impact"
    assert policy.set_by(0.6, Impact.EXTREME) == "likelihood"
    assert policy.set_by(0.9, Impact.SEVERE) == "both"
    assert policy.set_by(0.99, Impact.EXTREME) == "both"


def test_a_matrix_may_be_written_by_tier_names_and_must_not_fall() -> None:
    names = [["IV", "IV", "III", "III"], ["IV", "III", "III", "II"], ["IV", "III", "II", "II"]]
    policy = TierPolicy.model_validate({"matrix": [*names, ["IV", "III", "II", "I"]]})
    assert policy.tier_of(0.6, Impact.SEVERE) is Tier.III, "a weather-service matrix: more generous"
    with pytest.raises(ValueError, match="must not fall as impact rises"):
        TierPolicy.model_validate(
            {"matrix": [["III", "IV", "IV", "IV"], *names[1:], ["IV", "III", "II", "I"]]}
        )
    with pytest.raises(ValueError, match="must not fall as likelihood rises"):
        TierPolicy.model_validate(
            {"matrix": [["IV", "III", "II", "I"], *names[1:], ["IV", "III", "II", "I"]]}
        )


def test_a_tier_is_held_until_the_magnitude_falls_a_whole_line() -> None:
    policy = TierPolicy()
    assert policy.grade(0.99, Impact.SEVERE) == Tier.II.severity
    assert policy.grade(0.99, Impact.MODERATE, holding=True) == Tier.II.severity, "one line down: held"
    assert policy.grade(0.99, Impact.MINOR, holding=True) == Tier.III.severity


# --- one incident, one warning ------------------------------------------------------------------


def test_co_during_a_fire_strengthens_the_fire_and_opens_no_gas_leak() -> None:
    smoke, co = reading("smoke", 8.0, "sm-1"), reading("gas_co", 120.0, "co-1")
    risks, _ = fuse(FusionConfig(), [smoke, co], AT)
    by_hazard = {r.hazard: r for r in risks}
    assert set(by_hazard) == {Hazard.FIRE}
    assert by_hazard[Hazard.FIRE].witnesses == ("device:co-1", "device:sm-1")
    alone, _ = fuse(FusionConfig(), [co], AT)
    assert [r.hazard for r in alone] == [Hazard.GAS_LEAK], "CO without a fire is a gas hazard"
    held, _ = fuse(FusionConfig(), [co], AT, open_hazards=lambda: frozenset({Hazard.FIRE}))
    assert [r.hazard for r in held] == [Hazard.FIRE], "an open fire warning explains the CO"


def test_a_fire_with_rising_co_is_one_warning_end_to_end() -> None:
    clock = ManualClock(AT)
    assessor = Assessor(AssessmentConfig(), clock)
    hazards = set()
    for minute in range(6):
        clock.advance(timedelta(minutes=1))
        at = clock.now()
        for signal in (reading("smoke", 2.0 * minute, "sm-1"), reading("gas_co", 16.0 * minute, "co-1")):
            out = assessor.observe(signal.model_copy(update={"observed_at": at}))
            hazards |= {e.warning.hazard for e in out.events}
    assert hazards == {Hazard.FIRE}


def test_the_axes_and_the_graded_ladder_survive_a_json_checkpoint() -> None:
    clock = ManualClock(AT)
    first = Assessor(AssessmentConfig(), clock)
    for minute in range(3):
        at = AT + timedelta(minutes=minute)
        for device in ("ch4-1", "ch4-2"):
            first.observe(reading("gas_ch4", 30.0, device).model_copy(update={"observed_at": at}))
    [event] = first.open_warnings()
    assert (event.warning.tier, event.warning.impact, event.warning.tier_set_by) == (
        Tier.II,
        Impact.SEVERE,
        "impact",
    ), "two detectors at 30 %LEL: near certain, severe, orange; only a worse leak makes it red"
    checkpoint = json.loads(json.dumps(first.export_community("c1")))
    second = Assessor(AssessmentConfig(), clock)
    second.import_community(checkpoint)
    assert second.export_community("c1") == checkpoint
    assert second.open_warnings() == first.open_warnings()


def test_a_ladder_checkpointed_with_risks_before_the_impact_axis_still_restores() -> None:
    older = {"tier": 2, "recent": [0.91, 0.93, 0.88], "last_at": AT.isoformat()}
    restored = LadderState.model_validate(older)
    assert (restored.tier, restored.recent) == (Tier.II, ())


def test_a_devices_site_lines_replace_its_types_scale() -> None:
    """A 0.3 m rise is minor on the type's scale, moderate past its site's warning line, and a
    methane reading above the type's severe line is only what the site's set points say."""
    rise = reading("water_level", 1.3, expected=1.0)
    assert impact_of(CONFIG, Hazard.FLOOD, [rise]) is Impact.MINOR
    assert impact_of(CONFIG, Hazard.FLOOD, [rise.model_copy(update={"site_impact": Impact.MODERATE})]) is (
        Impact.MODERATE
    )
    ch4 = reading("gas_ch4", 27.0).model_copy(update={"site_impact": Impact.MODERATE})
    assert impact_of(CONFIG, Hazard.GAS_LEAK, [ch4]) is Impact.MODERATE


@pytest.mark.parametrize(
    ("site", "people", "expected"),
    [
        (Impact.MINOR, 5000, Impact.MINOR),  # a small deviation stays small near many people
        (Impact.MODERATE, 99, Impact.MODERATE),
        (Impact.MODERATE, 200, Impact.MODERATE),  # exposure moderate: not above the magnitude
        (Impact.MODERATE, 500, Impact.SEVERE),  # one step up, never more
        (Impact.MODERATE, 5000, Impact.SEVERE),
        (Impact.SEVERE, 999, Impact.SEVERE),
        (Impact.SEVERE, 1000, Impact.EXTREME),
    ],
)
def test_exposure_raises_a_magnitude_past_a_line_by_one_step(
    site: Impact, people: int, expected: Impact
) -> None:
    gauge = reading("water_level", 2.0).model_copy(update={"site_impact": site, "people": people})
    assert impact_of(CONFIG, Hazard.FLOOD, [gauge]) is expected


def test_exposure_sums_devices_once_each_and_keeps_the_hazards_ceiling() -> None:
    one = reading("water_level", 2.0, "wl-1").model_copy(
        update={"site_impact": Impact.MODERATE, "people": 300}
    )
    two = one.model_copy(update={"device_id": "wl-2", "series": "c1/wl-2/water_level"})
    assert impact_of(CONFIG, Hazard.FLOOD, [one, one]) is Impact.MODERATE
    assert impact_of(CONFIG, Hazard.FLOOD, [one, two]) is Impact.SEVERE
    mains = reading("power", 150.0).model_copy(update={"people": 5000})
    assert impact_of(CONFIG, Hazard.POWER_OUTAGE, [mains]) is Impact.MODERATE


def test_exposure_lines_must_rise() -> None:
    with pytest.raises(ValueError, match="exposure_people must rise strictly"):
        ImpactConfig(exposure_people=(500, 100, 1000))
