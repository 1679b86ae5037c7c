"""The simulated city's registry: every device registered, gauges' lines at the drill's flood grades."""

from __future__ import annotations

import pytest

from pipeline.simulation.devices import community_devices
from pipeline.simulation.registry import (
    DEVICE_PEOPLE,
    GAUGE_PEOPLE,
    city_registry,
    community_registry,
    scenario_registry,
)
from pipeline.simulation.scenario import load_scenario, scenario_path
from schemas.events import SensorType


def test_every_simulated_device_is_registered_once_with_its_type() -> None:
    entries = city_registry(["c001", "c002"], seed=7)
    devices = {d.device_id: d.sensor_type for c in ("c001", "c002") for d in community_devices(c, 7)}
    assert {e.device_id: e.sensor_type for e in entries} == devices
    assert len(entries) == len(devices)


def test_a_gauges_lines_sit_0_6_and_1_0_m_above_its_own_normal_level() -> None:
    devices = {d.device_id: d for d in community_devices("c001", 7)}
    for entry in community_registry("c001", seed=7):
        device = devices[entry.device_id]
        if entry.sensor_type is SensorType.WATER_LEVEL:
            normal = device.behaviour.level + device.offset
            assert entry.warning_line is not None and entry.guaranteed_line is not None
            assert abs(entry.warning_line - normal - 0.6) < 1e-3
            assert abs(entry.guaranteed_line - normal - 1.0) < 1e-3
            assert entry.people == GAUGE_PEOPLE
        elif entry.sensor_type is SensorType.GAS_CH4:
            assert (entry.alarm_iii, entry.alarm_ii, entry.alarm_i) == (10.0, 20.0, 40.0)
            assert entry.people == DEVICE_PEOPLE
        else:
            assert entry.limit_rule() is None and entry.people == DEVICE_PEOPLE


def test_no_hazard_of_a_simulated_community_watches_over_500_people() -> None:
    """Exposure must not grade above a drill incident's magnitude: its grades have no people column."""
    entries = community_registry("c001", seed=7)
    assert sum(e.people for e in entries if e.sensor_type is not SensorType.WATER_LEVEL) < 500
    assert sum(e.people for e in entries if e.sensor_type is SensorType.WATER_LEVEL) < 500


def test_a_scenarios_people_per_device_reach_its_registry_and_name_known_communities() -> None:
    scenario = load_scenario(scenario_path("exposure-and-slow-flood"))
    people = {e.device_id: e.people for e in scenario_registry(scenario)}
    assert people["c002.wl-1"] == 600 and people["c002.sm-1"] == 600
    assert people["c005.wl-1"] == GAUGE_PEOPLE and people["c005.sm-1"] == DEVICE_PEOPLE
    with pytest.raises(ValueError, match=r"people_per_device: unknown communities \['c099'\]"):
        scenario.model_validate({**scenario.model_dump(), "people_per_device": {"c099": 5}})
