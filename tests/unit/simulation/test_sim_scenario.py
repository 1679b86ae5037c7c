"""Scenario files are validated strictly; drills are planned by domain grading; truth is anchored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.simulation.planning import DISTRICT_SIZE, PLANNED_DECOYS, expected_tier, plan_scenario
from pipeline.simulation.scenario import (
    DecoyKind,
    IncidentKind,
    Scenario,
    ScenarioError,
    load_scenario,
    packaged_scenario,
)
from pipeline.simulation.truth import GroundTruth, ground_truth
from schemas.hazard import Tier


@pytest.mark.parametrize("name", ["drill-50", "smoke-test"])
def test_packaged_scenarios_cover_every_incident_and_planned_decoy_kind(name: str) -> None:
    scenario = load_scenario(packaged_scenario(name))
    assert {i.kind for i in scenario.incidents} == set(IncidentKind)
    assert {d.kind for d in scenario.decoys} == set(PLANNED_DECOYS)
    assert scenario.start is not None


def test_the_issue_15_drills_hold_a_plateau_and_cover_the_hand_written_decoys() -> None:
    flood, pumping = (load_scenario(packaged_scenario(n)) for n in ("flood-12h", "pumping-station-1hz"))
    [plateau] = flood.incidents
    assert plateau.plateau_until is not None and plateau.plateau_until - plateau.peak == timedelta(hours=12)
    kinds = {d.kind for d in flood.decoys + pumping.decoys}
    assert kinds == set(DecoyKind) - set(PLANNED_DECOYS) == {DecoyKind.NEW_DEVICE, DecoyKind.DRIFTING_NOISE}
    assert pumping.tick == timedelta(seconds=1)


def test_the_fifty_community_drill_has_fifty_communities_and_its_incidents_do_not_share_them() -> None:
    scenario = load_scenario(packaged_scenario("drill-50"))
    assert scenario.communities == 50
    used = [c for i in scenario.incidents for c in i.communities] + [d.community for d in scenario.decoys]
    assert len(used) == len(set(used))


VALID: dict[str, Any] = {
    "name": "t",
    "communities": 2,
    "duration": "PT3H",
    "incidents": [
        {
            "id": "g",
            "kind": "gas_leak",
            "communities": ["c001"],
            "start": "PT1H",
            "peak": "PT90M",
            "end": "PT2H",
            "intensity": 25,
            "expected_tier": "II",
        }
    ],
}


def with_incident(**changes: Any) -> dict[str, Any]:
    return {**VALID, "incidents": [{**VALID["incidents"][0], **changes}]}


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (with_incident(communities=["c009"]), "unknown communities"),
        (with_incident(peak="PT3H"), "start < peak <= end"),
        (with_incident(end="PT4H", peak="PT3H30M"), "ends after the scenario"),
        (with_incident(expected_tier="V"), "expected_tier"),
        (with_incident(intesity=3), "intesity"),
        (
            {
                **VALID,
                "decoys": [{"id": "g", "kind": "stuck_sensor", "community": "c001", "start": 0, "end": 60}],
            },
            "unique",
        ),
        (
            {
                **VALID,
                "decoys": [
                    {
                        "id": "f",
                        "kind": "festival_night",
                        "community": "c001",
                        "start": 0,
                        "end": 60,
                        "sensor_type": "smoke",
                    }
                ],
            },
            "festival",
        ),
    ],
)
def test_an_invalid_scenario_file_is_refused_naming_the_file_and_the_problem(
    tmp_path: Path, document: dict[str, Any], says: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ScenarioError, match=r"bad\.json") as error:
        load_scenario(path)
    assert says in str(error.value)


def test_a_missing_scenario_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.json")


def test_tiers_are_written_by_name_and_read_by_name_or_number() -> None:
    scenario = Scenario.model_validate(VALID)
    assert scenario.model_dump(mode="json")["incidents"][0]["expected_tier"] == "II"
    assert Scenario.model_validate(with_incident(expected_tier=3)).incidents[0].expected_tier is Tier.III


@pytest.mark.parametrize(
    ("kind", "intensity", "tier"),
    [
        (IncidentKind.GAS_LEAK, 25.0, Tier.II),
        (IncidentKind.GAS_LEAK, 12.0, Tier.III),
        (IncidentKind.FLOOD, 0.4, Tier.IV),
        (IncidentKind.AIR_POLLUTION, 320.0, Tier.II),
        (IncidentKind.AIR_POLLUTION, 520.0, Tier.I),
        (IncidentKind.POWER_OUTAGE, 1.0, Tier.II),
    ],
)
def test_expected_tiers_follow_domain_grading(kind: IncidentKind, intensity: float, tier: Tier) -> None:
    assert expected_tier(kind, intensity) is tier


def test_a_plan_gives_each_incident_its_own_communities_after_the_warm_up() -> None:
    plan = plan_scenario("p", communities=30, duration=timedelta(hours=8), seed=1, per_kind=2)
    assert len(plan.incidents) == 12 and len(plan.decoys) == 4
    smog = [i for i in plan.incidents if i.kind is IncidentKind.AIR_POLLUTION]
    assert all(len(i.communities) == DISTRICT_SIZE for i in smog)
    assert all(i.start >= timedelta(hours=1) for i in plan.incidents)
    assert all(i.expected_tier is expected_tier(i.kind, i.intensity) for i in plan.incidents)
    assert plan == plan_scenario("p", communities=30, duration=timedelta(hours=8), seed=1, per_kind=2)


def test_a_plan_that_does_not_fit_says_why() -> None:
    with pytest.raises(ValueError, match="too few"):
        plan_scenario("p", communities=5, duration=timedelta(hours=8), seed=1)
    with pytest.raises(ValueError, match="too short"):
        plan_scenario("p", communities=20, duration=timedelta(hours=2), seed=1)


def test_ground_truth_anchors_every_time_and_round_trips(tmp_path: Path) -> None:
    scenario = Scenario.model_validate(
        {**VALID, "decoys": [{"id": "s", "kind": "stuck_sensor", "community": "c002", "start": 0, "end": 60}]}
    )
    start = datetime(2026, 6, 1, tzinfo=UTC)
    truth = ground_truth(scenario, start)
    assert truth.incidents[0].start == start + timedelta(hours=1)
    assert truth.incidents[0].max_delay_s == 600
    assert truth.decoys[0].device_id == "c002.wl-1"
    truth.write(tmp_path / "truth.json")
    assert GroundTruth.model_validate_json((tmp_path / "truth.json").read_text()) == truth
