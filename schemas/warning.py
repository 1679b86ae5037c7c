"""Warnings: what the assessment tells operators, one record per change.

The ``riskwatch.warnings`` topic is append-only: every change of a warning
(opened, escalated, acknowledged, …) is a new record with the same
``warning_id`` and a higher ``revision``. That stream is the audit trail;
consumers keep the record with the highest revision per id.

The class is called ``RiskWarning`` so it never shadows Python's built-in
``Warning``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.envelope import StrictModel
from schemas.hazard import Hazard, Impact, Tier
from schemas.types import FiniteFloat, Identifier, ShortText, Timestamp

SeriesKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/-]{1,200}$")]
Probability = Annotated[FiniteFloat, Field(ge=0.0, le=1.0)]


class WarningChange(StrEnum):
    """What happened to the warning in this record."""

    OPENED = "opened"
    ESCALATED = "escalated"
    DE_ESCALATED = "de_escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"
    REBASELINED = "rebaselined"
    """An operator accepted the new normal of a series the warning rests on (recorded, pages nobody)."""


class WarningStatus(StrEnum):
    """Where the warning stands after this record."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"


class Evidence(StrictModel):
    """One observation that supports a warning: which series, what it showed, and why it counts."""

    source: Literal["sensor", "device_health", "report"]
    series: SeriesKey
    observed_at: Timestamp
    value: FiniteFloat | None = None
    expected: FiniteFloat | None = None
    score: Probability
    report_id: Identifier | None = None
    model: ShortText = Field(description="Detector kind and version that produced the score.")


TierAxis = Literal["impact", "likelihood", "both"]
"""The axis that holds a tier where it is (the one whose rise alone would raise it), or both."""


class RiskWarning(StrictModel):
    """One revision of a warning about one hazard in one community."""

    warning_id: Identifier = Field(description="Deterministic per (community, hazard, episode).")
    revision: Annotated[int, Field(ge=1, strict=True)]
    community_id: Identifier
    hazard: Hazard
    tier: Tier
    status: WarningStatus
    change: WarningChange
    opened_at: Timestamp
    updated_at: Timestamp
    risk: Probability = Field(description="Fused risk (the likelihood axis: how sure), 0–1.")
    impact: Impact | None = Field(
        default=None,
        description="The impact axis (how bad): minor, moderate, severe or extreme, from the "
        "hazard's magnitude against its lines and its extent; None for a district roll-up.",
    )
    tier_set_by: TierAxis | None = Field(
        default=None,
        description="Which axis holds the tier where it is: more of that axis alone would raise it.",
    )
    caused_by: ShortText = Field(description="'riskwatch/assessment' or the operator's name.")
    comment: ShortText | None = None
    evidence: Annotated[list[Evidence], Field(max_length=50)] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """True while operators still have to act on it."""
        return self.status in (WarningStatus.ACTIVE, WarningStatus.ACKNOWLEDGED)
