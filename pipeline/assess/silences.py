"""Silences (maintenance windows) and inhibition: which notifications nobody should receive.

Both act on notifications only. The warning revision is still recorded on
the audit trail, so a silenced incident is never lost, only not paged.

* A :class:`Silence` matches by community, hazard and device (an unset matcher
  matches anything) between ``starts_at`` and ``ends_at``, and says who set it
  and why. A device matcher matches a device notice for that device, or a
  warning resting on that device alone.
* :func:`inhibitor` finds an open tier-I warning of the same hazard in the same
  community under another id: lower-tier duplicates of it are not paged. One
  assessor keeps one episode per (community, hazard), so duplicates come from
  elsewhere: a warning issued by another system or worker, or an episode
  re-derived under a new id after inputs were lost.
  (Device-offline inhibition happens earlier, in fusion: an offline device's
  readings do not count towards any warning.)

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> works = Silence(silence_id="s1", community_id="c1", device_id="wl-1", starts_at=t0,
...                 ends_at=t0 + timedelta(hours=2), author="li.wei", comment="pump replacement")
>>> works.is_active(t0 + timedelta(hours=1)), works.is_active(t0 + timedelta(hours=2))
(True, False)
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from pipeline.assess.episodes import EpisodeState, Notification
from schemas.hazard import Hazard, Tier


class Silence(BaseModel):
    """A maintenance window: matching notifications are not sent until ``ends_at``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    silence_id: str
    community_id: str | None = None
    hazard: Hazard | None = None
    device_id: str | None = None
    starts_at: datetime
    ends_at: datetime
    author: str
    comment: str

    @model_validator(mode="after")
    def _sensible(self) -> Silence:
        if self.community_id is None and self.hazard is None and self.device_id is None:
            raise ValueError("a silence needs at least one of community, hazard, device")
        if self.ends_at <= self.starts_at:
            raise ValueError("a silence must end after it starts")
        if not self.comment.strip() or not self.author.strip():
            raise ValueError("a silence needs an author and a comment saying why")
        return self

    def is_active(self, now: datetime) -> bool:
        """True from ``starts_at`` (inclusive) until ``ends_at`` (exclusive)."""
        return self.starts_at <= now < self.ends_at

    def matches(self, notification: Notification) -> bool:
        """True when every set matcher agrees with the notification."""
        if self.community_id is not None and self.community_id not in (
            notification.community_id,
            *notification.covers,
        ):
            return False
        if self.hazard is not None and self.hazard is not notification.hazard:
            return False
        return self.device_id is None or notification.devices == (self.device_id,)


def silence_problem(error: ValidationError) -> str:
    """What is wrong with a silence someone asked for, in words (CLI and console alike).

    >>> from datetime import UTC
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> try:
    ...     Silence(silence_id="s", starts_at=t0, ends_at=t0, author="a", comment="b")
    ... except ValidationError as error:
    ...     silence_problem(error)
    'a silence needs at least one of community, hazard, device'
    """
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())


def new_silence_id() -> str:
    """A fresh silence id, e.g. ``silence-3f2a9c0d1b7e``."""
    return f"silence-{uuid.uuid4().hex[:12]}"


def silence_record(key: bytes | None, value: bytes | None) -> tuple[str, Silence | None]:
    """``(silence id, silence)`` of one record of the silences topic; the silence is ``None``
    when the record ends it early (a tombstone). Raises ``ValueError`` when unreadable.

    >>> silence_record(b"s1", None)
    ('s1', None)
    """
    if value is None:
        if not key:
            raise ValueError("a tombstone on the silences topic needs the silence id as its key")
        return key.decode(), None
    silence = Silence.model_validate_json(value)
    return silence.silence_id, silence


def muting(silences: list[Silence], notification: Notification, now: datetime) -> Silence | None:
    """The first active silence that matches, if any."""
    return next((s for s in silences if s.is_active(now) and s.matches(notification)), None)


def inhibitor(notification: Notification, open_episodes: list[EpisodeState]) -> str | None:
    """The id of an open tier-I warning of the same hazard in this community, if any."""
    if notification.tier is Tier.I:
        return None
    for episode in open_episodes:
        warning = episode.warning
        if (
            warning.tier is Tier.I
            and warning.hazard is notification.hazard
            and warning.warning_id != notification.warning_id
            and warning.community_id == notification.community_id
        ):
            return warning.warning_id
    return None
