"""``riskwatch devices``: a bad file or a bad change is refused before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.commands.devices import updated_entry
from pipeline.devices.entry import DeviceEntry

REQUIRED = ["community_id=c1", "latitude=30", "longitude=120", "installed_at=2025-01-01T00:00:00Z"]


def gauge() -> DeviceEntry:
    return updated_entry(None, "wl-1", [*REQUIRED, "sensor_type=water_level", "people=300"])


def test_a_bad_file_is_refused_without_a_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISKWATCH_BOOTSTRAP_SERVERS", raising=False)  # sending would fail differently
    path = tmp_path / "devices.csv"
    path.write_text("device_id,community_id\nwl-1,c1\n")
    with pytest.raises(SystemExit, match=r"nothing imported: .*row 2: latitude: Field required"):
        main(["devices", "import", str(path)])


def test_set_changes_only_the_fields_given_and_validates_them() -> None:
    changed = updated_entry(gauge(), "wl-1", ["warning_line=3.2", "guaranteed_line=4.0"])
    assert (changed.warning_line, changed.guaranteed_line, changed.people) == (3.2, 4.0, 300)
    cleared = updated_entry(changed, "wl-1", ["warning_line=", "guaranteed_line=", "people="])
    assert (cleared.warning_line, cleared.people) == (None, 0)
    with pytest.raises(ValueError, match="device wl-1: latitude: Input should be less than or equal to 90"):
        updated_entry(gauge(), "wl-1", ["latitude=95"])
    with pytest.raises(ValueError, match="device wl-1: give both warning_line and guaranteed_line"):
        updated_entry(gauge(), "wl-1", ["warning_line=3.2"])
    with pytest.raises(ValueError, match="device wl-1: colour: Extra inputs"):
        updated_entry(gauge(), "wl-1", ["colour=red"])
    with pytest.raises(ValueError, match="is not key=value"):
        updated_entry(gauge(), "wl-1", ["people"])
    with pytest.raises(ValueError, match="device_id cannot be set"):
        updated_entry(gauge(), "wl-1", ["device_id=wl-2"])


def test_set_on_an_unknown_device_creates_it_only_when_it_is_described_whole() -> None:
    with pytest.raises(ValueError, match="device wl-9 is not registered; to add it give community_id"):
        updated_entry(None, "wl-9", ["warning_line=3.2", "guaranteed_line=4.0"])
    assert gauge().device_id == "wl-1"
