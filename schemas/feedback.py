"""Operator feedback on a warning: acknowledge, resolve, or mark a false alarm."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from schemas.envelope import StrictModel
from schemas.types import Identifier, ShortText, Timestamp


class FeedbackAction(StrEnum):
    """What the operator did."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    FALSE_ALARM = "false_alarm"


class Feedback(StrictModel):
    """One operator action on one warning, sent to ``riskwatch.feedback``."""

    feedback_id: Identifier
    warning_id: Identifier
    community_id: Identifier = Field(description="Key of the message, so it reaches the warning's worker.")
    action: FeedbackAction
    operator: ShortText
    comment: ShortText | None = None
    time: Timestamp
