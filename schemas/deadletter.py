"""Dead letters: messages the pipeline could not accept, kept whole with the reason.

Nothing is lost: the raw bytes travel base64-encoded, with where they came
from, so an operator can fix the producer and replay the message. A message
rejected for being too large keeps only its first bytes here (a dead letter
must itself fit in a Kafka message); its size and SHA-256 identify it, and it
stays whole in the source topic at ``partition``/``offset``.
"""

from __future__ import annotations

import base64
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.envelope import StrictModel
from schemas.types import Timestamp


class RejectReason(StrEnum):
    """Bounded classes of rejection (used as a metric label)."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    WRONG_SHAPE = "wrong_shape"
    BATCH_TOO_LARGE = "batch_too_large"
    UNKNOWN_KIND = "unknown_kind"
    WRONG_TOPIC = "wrong_topic"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    NON_FINITE = "non_finite"
    INVALID_FIELD = "invalid_field"
    CLOCK_SKEW = "clock_skew"
    COMMUNITY_MISMATCH = "community_mismatch"


class DeadLetter(StrictModel):
    """A rejected message (or one item of a batch) with everything needed to replay it."""

    raw_base64: str = Field(description="The Kafka message value, base64 (whole unless raw_truncated).")
    raw_size: Annotated[int, Field(ge=0)] = Field(description="Size of the whole message value in bytes.")
    raw_sha256: str = Field(description="SHA-256 of the whole message value, hex.")
    raw_truncated: bool = Field(default=False, description="True when only the first bytes are kept.")
    key: str | None = Field(default=None, description="The message key as text, if any.")
    source_topic: str
    partition: Annotated[int, Field(ge=0)]
    offset: Annotated[int, Field(ge=0)]
    item_index: int | None = Field(default=None, description="Index inside a batch, if one item failed.")
    reason_class: RejectReason
    reason: str = Field(description="What was wrong, in words a person can act on.")
    rejected_at: Timestamp

    @property
    def raw(self) -> bytes:
        """The original message bytes."""
        return base64.b64decode(self.raw_base64)
