"""The assessment's one typed configuration object: ladder, fusion, episodes, routes, areas.

It is plain pydantic data, so the lead can load it from the TOML settings file
(``[assessment]`` table) or build it in code; every default is justified where
it is defined (:class:`~pipeline.assess.tiers.TierPolicy`,
:class:`~pipeline.assess.fusion.FusionConfig`,
:class:`~pipeline.assess.episodes.EpisodePolicy`,
:func:`~pipeline.assess.routing.default_routes`).

>>> config = AssessmentConfig(communities={"c1": Community(description="Riverside", district_id="d1")})
>>> config.district_of("c1"), config.district_of("elsewhere")
('d1', None)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pipeline.assess.episodes import EpisodePolicy
from pipeline.assess.fusion import FusionConfig
from pipeline.assess.routing import Route, default_routes
from pipeline.assess.tiers import TierPolicy
from schemas.types import IDENTIFIER_PATTERN


class Area(BaseModel):
    """A place warnings are about, as CAP ``area`` shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: Annotated[str, Field(min_length=1, max_length=200)]
    geocode: str | None = None
    """The area's administrative code (e.g. the 12-digit statistical division code)."""


class Community(Area):
    """A community and the district it belongs to."""

    district_id: Annotated[str, Field(pattern=IDENTIFIER_PATTERN)] | None = None


class AssessmentConfig(BaseModel):
    """Everything the assessment decides with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: TierPolicy = TierPolicy()
    fusion: FusionConfig = FusionConfig()
    episodes: EpisodePolicy = EpisodePolicy()
    routes: tuple[Route, ...] = Field(default_factory=default_routes)
    communities: dict[str, Community] = Field(default_factory=dict)
    districts: dict[str, Area] = Field(default_factory=dict)
    district_min_communities: Annotated[int, Field(ge=2)] = 2
    """Two communities of one district with the same hazard at once is already more than
    coincidence for area-wide hazards (outage, air pollution, storm flooding) and is what
    a district duty officer wants to hear about without waiting for a third."""
    cap_sender: Annotated[str, Field(pattern=r"^[^\s,<&]{1,100}$")] = "riskwatch"
    """CAP ``sender``: no spaces, commas, ``<`` or ``&`` (CAP 1.2 §3.2.1)."""
    geocode_name: str = "CN_DIVISION_CODE"
    """CAP ``geocode/valueName`` for :attr:`Area.geocode`."""

    def district_of(self, community_id: str) -> str | None:
        """The district a community belongs to, if configured."""
        community = self.communities.get(community_id)
        return community.district_id if community else None

    def area_of(self, area_id: str) -> Area:
        """The configured community or district, or a bare area named by its id."""
        return self.communities.get(area_id) or self.districts.get(area_id) or Area(description=area_id)
