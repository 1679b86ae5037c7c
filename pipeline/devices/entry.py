"""One device's registry entry, and reading whole registry files of them (CSV or JSON).

A file is all or nothing: every row is validated and the first bad one stops
the import with one error naming its row and field, so a typo never leaves
half a district registered. CSV rows are numbered by the file's line (the
header is line 1, as a spreadsheet shows it); JSON rows by their 1-based
position in the array. An empty CSV cell means "not given".

>>> entry = DeviceEntry.model_validate({"device_id": "wl-1", "community_id": "c001",
...     "latitude": 30.27, "longitude": 120.15, "sensor_type": "water_level",
...     "installed_at": "2025-04-01T00:00:00+08:00", "warning_line": 3.2, "guaranteed_line": 4.0})
>>> entry.limit_rule().breached_step(3.5).tier.label
'III yellow'
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detectors.base import Direction
from detectors.limits import DEFAULT_RULES, LimitRule, LimitStep, water_line_rule
from schemas.events import SensorType
from schemas.hazard import Tier
from schemas.types import Identifier, Timestamp

Level = Annotated[float, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]

ALARM_FIELDS: dict[str, Tier] = {f"alarm_{tier.name.lower()}": tier for tier in Tier}
"""The local alarm set point columns, ``alarm_iv`` … ``alarm_i``, and the tier each starts."""


class DeviceEntry(BaseModel):
    """What the registry knows of one device; the unit of every line is its sensor type's canonical one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_id: Identifier
    community_id: Identifier
    district_id: Identifier | None = None
    latitude: Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
    longitude: Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
    sensor_type: SensorType
    installed_at: Timestamp
    warning_line: Level | None = None
    """Water level only: the site's warning level (警戒水位, m, the sensor's datum); III yellow."""
    guaranteed_line: Level | None = None
    """Water level only: the site's guaranteed level (保证水位), the most the bank is built to hold;
    II orange."""
    alarm_iv: Level | None = None
    """Local alarm set points of other sensor types: a reading at or past one reaches its tier.
    Given set points replace the type's default ladder whole for this device."""
    alarm_iii: Level | None = None
    alarm_ii: Level | None = None
    alarm_i: Level | None = None
    people: Count = 0
    """People the device watches over (residents of the bank it guards, of the building it is in)."""
    households: Count = 0

    @model_validator(mode="after")
    def _lines_fit_the_sensor(self) -> DeviceEntry:
        has_lines = self.warning_line is not None or self.guaranteed_line is not None
        if has_lines and self.sensor_type is not SensorType.WATER_LEVEL:
            raise ValueError(
                "warning_line and guaranteed_line are for water_level sensors; use alarm_* set points"
            )
        if has_lines and (self.warning_line is None or self.guaranteed_line is None):
            raise ValueError("give both warning_line and guaranteed_line, or neither")
        if self.sensor_type is SensorType.WATER_LEVEL and self._set_points():
            raise ValueError("a water_level sensor's lines are warning_line and guaranteed_line, not alarm_*")
        self.limit_rule()  # raises ValueError when the lines are not ordered by severity
        return self

    def _set_points(self) -> dict[Tier, float]:
        return {
            tier: value for name, tier in ALARM_FIELDS.items() if (value := getattr(self, name)) is not None
        }

    def limit_rule(self) -> LimitRule | None:
        """The device's own limit rule from its site lines or set points; None when it has none.

        >>> row = {"device_id": "co-1", "community_id": "c1", "latitude": 0, "longitude": 0,
        ...        "sensor_type": "gas_co", "installed_at": "2025-01-01T00:00:00Z", "alarm_iii": 35}
        >>> [(s.tier.name, s.threshold) for s in DeviceEntry.model_validate(row).limit_rule().steps]
        [('III', 35.0)]
        """
        if self.warning_line is not None and self.guaranteed_line is not None:
            return water_line_rule(self.warning_line, self.guaranteed_line)
        points = self._set_points()
        if not points:
            return None
        default = DEFAULT_RULES.get(self.sensor_type)
        direction = default.direction if default is not None else Direction.UP
        steps = tuple(LimitStep(tier, value) for tier, value in points.items())
        return LimitRule(self.sensor_type, direction, steps, f"site alarm set points of {self.device_id}")


class RegistryFileError(ValueError):
    """A registry file that cannot be imported, with the row and field at fault."""


def entry_problem(error: ValidationError) -> str:
    """The first thing wrong with an entry: ``field: message (input: …)``, or the message alone when it
    is about how fields fit together (it names them).

    >>> try:
    ...     DeviceEntry.model_validate({"device_id": "x"})
    ... except ValidationError as error:
    ...     entry_problem(error)
    "community_id: Field required (input: {'device_id': 'x'})"
    """
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return message
    field = ".".join(str(part) for part in first["loc"])
    return f"{field}: {message} (input: {first['input']!r})"


def _validated(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[DeviceEntry]:
    entries: dict[str, DeviceEntry] = {}
    for number, row in rows:
        try:
            entry = DeviceEntry.model_validate(row)
        except ValidationError as error:
            raise RegistryFileError(f"row {number}: {entry_problem(error)}") from None
        if entry.device_id in entries:
            raise RegistryFileError(f"row {number}: device_id: {entry.device_id!r} is given twice")
        entries[entry.device_id] = entry
    return list(entries.values())


def parse_csv(text: str) -> list[DeviceEntry]:
    """Every entry of a CSV registry (a header row of field names), or :class:`RegistryFileError`.

    >>> parse_csv("device_id,community_id,latitude,longitude,sensor_type,installed_at\\n"
    ...           "wl-1,c001,91,120,water_level,2025-04-01T00:00:00Z\\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipeline.devices.entry.RegistryFileError: row 2: latitude: Input should be less than or equal to 90 ...
    """
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        if None in row:
            raise RegistryFileError(f"row {reader.line_num}: more cells than the header has columns")
        rows.append((reader.line_num, {k.strip(): v.strip() for k, v in row.items() if v and v.strip()}))
    return _validated(rows)


def parse_json(text: str) -> list[DeviceEntry]:
    """Every entry of a JSON registry (an array of objects), or :class:`RegistryFileError`."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RegistryFileError(f"not JSON: {error}") from None
    if not isinstance(document, list):
        raise RegistryFileError("a JSON registry is an array of device objects")
    for number, row in enumerate(document, start=1):
        if not isinstance(row, dict):
            raise RegistryFileError(f"row {number}: a device is a JSON object, not {type(row).__name__}")
    return _validated(enumerate(document, start=1))


def read_registry_file(path: Path) -> list[DeviceEntry]:
    """The entries of a ``.csv`` or ``.json`` registry file, all validated, or :class:`RegistryFileError`."""
    parsers = {".csv": parse_csv, ".json": parse_json}
    parser = parsers.get(path.suffix.lower())
    if parser is None:
        raise RegistryFileError(f"{path}: a registry file ends in .csv or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryFileError(f"{path}: cannot read it: {error}") from None
    try:
        return parser(text)
    except RegistryFileError as error:
        raise RegistryFileError(f"{path}: {error}") from None
