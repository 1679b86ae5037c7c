"""Hazards the pipeline warns about, and the four-tier warning ladder."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Hazard(StrEnum):
    """What kind of danger a warning is about (also a report's category)."""

    FLOOD = "flood"
    FIRE = "fire"
    GAS_LEAK = "gas_leak"
    AIR_POLLUTION = "air_pollution"
    STRUCTURAL = "structural"
    POWER_OUTAGE = "power_outage"
    PUBLIC_SECURITY = "public_security"
    PUBLIC_HEALTH = "public_health"
    DEVICE_FAULT = "device_fault"
    OTHER = "other"


class Tier(IntEnum):
    """China's four warning tiers; a lower number is more serious.

    >>> Tier.II.colour, Tier.II.label
    ('orange', 'II orange')
    >>> Tier.I > Tier.IV   # compare seriousness with .severity, not the number
    False
    >>> Tier.I.severity > Tier.IV.severity
    True
    """

    I = 1  # noqa: E741 - the official name of the tier
    II = 2
    III = 3
    IV = 4

    @property
    def colour(self) -> str:
        """The tier's colour: IV blue, III yellow, II orange, I red."""
        return {1: "red", 2: "orange", 3: "yellow", 4: "blue"}[self.value]

    @property
    def severity(self) -> int:
        """1 for IV (general) up to 4 for I (especially serious)."""
        return 5 - self.value

    @property
    def label(self) -> str:
        """Human label such as ``'III yellow'``."""
        return f"{self.name} {self.colour}"


class Impact(StrEnum):
    """How bad a hazard is, on four steps that line up with the tiers (the impact axis).

    The assessment grades a hazard's magnitude against the site's lines or the
    hazard's scale, and its extent, onto these steps; the tier then comes from
    impact and likelihood together (``pipeline.assess.tiers``). A string enum on
    purpose: an integer one would compare equal to the tier of the opposite end.

    >>> Impact.SEVERE.rank, Impact.SEVERE.tier.label, Impact.of(Tier.III)
    (3, 'II orange', <Impact.MODERATE: 'moderate'>)
    """

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        """1 for MINOR up to 4 for EXTREME (compare impacts with this)."""
        return _IMPACT_RANKS[self]

    @property
    def tier(self) -> Tier:
        """The tier whose harm this impact matches: MINOR IV … EXTREME I."""
        return Tier(5 - self.rank)

    @classmethod
    def of(cls, tier: Tier) -> Impact:
        """The impact step that matches ``tier`` (IV MINOR … I EXTREME)."""
        return cls.at(tier.severity)

    @classmethod
    def at(cls, rank: int) -> Impact:
        """The impact of ``rank`` (1 MINOR … 4 EXTREME)."""
        return list(cls)[rank - 1]


_IMPACT_RANKS = {impact: rank for rank, impact in enumerate(Impact, start=1)}
