"""The mobilisation roster: who a community calls, how to reach them, and when they are on duty.

A roster is a CSV file (``riskwatch roster import FILE.csv``) with one person or
team a row; ``riskwatch.roster`` keeps it, compacted by ``id``. The columns:

=============  ========  ================================================================
column         required  meaning
=============  ========  ================================================================
id             yes       person or team id (the record key), e.g. ``c001-grid-wang``
name           yes       shown in messages and in the console
kind           no        ``person`` (default) or ``team``
community      yes       community id, or ``*`` for every community (district, city)
role           yes       one of :class:`Role`: decides which responder topic reaches them
channel        yes       ``webhook``, ``email``, ``wecom``, ``dingtalk`` or ``feishu``
address        yes       an ``http(s)://`` URL, or an e-mail address for ``email``
duty           no        ``always`` (default) or spans ``HH:MM-HH:MM`` joined by ``;``
                         (a span may pass midnight: ``20:00-08:00``)
timezone       no        IANA zone of ``duty`` (default ``Asia/Shanghai``)
hazards        no        ``;``-separated hazards this row takes (default: every hazard of its role)
min_tier       no        least serious tier this row takes: ``I`` … ``IV`` (default ``IV``)
skills         no        ``;``-separated free words (``first_aid;boat``), shown to operators
=============  ========  ================================================================

Parsing checks every row and reports every problem by row number and column; a
file with any problem is refused whole, so a bad import changes nothing.

>>> rows = parse_roster("id,name,community,role,channel,address\\n"
...                     "wang,Wang Fang,c001,grid_worker,email,wang@example.org\\n")
>>> rows[0].role, rows[0].channel, rows[0].on_duty_always
(<Role.GRID_WORKER: 'grid_worker'>, <Channel.EMAIL: 'email'>, True)
>>> parse_roster("id,name,community,role,channel,address\\nx,X,c1,chef,email,x@y.z\\n")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pipeline.notify.roster.RosterError: row 2, column role: 'chef' is not a role (one of community_office, ...)
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.hazard import Hazard, Tier
from schemas.types import Identifier, ShortText

COLUMNS = (
    "id",
    "name",
    "kind",
    "community",
    "role",
    "channel",
    "address",
    "duty",
    "timezone",
    "hazards",
    "min_tier",
    "skills",
)
REQUIRED = frozenset({"id", "name", "community", "role", "channel", "address"})
EVERY_COMMUNITY = "*"


class Role(StrEnum):
    """What a row does in an emergency; :data:`ROLE_ROUTES` maps each to its responder topic."""

    COMMUNITY_OFFICE = "community_office"
    GRID_WORKER = "grid_worker"
    VOLUNTEER = "volunteer"
    SOCIAL_ORGANISATION = "social_organisation"
    FIRE_BRIGADE = "fire_brigade"
    POLICE = "police"
    MEDICAL = "medical"
    MAINTENANCE = "maintenance"
    DISTRICT_COMMAND = "district_command"
    CITY_EMERGENCY = "city_emergency"


ROLE_ROUTES: dict[Role, str] = {
    Role.COMMUNITY_OFFICE: "responders.community_office",
    Role.GRID_WORKER: "responders.grid_workers",
    Role.VOLUNTEER: "responders.volunteer_teams",
    Role.SOCIAL_ORGANISATION: "responders.volunteer_teams",
    Role.FIRE_BRIGADE: "responders.fire_brigade",
    Role.POLICE: "responders.community_police",
    Role.MEDICAL: "responders.health_department",
    Role.MAINTENANCE: "responders.maintenance",
    Role.DISTRICT_COMMAND: "responders.district_command",
    Role.CITY_EMERGENCY: "responders.city_emergency",
}
"""The responder route (of :func:`pipeline.assess.routing.default_routes`) each role listens on:
volunteers and social organisations are mobilised together, as China's community
emergency plans pair them."""


class Channel(StrEnum):
    """How a row is reached."""

    WEBHOOK = "webhook"
    EMAIL = "email"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class RosterError(ValueError):
    """A roster file with problems; the message lists each as ``row N, column C: what``."""


_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class DutySpan(BaseModel):
    """On duty from ``start`` to ``end`` local time; ``end <= start`` passes midnight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    def covers(self, moment: time) -> bool:
        """True when ``moment`` falls in the span (start included, end excluded)."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class RosterEntry(BaseModel):
    """One person or team of the roster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    name: ShortText
    kind: Literal["person", "team"] = "person"
    community: Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$")]
    role: Role
    channel: Channel
    address: Annotated[str, Field(min_length=3, max_length=500)]
    duty: tuple[DutySpan, ...] = ()
    """Empty: always on duty."""
    timezone: str = "Asia/Shanghai"
    hazards: frozenset[Hazard] | None = None
    min_tier: Tier = Tier.IV
    skills: tuple[str, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
        return value

    @property
    def on_duty_always(self) -> bool:
        """True when no duty hours limit the row."""
        return not self.duty

    def on_duty(self, at: datetime) -> bool:
        """True when the row is on duty at the aware moment ``at``."""
        if not self.duty:
            return True
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        return any(span.covers(local) for span in self.duty)


def parse_duty(text: str) -> tuple[DutySpan, ...]:
    """``always`` (or empty) → ``()``; ``08:00-12:00;14:00-18:00`` → two spans.

    >>> parse_duty("20:00-08:00")[0].covers(time(23, 30))
    True
    """
    if text.strip().lower() in ("", "always"):
        return ()
    spans = []
    for part in text.split(";"):
        found = _SPAN.match(part.strip())
        if not found:
            raise ValueError(f"{part.strip()!r} is not a span HH:MM-HH:MM (or 'always')")
        start_h, start_m, end_h, end_m = (int(g) for g in found.groups())
        end = time(0, 0) if end_h == 24 else time(end_h, end_m)
        spans.append(DutySpan(start=time(start_h, start_m), end=end))
    return tuple(spans)


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _fields(row: dict[str, str]) -> dict[str, object]:
    """The entry's fields from one CSV row; raises ``ValueError("column: problem")``."""
    fields: dict[str, object] = {name: row[name].strip() for name in REQUIRED}
    for name, value in ((n, (row.get(n) or "").strip()) for n in COLUMNS if n not in REQUIRED):
        if not value:
            continue
        if name == "duty":
            try:
                fields["duty"] = parse_duty(value)
            except ValueError as error:
                raise ValueError(f"duty: {error}") from None
        elif name == "hazards":
            fields["hazards"] = frozenset(_listed(value))
        elif name == "skills":
            fields["skills"] = tuple(_listed(value))
        elif name == "min_tier":
            if value not in Tier.__members__:
                raise ValueError(f"min_tier: {value!r} is not a tier (I, II, III or IV)")
            fields["min_tier"] = Tier[value]
        else:
            fields[name] = value
    return fields


def _address_problem(entry: RosterEntry) -> str | None:
    if entry.channel is Channel.EMAIL:
        return None if _EMAIL.match(entry.address) else f"{entry.address!r} is not an e-mail address"
    if not entry.address.startswith(("http://", "https://")):
        return f"a {entry.channel.value} address must be an http(s):// URL"
    return None


def _choices(name: str) -> str:
    kinds = {"role": Role, "channel": Channel, "hazards": Hazard}
    return ", ".join(member.value for member in kinds[name]) if name in kinds else ""


def _problem(error: ValidationError, row: dict[str, str]) -> str:
    first = error.errors(include_input=False)[0]
    column = str(first["loc"][0]) if first["loc"] else "?"
    if column in ("role", "channel", "hazards"):
        value = (row.get(column) or "").strip()
        noun = "a role" if column == "role" else f"a {column.rstrip('s')}"
        return f"column {column}: {value!r} is not {noun} (one of {_choices(column)})"
    return f"column {column}: {first['msg']}"


def parse_roster(text: str) -> list[RosterEntry]:
    """Every entry of a roster CSV; raises :class:`RosterError` listing every problem.

    Row numbers are the file's lines (the header is row 1).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or ()]
    reader.fieldnames = header
    missing = sorted(REQUIRED - set(header))
    unknown = sorted(set(header) - set(COLUMNS))
    if missing or unknown:
        said = [f"missing column {name}" for name in missing] + [f"unknown column {n}" for n in unknown]
        raise RosterError(f"row 1: {'; '.join(said)} (columns: {', '.join(COLUMNS)})")
    entries: list[RosterEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        if None in row:
            problems.append(f"row {number}: more values than columns")
            continue
        try:
            entry = RosterEntry.model_validate(_fields({k: v or "" for k, v in row.items()}))
        except ValidationError as error:
            problems.append(f"row {number}, {_problem(error, row)}")
            continue
        except ValueError as error:
            problems.append(f"row {number}, column {error}")
            continue
        address = _address_problem(entry)
        if address:
            problems.append(f"row {number}, column address: {address}")
        elif entry.id in seen:
            problems.append(f"row {number}, column id: {entry.id!r} is also on row {seen[entry.id]}")
        else:
            seen[entry.id] = number
            entries.append(entry)
    if problems:
        raise RosterError("\n".join(problems))
    if not entries:
        raise RosterError("row 2: the roster has no rows")
    return entries


class Roster:
    """The roster as the ``riskwatch.roster`` topic holds it: the latest entry per id; a tombstone
    (a record without a value) removes one."""

    def __init__(self) -> None:
        self.entries: dict[str, RosterEntry] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record of the roster topic; raises ``ValueError`` when it is unreadable.

        >>> roster = Roster()
        >>> roster.apply(b"x", b'{"id": "x", "name": "X", "community": "c1", "role": "police",'
        ...              b' "channel": "email", "address": "x@y.org"}')
        >>> roster.apply(b"x", None); roster.entries
        {}
        """
        if value is None:
            if not key:
                raise ValueError("a tombstone on the roster topic needs the entry id as its key")
            self.entries.pop(key.decode(), None)
            return
        entry = RosterEntry.model_validate_json(value)
        self.entries[entry.id] = entry
