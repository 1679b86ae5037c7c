"""Consumer lag per input partition: high watermark minus the next offset to process.

The high watermark comes from Fetch responses (aiokafka's ``highwater``), which
Tansu reports correctly; ListOffsets(LATEST), which Faust's own lag uses, is
wrong on Tansu after a multi-record batch.

>>> lag = PartitionProgress()
>>> lag.processed("t", 0, offset=41)
>>> lag.lag({("t", 0): 50, ("t", 1): 7})
{('t', 0): 8}
"""

from __future__ import annotations

from collections.abc import Mapping


class PartitionProgress:
    """Remembers, per partition, the next offset the worker will process."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], int] = {}

    def processed(self, topic: str, partition: int, offset: int) -> None:
        """Record that ``offset`` of ``topic``/``partition`` is done."""
        self._next[(topic, partition)] = offset + 1

    def lag(self, highwaters: Mapping[tuple[str, int], int | None]) -> dict[tuple[str, int], int]:
        """Lag of every partition with a known high watermark and a known position."""
        return {
            tp: max(0, high - self._next[tp])
            for tp, high in highwaters.items()
            if high is not None and tp in self._next
        }
