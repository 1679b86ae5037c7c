"""Who receives a notification: the roster rows its responder topic, community, hazard, tier and
time select (pure).

A notification reaches the rows whose role listens on the topic it came from
(:data:`pipeline.notify.roster.ROLE_ROUTES`), of its community (or of every
community, ``*``) or of a community it covers (a district warning), that take
its hazard and tier and are on duty when it was raised. Device-fault notices
reach only rows that name ``device_fault`` among their hazards or whose role is
maintenance or grid work, as the responder routes already decide.

>>> from datetime import UTC, datetime
>>> from pipeline.notify.roster import parse_roster
>>> roster = parse_roster("id,name,community,role,channel,address,duty,timezone\\n"
...     "day,Day,c1,community_office,email,d@x.org,08:00-20:00,UTC\\n"
...     "night,Night,c1,community_office,email,n@x.org,20:00-08:00,UTC\\n")
>>> [e.id for e in recipients(roster, "responders.community_office", "c1", (), Hazard.FLOOD, Tier.III,
...                           datetime(2026, 1, 1, 22, tzinfo=UTC))]
['night']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.notify.roster import EVERY_COMMUNITY, ROLE_ROUTES, RosterEntry
from schemas.hazard import Hazard, Tier


def recipients(
    roster: Iterable[RosterEntry],
    route: str,
    community_id: str,
    covers: tuple[str, ...],
    hazard: Hazard,
    tier: Tier,
    at: datetime,
) -> list[RosterEntry]:
    """The rows a notification on responder route ``route`` (unprefixed, e.g.
    ``responders.fire_brigade``) reaches, in id order."""
    communities = {community_id, *covers, EVERY_COMMUNITY}
    return sorted(
        (
            entry
            for entry in roster
            if ROLE_ROUTES[entry.role] == route
            and entry.community in communities
            and (entry.hazards is None or hazard in entry.hazards)
            and tier.severity >= entry.min_tier.severity
            and entry.on_duty(at)
        ),
        key=lambda entry: entry.id,
    )
