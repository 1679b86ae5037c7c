"""The registry as a worker holds it: every device entry of the devices topic, and their limit rules.

The worker reads the compacted topic whole (:func:`pipeline.kafka.topic_follower.follow_topic`)
and applies each record here. :attr:`DeviceRegistry.rules` is the very dict the
worker's :class:`~detectors.limits.PhysicalLimits` looks device rules up in, so a
reading costs one dict lookup and a ``riskwatch devices set`` is in force from the
next reading on.

>>> registry = DeviceRegistry()
>>> entry = DeviceEntry.model_validate({"device_id": "wl-1", "community_id": "c001", "latitude": 30.2,
...     "longitude": 120.1, "sensor_type": "water_level", "installed_at": "2025-04-01T00:00:00Z",
...     "warning_line": 3.2, "guaranteed_line": 4.0, "people": 1200})
>>> registry.apply(b"wl-1", entry.model_dump_json().encode())
>>> registry.rules[("wl-1", SensorType.WATER_LEVEL)].steps[0].threshold, registry.people("wl-1")
(4.0, 1200)
>>> registry.apply(b"wl-1", None)  # a tombstone: the device is no longer registered
>>> registry.rules, registry.get("wl-1")
({}, None)
"""

from __future__ import annotations

from pydantic import ValidationError

from detectors.limits import LimitRule
from pipeline.devices.entry import DeviceEntry, entry_problem
from schemas.events import SensorType


def device_record(key: bytes | None, value: bytes | None) -> tuple[str, DeviceEntry | None]:
    """A devices-topic record as (device id, entry); the entry is None for a tombstone.

    Raises ``ValueError`` for a record nobody could have written with ``riskwatch devices``.
    """
    if not key:
        raise ValueError("a devices record needs its device id as key")
    device_id = key.decode(errors="replace")
    if value is None:
        return device_id, None
    try:
        entry = DeviceEntry.model_validate_json(value)
    except ValidationError as error:
        raise ValueError(f"device {device_id}: {entry_problem(error)}") from None
    if entry.device_id != device_id:
        raise ValueError(f"device {device_id}: the record's key and device_id ({entry.device_id}) differ")
    return device_id, entry


class DeviceRegistry:
    """Every registered device by id, and the limit rules its site lines make."""

    def __init__(self) -> None:
        self._entries: dict[str, DeviceEntry] = {}
        self.rules: dict[tuple[str, SensorType], LimitRule] = {}
        """Device rules by (device id, sensor type), for :attr:`PhysicalLimits.device_rules`."""

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record of the devices topic (a tombstone unregisters); ``ValueError`` if unreadable."""
        device_id, entry = device_record(key, value)
        old = self._entries.pop(device_id, None)
        if old is not None:
            self.rules.pop((device_id, old.sensor_type), None)
        if entry is None:
            return
        self._entries[device_id] = entry
        rule = entry.limit_rule()
        if rule is not None:
            self.rules[(device_id, entry.sensor_type)] = rule

    def get(self, device_id: str) -> DeviceEntry | None:
        """The device's entry, None when it is not registered."""
        return self._entries.get(device_id)

    def people(self, device_id: str) -> int | None:
        """The people the device watches over, None when it is not registered."""
        entry = self._entries.get(device_id)
        return None if entry is None else entry.people

    def entries(self) -> list[DeviceEntry]:
        """Every entry, by community then device id."""
        return sorted(self._entries.values(), key=lambda e: (e.community_id, e.device_id))

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)
