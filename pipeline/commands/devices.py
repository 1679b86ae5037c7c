"""``riskwatch devices import|list|set|remove``: the site and device registry from the command line.

Each device is one record of the compacted devices topic, keyed by its id; every
worker follows that topic whole and applies a device's site lines to its readings
from the next reading on.

* ``import FILE.csv|FILE.json`` validates the whole file first and sends nothing
  when any row is wrong (the error names the row and the field);
* ``set ID key=value …`` changes fields of a registered device (``key=`` with
  no value clears an optional one). On a device not yet registered it creates
  the device when the pairs give every required field (community_id, latitude,
  longitude, sensor_type, installed_at), and otherwise refuses, naming what is
  missing: a typo in an id never creates a half-described device;
* ``remove ID`` unregisters a device (a tombstone); its readings fall back to its
  type's defaults.

    riskwatch devices set wl-1 warning_line=3.2 guaranteed_line=4.0 people=1200
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

from detectors.base import Direction
from pipeline.config import Settings
from pipeline.devices.entry import DeviceEntry, RegistryFileError, entry_problem, read_registry_file
from pipeline.devices.registry import DeviceRegistry


def _topic(settings: Settings) -> str:
    from pipeline.kafka.topics import TopicNames

    return TopicNames.from_settings(settings).devices


def _send(settings: Settings, entries: list[DeviceEntry]) -> None:
    from pipeline.commands.operator import send_keyed

    send_keyed(settings, _topic(settings), [(e.device_id, e.model_dump_json().encode()) for e in entries])


def current_registry(settings: Settings) -> DeviceRegistry:
    """The registry as the devices topic holds it now (unreadable records skipped, with a note)."""
    from pipeline.commands.operator import bootstrap_of
    from pipeline.kafka.state_store import read_to_end

    registry = DeviceRegistry()
    for record in asyncio.run(read_to_end(bootstrap_of(settings), _topic(settings), security=settings.kafka)):
        try:
            registry.apply(record.key, record.value)
        except ValueError as error:
            print(f"riskwatch: skipping an unreadable devices record: {error}", file=sys.stderr)
    return registry


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a registry file whole, then send every entry."""
    try:
        entries = read_registry_file(args.file)
    except RegistryFileError as error:
        raise SystemExit(f"riskwatch: nothing imported: {error}") from None
    _send(settings, entries)
    print(f"imported {len(entries)} devices from {args.file}")
    return 0


def updated_entry(current: DeviceEntry | None, device_id: str, pairs: list[str]) -> DeviceEntry:
    """``current`` (or a new device) with ``key=value`` pairs applied and validated.

    Raises ``ValueError`` saying what is wrong.

    >>> new = updated_entry(None, "sm-1", ["community_id=c1", "latitude=30", "longitude=120",
    ...                                   "sensor_type=smoke", "installed_at=2025-01-01T00:00:00Z"])
    >>> updated_entry(new, "sm-1", ["people=40", "alarm_iii=2.5"]).people
    40
    >>> updated_entry(None, "sm-2", ["people=40"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: device sm-2 is not registered; to add it give community_id, latitude, ...
    """
    fields = current.model_dump(mode="json", exclude_none=True) if current else {"device_id": device_id}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"{pair!r} is not key=value")
        if key.strip() == "device_id":
            raise ValueError("device_id cannot be set; remove the device and import it under its new id")
        if value.strip():
            fields[key.strip()] = value.strip()
        else:
            fields.pop(key.strip(), None)
    try:
        return DeviceEntry.model_validate(fields)
    except ValidationError as error:
        if current is None and any(e["type"] == "missing" for e in error.errors()):
            fields_ = DeviceEntry.model_fields.items()
            required = [name for name, f in fields_ if f.is_required() and name != "device_id"]
            raise ValueError(
                f"device {device_id} is not registered; to add it give {', '.join(required)} "
                f"({entry_problem(error)})"
            ) from None
        raise ValueError(f"device {device_id}: {entry_problem(error)}") from None


def run_set(settings: Settings, args: argparse.Namespace) -> int:
    """Change (or add) one device."""
    current = current_registry(settings).get(args.device_id)
    try:
        entry = updated_entry(current, args.device_id, args.pairs)
    except ValueError as error:
        raise SystemExit(f"riskwatch: {error}") from None
    _send(settings, [entry])
    print(f"{entry.device_id}: {'updated' if current else 'registered'}: {describe(entry)}")
    return 0


def run_remove(settings: Settings, args: argparse.Namespace) -> int:
    """Unregister one device."""
    from pipeline.commands.operator import send_keyed

    send_keyed(settings, _topic(settings), [(args.device_id, None)])
    print(f"{args.device_id}: removed from the registry")
    return 0


def describe(entry: DeviceEntry) -> str:
    """One line for an operator: where the device is, its lines and whom it watches over.

    >>> describe(updated_entry(None, "wl-1", ["community_id=c1", "latitude=30.2", "longitude=120.1",
    ...     "sensor_type=water_level", "installed_at=2025-01-01T00:00:00Z", "warning_line=3.2",
    ...     "guaranteed_line=4", "people=1200"]))
    'c1 (-) water_level at 30.2,120.1; lines III ≥ 3.2, II ≥ 4 m; 1200 people, 0 households'
    """
    rule = entry.limit_rule()
    lines = "type defaults"
    if rule is not None:
        sign = "≥" if rule.direction is Direction.UP else "≤"
        steps = ", ".join(f"{s.tier.name} {sign} {s.threshold:g}" for s in reversed(rule.steps))
        lines = f"{steps} {rule.unit}"
    return (
        f"{entry.community_id} ({entry.district_id or '-'}) {entry.sensor_type.value} at "
        f"{entry.latitude:g},{entry.longitude:g}; lines {lines}; "
        f"{entry.people} people, {entry.households} households"
    )


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    """Print every registered device."""
    entries = current_registry(settings).entries()
    for entry in entries:
        print(f"{entry.device_id}  {describe(entry)}")
    if not entries:
        print("no registered devices")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devices import``, ``devices list``, ``devices set`` and ``devices remove``."""
    devices = subparsers.add_parser("devices", help="the site and device registry (lines, people, location)")
    actions = devices.add_subparsers(dest="devices_command", required=True)
    importing = actions.add_parser("import", help="register every device of a CSV or JSON file (all or none)")
    importing.add_argument("file", type=Path)
    importing.set_defaults(run=run_import)
    listing = actions.add_parser("list", help="print every registered device")
    listing.set_defaults(run=run_list)
    setting = actions.add_parser("set", help="change fields of a device: key=value … (key= clears)")
    setting.add_argument("device_id")
    setting.add_argument("pairs", nargs="+", metavar="key=value")
    setting.set_defaults(run=run_set)
    removing = actions.add_parser("remove", help="unregister a device (its type's defaults apply)")
    removing.add_argument("device_id")
    removing.set_defaults(run=run_remove)
