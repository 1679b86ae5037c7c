"""The envelope every event carries, and the rules all event kinds share.

Rules (documented in the README, enforced here):

* unknown fields are **rejected** (``extra="forbid"``): a typo in a field name
  must not silently drop data;
* numbers must be finite; booleans are not numbers;
* ``event_time`` must lie inside the skew window of a :class:`ValidationClock`
  passed as validation context (the ingest path always passes one; offline
  use without a context skips the check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from schemas.types import Identifier, Timestamp

SCHEMA_VERSION = 1
"""The version every event of this release carries in ``schema_version``."""


@dataclass(frozen=True)
class ValidationClock:
    """The time an event is validated at, and how far its event time may stray.

    >>> from datetime import UTC
    >>> clock = ValidationClock(now=datetime(2026, 1, 1, tzinfo=UTC),
    ...                         max_age=timedelta(days=1), max_ahead=timedelta(minutes=5))
    >>> clock.problem(datetime(2026, 1, 1, 0, 10, tzinfo=UTC))
    'event_time 2026-01-01T00:10:00+00:00 is 0:10:00 ahead of the clock; at most 0:05:00 is allowed'
    """

    now: datetime
    max_age: timedelta
    max_ahead: timedelta
    earliest: datetime = field(init=False, repr=False)
    latest: datetime = field(init=False, repr=False)
    """The window's ends, computed once: every event of a message is checked against them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "earliest", self.now - self.max_age)
        object.__setattr__(self, "latest", self.now + self.max_ahead)

    def problem(self, event_time: datetime) -> str | None:
        """Say what is wrong with ``event_time``, or ``None`` when it is inside the window."""
        if self.earliest <= event_time <= self.latest:
            return None
        if event_time > self.latest:
            ahead = event_time - self.now
            return (
                f"event_time {event_time.isoformat()} is {ahead} ahead of the clock; "
                f"at most {self.max_ahead} is allowed"
            )
        age = self.now - event_time
        return f"event_time {event_time.isoformat()} is {age} old; at most {self.max_age} is allowed"


class StrictModel(BaseModel):
    """Base of every schema: unknown fields rejected, no NaN, no coercion of bools."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Envelope(StrictModel):
    """Fields every event carries, whatever its kind."""

    event_id: Identifier = Field(description="Unique per event; duplicates are dropped downstream.")
    schema_version: Literal[1] = Field(default=1, description="Version of this schema; now 1.")
    community_id: Identifier = Field(description="The community the event belongs to; the Kafka key.")
    event_time: Timestamp = Field(description="When the event happened, with UTC offset.")
    received_time: Timestamp | None = Field(
        default=None,
        description="When riskwatch's ingress (HTTP, MQTT bridge) received it from the device, if it did.",
    )

    @field_validator("event_time")
    @classmethod
    def _inside_skew_window(cls, value: datetime, info: ValidationInfo) -> datetime:
        clock = info.context.get("clock") if isinstance(info.context, dict) else None
        if isinstance(clock, ValidationClock) and (problem := clock.problem(value)):
            raise PydanticCustomError("clock_skew", problem)
        return value
