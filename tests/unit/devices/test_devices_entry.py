"""Registry entries and files: good files give every entry, a bad one gives nothing but its first fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detectors.base import Direction
from pipeline.devices.entry import DeviceEntry, RegistryFileError, parse_csv, parse_json, read_registry_file
from schemas.events import SensorType
from schemas.hazard import Tier

HEADER = (
    "device_id,community_id,district_id,latitude,longitude,sensor_type,installed_at,"
    "warning_line,guaranteed_line,alarm_iii,people,households\n"
)
GOOD_CSV = HEADER + (
    "wl-1,c001,d01,30.27,120.15,water_level,2025-04-01T00:00:00+08:00,3.2,4.0,,1200,400\n"
    "co-1,c001,d01,30.28,120.16,gas_co,2025-04-02T00:00:00+08:00,,,35,80,30\n"
    "sm-1,c002,,30.29,120.17,smoke,2025-04-03T00:00:00Z,,,,,\n"
)


def test_a_good_csv_gives_every_entry_with_its_lines() -> None:
    entries = {e.device_id: e for e in parse_csv(GOOD_CSV)}
    assert sorted(entries) == ["co-1", "sm-1", "wl-1"]
    gauge = entries["wl-1"]
    assert (gauge.community_id, gauge.district_id, gauge.people, gauge.households) == (
        "c001",
        "d01",
        1200,
        400,
    )
    rule = gauge.limit_rule()
    assert rule is not None and [(s.tier, s.threshold) for s in rule.steps] == [
        (Tier.II, 4.0),
        (Tier.III, 3.2),
    ]
    co_rule = entries["co-1"].limit_rule()
    assert co_rule is not None and co_rule.direction is Direction.UP and co_rule.steps[0].threshold == 35.0
    assert entries["sm-1"].limit_rule() is None and entries["sm-1"].district_id is None


def test_a_good_json_file_reads_like_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps([e.model_dump(mode="json") for e in parse_csv(GOOD_CSV)]))
    assert read_registry_file(path) == parse_csv(GOOD_CSV)


def test_power_set_points_fall_with_severity() -> None:
    row = {
        "device_id": "pw-1",
        "community_id": "c1",
        "latitude": 0,
        "longitude": 0,
        "sensor_type": "power",
        "installed_at": "2025-01-01T00:00:00Z",
        "alarm_iv": 200,
        "alarm_i": 20,
    }
    rule = DeviceEntry.model_validate(row).limit_rule()
    assert rule is not None and rule.direction is Direction.DOWN
    assert rule.breached_step(15.0) is not None and rule.breached_step(15.0).tier is Tier.I  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("wl-1,c001,d01,91,120.15,water_level,2025-04-01T00:00:00Z,3.2,4.0,,1,1", "row 3: latitude: "),
        ("wl-1,c001,d01,30,181,water_level,2025-04-01T00:00:00Z,3.2,4.0,,1,1", "row 3: longitude: "),
        ("wl-1,c001,d01,30,120,rain,2025-04-01T00:00:00Z,,,,1,1", "row 3: sensor_type: "),
        ("wl-1,c001,d01,30,120,water_level,2025-04-01T00:00:00,3.2,4.0,,1,1", "row 3: installed_at: "),
        ("wl-1,c001,d01,30,120,water_level,2025-04-01T00:00:00Z,4.0,3.2,,1,1", "row 3: water_level limit"),
        ("wl-1,c001,d01,30,120,water_level,2025-04-01T00:00:00Z,3.2,,,1,1", "row 3: give both warning_line"),
        ("wl-1,c001,d01,30,120,water_level,2025-04-01T00:00:00Z,3.2,4.0,,-5,1", "row 3: people: "),
        ("wl 1,c001,d01,30,120,water_level,2025-04-01T00:00:00Z,3.2,4.0,,1,1", "row 3: device_id: "),
        (
            "sm-9,c001,d01,30,120,smoke,2025-04-01T00:00:00Z,3.2,4.0,,1,1",
            "row 3: warning_line and guaranteed",
        ),
        (
            "wl-1,c001,d01,30,120,water_level,2025-04-01T00:00:00Z,3.2,4.0,,1,1",
            "row 3: device_id: 'wl-1' is given",
        ),
        ("sm-9,c001,d01,30,120,smoke,2025-04-01T00:00:00Z,,,,1,1,extra", "row 3: more cells"),
    ],
)
def test_a_bad_csv_row_names_its_row_and_field_and_nothing_is_read(row: str, expected: str) -> None:
    text = HEADER + GOOD_CSV.splitlines(keepends=True)[1] + row + "\n"
    with pytest.raises(RegistryFileError) as caught:
        parse_csv(text)
    assert str(caught.value).startswith(expected)


def test_an_unknown_column_is_named() -> None:
    text = "device_id,community_id,latitude,longitude,sensor_type,installed_at,colour\n"
    with pytest.raises(RegistryFileError, match=r"^row 2: colour: Extra inputs are not permitted"):
        parse_csv(text + "sm-1,c1,0,0,smoke,2025-01-01T00:00:00Z,red\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not JSON"),
        ('{"device_id": "wl-1"}', "an array"),
        ('[{"device_id": "wl-1"}, 3]', "row 2: a device is a JSON object"),
        ('[{"device_id": "wl-1"}]', "row 1: community_id: Field required"),
        (
            '[{"device_id": "wl-1", "community_id": "c1", "latitude": "north", "longitude": 0,'
            ' "sensor_type": "smoke", "installed_at": "2025-01-01T00:00:00Z"}]',
            "row 1: latitude: ",
        ),
    ],
)
def test_a_bad_json_file_names_its_row_and_field(text: str, expected: str) -> None:
    with pytest.raises(RegistryFileError) as caught:
        parse_json(text)
    assert expected in str(caught.value)


def test_only_csv_and_json_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "devices.xlsx"
    path.write_text("x")
    with pytest.raises(RegistryFileError, match=r"ends in \.csv or \.json"):
        read_registry_file(path)


def test_lines_follow_the_sensor_type() -> None:
    row = {
        "device_id": "wl-1",
        "community_id": "c1",
        "latitude": 0,
        "longitude": 0,
        "sensor_type": SensorType.WATER_LEVEL,
        "installed_at": "2025-01-01T00:00:00Z",
        "alarm_ii": 3.0,
    }
    with pytest.raises(ValueError, match="not alarm_"):
        DeviceEntry.model_validate(row)
