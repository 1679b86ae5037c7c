"""The response record: every delivery attempt and every acknowledgement by link, on
``riskwatch.deliveries`` (keyed by warning id), and what a reader rebuilds from it (pure).

``notify`` reads the topic back on start to know which idempotency keys were
delivered, so a restart never sends those again; workers follow it whole so the
console shows, per warning, who was told, how, and who answered; ``riskwatch
review`` prints it with the episode's timeline.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pipeline.notify.roster import Channel


class Outcome(StrEnum):
    """What one attempt (or answer) came to."""

    DELIVERED = "delivered"
    FAILED = "failed"
    """This attempt failed; another follows after a backoff."""
    GAVE_UP = "gave_up"
    """The last attempt failed (or the recipient refused for good): nobody got this one."""
    STALE = "stale"
    """Older than ``RISKWATCH_NOTIFY_MAX_AGE_S`` when read: not sent."""
    ACKNOWLEDGED = "acknowledged"
    """The recipient confirmed through the link in the message."""


FINAL = frozenset({Outcome.DELIVERED, Outcome.GAVE_UP, Outcome.STALE})


class DeliveryRecord(BaseModel):
    """One attempt to reach one recipient with one notification, or their acknowledgement."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    """Idempotency key: ``warning:revision:kind:level:recipient`` (see :func:`idempotency_key`)."""
    warning_id: str | None
    revision: int | None
    community_id: str
    kind: str
    recipient_id: str
    recipient_name: str
    channel: Channel | None
    """``None`` for an acknowledgement whose delivery this worker has not read."""
    outcome: Outcome
    attempt: int = 1
    error: str | None = None
    at: datetime


def idempotency_key(
    warning_id: str | None, revision: int | None, kind: str, level: int, recipient_id: str, at: datetime
) -> str:
    """One notification of one revision to one recipient; device faults (no warning) by their time.

    >>> idempotency_key("w1", 2, "opened", 0, "wang", datetime(2026, 1, 1))
    'w1:2:opened:0:wang'
    """
    if warning_id is None:
        return f"device:{at.isoformat()}:{kind}:{level}:{recipient_id}"
    return f"{warning_id}:{revision}:{kind}:{level}:{recipient_id}"


class DeliveryBook:
    """What the deliveries topic says so far: keys delivered, links used, records per warning."""

    def __init__(self) -> None:
        self.delivered: set[str] = set()
        self.acknowledged: dict[str, DeliveryRecord] = {}
        """Used acknowledgement purposes (``warning:revision:recipient``) → the acknowledgement."""
        self.by_warning: defaultdict[str, list[DeliveryRecord]] = defaultdict(list)

    def add(self, record: DeliveryRecord) -> None:
        """Take one record into account."""
        if record.outcome is Outcome.DELIVERED:
            self.delivered.add(record.key)
        if record.outcome is Outcome.ACKNOWLEDGED:
            self.acknowledged[f"{record.warning_id}:{record.revision}:{record.recipient_id}"] = record
        if record.warning_id is not None:
            self.by_warning[record.warning_id].append(record)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Take one record of the topic; raises ``ValueError`` when it is unreadable."""
        if value is None:
            raise ValueError("the deliveries topic has no tombstones")
        self.add(DeliveryRecord.model_validate_json(value))

    def response(self, warning_id: str) -> list[dict[str, object]]:
        """Per recipient and notice: the latest outcome, attempts, and the acknowledgement, if any.

        >>> book = DeliveryBook()
        >>> at = datetime(2026, 1, 1)
        >>> for outcome in ("failed", "delivered"):
        ...     book.add(DeliveryRecord(key="w1:1:opened:0:wang", warning_id="w1", revision=1,
        ...              community_id="c1", kind="opened", recipient_id="wang", recipient_name="Wang",
        ...              channel="email", outcome=outcome, at=at))
        >>> [(r["recipient_id"], r["outcome"], r["attempts"]) for r in book.response("w1")]
        [('wang', 'delivered', 2)]
        """
        rows: dict[str, dict[str, object]] = {}
        acks: dict[str, DeliveryRecord] = {}
        for record in self.by_warning.get(warning_id, []):
            if record.outcome is Outcome.ACKNOWLEDGED:
                acks.setdefault(record.recipient_id, record)
                continue
            row = rows.setdefault(record.key, {"attempts": 0})
            row.update(
                key=record.key,
                revision=record.revision,
                kind=record.kind,
                recipient_id=record.recipient_id,
                recipient_name=record.recipient_name,
                channel=record.channel.value if record.channel else None,
                outcome=record.outcome.value,
                error=record.error,
                at=record.at.isoformat(),
                attempts=int(str(row["attempts"])) + 1,
            )
        for row in rows.values():
            ack = acks.get(str(row["recipient_id"]))
            row["acknowledged_at"] = ack.at.isoformat() if ack else None
        return sorted(rows.values(), key=lambda r: (str(r["at"]), str(r["recipient_id"])))


def response_text(rows: list[dict[str, object]]) -> str:
    """The response part of ``riskwatch review``: one line per recipient and notice.

    >>> print(response_text([{"at": "2026-01-01T12:00:05+00:00", "kind": "opened", "recipient_name": "Wang",
    ...     "recipient_id": "wang", "channel": "email", "outcome": "delivered", "attempts": 1, "error": None,
    ...     "acknowledged_at": "2026-01-01T12:03:00+00:00"}]))  # doctest: +NORMALIZE_WHITESPACE
    response:
      2026-01-01T12:00:05+00:00  opened to Wang (wang) by email: delivered after 1 attempt(s);
      acknowledged 2026-01-01T12:03:00+00:00
    """
    if not rows:
        return "response: nobody was notified through riskwatch notify"
    lines = ["response:"]
    for row in rows:
        error = f" ({row['error']})" if row["error"] else ""
        acked = f"; acknowledged {row['acknowledged_at']}" if row["acknowledged_at"] else ""
        lines.append(
            f"  {row['at']}  {row['kind']} to {row['recipient_name']} ({row['recipient_id']}) by "
            f"{row['channel']}: {row['outcome']}{error} after {row['attempts']} attempt(s){acked}"
        )
    return "\n".join(lines)
