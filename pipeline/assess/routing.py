"""Routing of notifications to responder topics by hazard, tier and responder level.

Routes are configuration; the defaults below mirror how a Chinese community
emergency office works: the community office hears everything of its
community, specialised responders hear their hazards from the tier at which
they act, and unacknowledged warnings climb to the district command centre
and then the city emergency bureau. Topic names are relative: the worker
prefixes them like every other topic (``riskwatch.`` by default).

>>> route(default_routes(), Hazard.FIRE, Tier.III, 0)
('responders.community_office', 'responders.fire_brigade')
>>> route(default_routes(), Hazard.FIRE, Tier.IV, 1)
('responders.district_command',)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.hazard import Hazard, Tier


class Route(BaseModel):
    """Send notifications of these hazards, at or above ``min_tier``, at ``level``, to ``topic``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,200}$")]
    level: Annotated[int, Field(ge=0, le=5)] = 0
    hazards: frozenset[Hazard] | None = None
    """``None``: every hazard except device faults (those go to maintenance routes only)."""
    min_tier: Tier = Tier.IV

    def takes(self, hazard: Hazard, tier: Tier, level: int) -> bool:
        """True when this route receives a notification of ``hazard`` at ``tier`` and ``level``."""
        if level != self.level or tier.severity < self.min_tier.severity:
            return False
        if self.hazards is None:
            return hazard is not Hazard.DEVICE_FAULT
        return hazard in self.hazards


def default_routes() -> tuple[Route, ...]:
    """The default responder map (why each route exists is in its comment)."""
    return (
        # the community office owns every warning of its community
        Route(topic="responders.community_office"),
        # fire and gas: the fire brigade rolls out from "relatively serious"
        Route(
            topic="responders.fire_brigade",
            hazards=frozenset({Hazard.FIRE, Hazard.GAS_LEAK}),
            min_tier=Tier.III,
        ),
        # public security is community police work at any tier
        Route(topic="responders.community_police", hazards=frozenset({Hazard.PUBLIC_SECURITY})),
        # grid workers handle outages and check on faulty devices in their grid
        Route(topic="responders.grid_workers", hazards=frozenset({Hazard.POWER_OUTAGE, Hazard.DEVICE_FAULT})),
        Route(topic="responders.maintenance", hazards=frozenset({Hazard.DEVICE_FAULT})),
        # health matters reach the health department from III
        Route(
            topic="responders.health_department",
            hazards=frozenset({Hazard.PUBLIC_HEALTH, Hazard.AIR_POLLUTION}),
            min_tier=Tier.III,
        ),
        # volunteers are called out for serious floods, structural danger and health emergencies
        Route(
            topic="responders.volunteer_teams",
            hazards=frozenset({Hazard.FLOOD, Hazard.STRUCTURAL, Hazard.PUBLIC_HEALTH}),
            min_tier=Tier.II,
        ),
        # escalation levels: district command centre, then city emergency bureau
        Route(topic="responders.district_command", level=1),
        Route(topic="responders.city_emergency", level=2),
    )


def route(routes: tuple[Route, ...], hazard: Hazard, tier: Tier, level: int) -> tuple[str, ...]:
    """The topics a notification goes to, in configuration order, without repeats."""
    return tuple(dict.fromkeys(r.topic for r in routes if r.takes(hazard, tier, level)))
