"""The outbox between the hot path and Alertmanager: newest per label set, bounded, kept on failure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.alerting.alerts import Alert
from pipeline.alerting.outbox import BACKOFF_MAX_S, Outbox, backoff

AT = datetime(2026, 1, 1, tzinfo=UTC)


def alert(warning: str, tier: str = "II", status: str = "active") -> Alert:
    return Alert({"warning_id": warning, "tier": tier}, {"status": status}, AT, AT, "")


def test_a_failed_push_leaves_the_batch_waiting() -> None:
    box = Outbox(capacity=10)
    box.put([alert("w1"), alert("w2"), alert("w3")])
    batch = box.peek(2)
    assert [a.labels["warning_id"] for a in batch] == ["w1", "w2"]
    assert len(box) == 3, "peeking takes nothing"
    box.remove(batch)
    assert [a.labels["warning_id"] for a in box.peek(10)] == ["w3"]


def test_an_alert_replaced_during_a_push_is_kept_for_the_next_one() -> None:
    box = Outbox(capacity=10)
    box.put([alert("w1")])
    in_flight = box.peek(10)
    newer = alert("w1", status="acknowledged")
    box.put([newer])
    box.remove(in_flight)
    assert box.peek(10) == [newer]


def test_a_tier_change_is_another_label_set_and_both_wait() -> None:
    box = Outbox(capacity=10)
    box.put([alert("w1", tier="II"), alert("w1", tier="I")])
    assert len(box) == 2


def test_a_full_outbox_drops_the_oldest_and_says_how_many() -> None:
    box = Outbox(capacity=3)
    assert box.put([alert(f"w{n}") for n in range(5)]) == 2
    assert [a.labels["warning_id"] for a in box.peek(10)] == ["w2", "w3", "w4"]
    assert box.put([alert("w3", status="acknowledged")]) == 0, "a replacement takes no room"


def test_an_outbox_holds_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Outbox(capacity=0)


def test_backoff_grows_and_stays_bounded() -> None:
    delays = [backoff(n) for n in range(1, 100)]
    assert delays == sorted(delays) and delays[0] > 0 and max(delays) == BACKOFF_MAX_S
