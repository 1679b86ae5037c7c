"""The operators' board: the latest revision of every warning and its history.

Built from the append-only warnings stream (every worker reads all of it, so
every console shows the same board). Revisions may arrive twice (at-least-once
delivery): an older or equal revision never replaces a newer one.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 11, 23, tzinfo=UTC)
>>> w = RiskWarning(warning_id="w1", revision=1, community_id="c1", hazard="flood", tier=3,
...                 status="active", change="opened", opened_at=t, updated_at=t, risk=0.9,
...                 caused_by="riskwatch/assessment")
>>> board = WarningBoard()
>>> board.apply(w), board.apply(w)
(True, False)
>>> [x.warning_id for x in board.open()]
['w1']
"""

from __future__ import annotations

from collections import deque

from schemas.warning import RiskWarning


class WarningBoard:
    """Latest revision per warning id, plus the last ``history_limit`` revisions of each."""

    def __init__(self, history_limit: int = 100, closed_limit: int = 500) -> None:
        self._latest: dict[str, RiskWarning] = {}
        self._history: dict[str, deque[RiskWarning]] = {}
        self._history_limit = history_limit
        self._closed: deque[str] = deque()
        self._closed_limit = closed_limit

    def apply(self, warning: RiskWarning) -> bool:
        """Fold in one revision; return True when it is news (a newer revision)."""
        current = self._latest.get(warning.warning_id)
        if current is not None and current.revision >= warning.revision:
            return False
        self._latest[warning.warning_id] = warning
        history = self._history.setdefault(warning.warning_id, deque(maxlen=self._history_limit))
        history.append(warning)
        if not warning.is_open:
            self._forget_old_closed(warning.warning_id)
        return True

    def _forget_old_closed(self, warning_id: str) -> None:
        self._closed.append(warning_id)
        while len(self._closed) > self._closed_limit:
            gone = self._closed.popleft()
            if gone in self._latest and not self._latest[gone].is_open:
                del self._latest[gone]
                self._history.pop(gone, None)

    def get(self, warning_id: str) -> RiskWarning | None:
        """The latest revision of ``warning_id``."""
        return self._latest.get(warning_id)

    def history(self, warning_id: str) -> list[RiskWarning]:
        """Revisions of ``warning_id``, oldest first."""
        return list(self._history.get(warning_id, ()))

    def open(self) -> list[RiskWarning]:
        """Open warnings, most serious first, then most recently changed."""
        found = [w for w in self._latest.values() if w.is_open]
        return sorted(found, key=lambda w: (-w.tier.severity, -w.updated_at.timestamp(), w.warning_id))
