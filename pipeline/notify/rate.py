"""The per-recipient rate limit: at most ``rate_per_minute`` messages in any minute.

A sliding window, not an even spacing: DingTalk's custom robots, for one, take 20
messages a minute and refuse the 21st, so a burst of 20 goes at once and the 21st
waits until the first of them is a minute old. A rate below one a minute (or not
whole) is the same window scaled: ``n = max(1, floor(rate))`` messages per
``60 * n / rate`` seconds. Pure: the caller passes the time (a monotonic clock's
seconds), so the limit is tested without waiting.
"""

from __future__ import annotations

import math
from collections import deque


class RateLimit:
    """When one recipient may be sent its next message.

    >>> limit = RateLimit(rate_per_minute=2)
    >>> limit.wait(0.0); limit.taken(0.0); limit.wait(1.0); limit.taken(1.0)
    0.0
    0.0
    >>> limit.wait(30.0)
    30.0
    """

    def __init__(self, rate_per_minute: float) -> None:
        self.limit = max(1, math.floor(rate_per_minute))
        self.window_s = 60.0 * self.limit / rate_per_minute
        self._sent: deque[float] = deque(maxlen=self.limit)

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until a message may go (0 if it may go now)."""
        if len(self._sent) < self.limit:
            return 0.0
        return max(0.0, self._sent[0] + self.window_s - now)

    def taken(self, now: float) -> None:
        """A message went at ``now``."""
        self._sent.append(now)
