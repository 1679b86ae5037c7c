"""Operator actions: feedback on a warning (acknowledge, resolve, mark a false alarm), and
accepting a frozen series' new normal (:class:`Rebaseline`). Both travel on
``riskwatch.feedback``, keyed by community, to the worker that owns it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from schemas.envelope import StrictModel
from schemas.types import Identifier, ShortText, Timestamp
from schemas.warning import SeriesKey


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


class Rebaseline(StrictModel):
    """An operator accepts a series' readings as its new normal, sent to ``riskwatch.feedback``.

    The worker refuses it unless the series' baseline has been frozen (held through a
    deviation, :class:`detectors.hold.HeldBaseline`) for at least the configured time: a
    new normal is never accepted silently, nor for a deviation that may still pass.
    """

    kind: Literal["rebaseline"] = "rebaseline"
    rebaseline_id: Identifier
    community_id: Identifier = Field(description="Key of the message, so it reaches the series' worker.")
    series: SeriesKey = Field(description="``community/device/sensor_type``.")
    operator: ShortText
    reason: Annotated[ShortText, Field(min_length=1)]
    time: Timestamp


OperatorAction = Feedback | Rebaseline
"""What the feedback topic carries."""

OPERATOR_ACTION: TypeAdapter[OperatorAction] = TypeAdapter(OperatorAction)
"""Validates one record of the feedback topic as either action (``validate_json``)."""
