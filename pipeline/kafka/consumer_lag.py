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

    def resume(self, topic: str, partition: int, next_offset: int) -> None:
        """Continue from a checkpoint: ``next_offset`` is the first offset not yet processed."""
        self._next[(topic, partition)] = next_offset

    def next_offset(self, topic: str, partition: int) -> int | None:
        """The next offset to process, or None when nothing of the partition was processed."""
        return self._next.get((topic, partition))

    def next_offsets(self, partition: int) -> dict[str, int]:
        """``{topic: next offset}`` of every topic's ``partition`` processed so far.

        >>> progress = PartitionProgress()
        >>> progress.processed("a", 0, offset=4); progress.resume("b", 0, 7); progress.processed("a", 1, 0)
        >>> progress.next_offsets(0)
        {'a': 5, 'b': 7}
        """
        return {topic: offset for (topic, p), offset in self._next.items() if p == partition}

    def forget(self, partitions: set[int]) -> None:
        """Drop the positions of partitions that moved to another worker."""
        self._next = {key: offset for key, offset in self._next.items() if key[1] not in partitions}

    def caught_up(self, topic: str, partition: int, highwater: int | None) -> bool | None:
        """True when every record below ``highwater`` is processed; None while the high watermark is
        unknown. A partition of which nothing was processed is caught up only while it is empty.

        >>> progress = PartitionProgress()
        >>> progress.processed("t", 0, offset=9)
        >>> progress.caught_up("t", 0, 10), progress.caught_up("t", 0, 12), progress.caught_up("t", 0, None)
        (True, False, None)
        >>> progress.caught_up("t", 1, 3), progress.caught_up("t", 1, 0)
        (False, True)
        """
        if highwater is None:
            return None
        return self._next.get((topic, partition), 0) >= highwater

    def lag(self, highwaters: Mapping[tuple[str, int], int | None]) -> dict[tuple[str, int], int]:
        """Lag of every partition with a known high watermark and a known position."""
        return {
            tp: max(0, high - self._next[tp])
            for tp, high in highwaters.items()
            if high is not None and tp in self._next
        }
