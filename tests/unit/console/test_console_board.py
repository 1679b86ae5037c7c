"""The console board and feed: newest revision wins, closed ones leave, stalled listeners go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pipeline.console.board import WarningBoard
from pipeline.console.feed import BoardFeed
from schemas import RiskWarning, Tier

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)


def revision(n: int, warning_id: str = "w1", tier: Tier = Tier.III, status: str = "active") -> RiskWarning:
    return RiskWarning(
        warning_id=warning_id,
        revision=n,
        community_id="c1",
        hazard="flood",
        tier=tier,
        status=status,
        change="opened" if n == 1 else "escalated",
        opened_at=T0,
        updated_at=T0 + timedelta(minutes=n),
        risk=0.9,
        caused_by="riskwatch/assessment",
    )


def test_newest_revision_wins_whatever_the_arrival_order() -> None:
    board = WarningBoard()
    assert board.apply(revision(2, tier=Tier.II))
    assert not board.apply(revision(1)), "a replayed older revision is not news"
    assert board.get("w1") == revision(2, tier=Tier.II)
    assert [w.revision for w in board.history("w1")] == [2]


def test_open_warnings_sorted_by_seriousness_and_closed_ones_leave() -> None:
    board = WarningBoard(closed_limit=1)
    board.apply(revision(1, "blue", Tier.IV))
    board.apply(revision(1, "red", Tier.I))
    board.apply(revision(1, "gone", Tier.II))
    board.apply(revision(2, "gone", Tier.II, status="resolved"))
    assert [w.warning_id for w in board.open()] == ["red", "blue"]
    board.apply(revision(2, "blue", Tier.IV, status="false_alarm"))
    assert board.get("gone") is None, "only the last closed_limit closed warnings are kept"
    assert board.get("blue") is not None


def test_feed_tells_subscribers_news_only_and_drops_stalled_ones() -> None:
    async def scenario() -> tuple[int, int, int]:
        feed = BoardFeed(WarningBoard(), max_queued=1)
        live, stalled = feed.subscribe(), feed.subscribe()
        feed.apply(revision(1).model_dump_json().encode())
        feed.apply(revision(1).model_dump_json().encode())
        await live.get()
        feed.apply(revision(2).model_dump_json().encode())
        feed.apply(b"not a warning")
        return live.qsize(), stalled.qsize(), feed.listeners

    assert asyncio.run(scenario()) == (1, 1, 1)
