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
