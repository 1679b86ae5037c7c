"""One log line per interval for a message that repeats, with how often it came.

A worker whose broker is gone used to write ~150 ERROR lines a second (aiokafka
and Faust retrying). :class:`RepeatFilter` lets the first record of each message
(by logger and format string) through, drops repeats for ``interval_s``, and adds
the count to the next one that passes.

>>> import logging
>>> ticks = iter([0.0, 1.0, 2.0, 31.0])
>>> repeats = RepeatFilter(interval_s=30.0, clock=lambda: next(ticks))
>>> def record() -> logging.LogRecord:
...     return logging.LogRecord("aiokafka", logging.ERROR, "f", 1, "Unable connect to %s", ("node 1",), None)
>>> [repeats.filter(record()) for _ in range(3)]
[True, False, False]
>>> passed = record(); repeats.filter(passed), passed.getMessage()
(True, 'Unable connect to node 1 (2 more like this in the last 31 s)')
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class RepeatFilter(logging.Filter):
    """Passes a message at most once per ``interval_s``, counting the ones it held back."""

    def __init__(self, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}
        """(logger, format) -> (when it last passed, repeats held back since)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat within the interval; the next one that passes carries the count."""
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = self._clock()
        passed_at, held = self._seen.get(key, (None, 0))
        if passed_at is not None and now - passed_at < self._interval_s:
            self._seen[key] = (passed_at, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held and passed_at is not None:
            record.msg = f"{record.msg} ({held} more like this in the last {now - passed_at:.0f} s)"
        return True


def throttle_repeats(interval_s: float = 30.0) -> RepeatFilter:
    """Install one :class:`RepeatFilter` on every handler of the root logger; return it."""
    repeats = RepeatFilter(interval_s)
    for handler in logging.getLogger().handlers:
        handler.addFilter(repeats)
    return repeats
