"""Which input offsets may be committed: a record counts once every delivery it started has an
outcome on ``riskwatch.deliveries`` (pure).

Deliveries finish out of order (one recipient is slow, another dead and retried),
so a partition's committable offset is one past the longest prefix of finished
records. A crash before the commit reads the unfinished records again; their
delivered idempotency keys are then skipped.

>>> offsets = PendingOffsets()
>>> offsets.add("t", 0, 10, 2); offsets.add("t", 0, 11, 1)
>>> offsets.finish("t", 0, 11); offsets.committable()
{}
>>> offsets.finish("t", 0, 10); offsets.committable()
{}
>>> offsets.finish("t", 0, 10); offsets.committable()
{('t', 0): 12}
>>> offsets.committable()   # nothing new since
{}
"""

from __future__ import annotations

from collections import OrderedDict

Partition = tuple[str, int]


class PendingOffsets:
    """Records in flight per partition, with how many of their deliveries are still open."""

    def __init__(self) -> None:
        self._open: dict[Partition, OrderedDict[int, int]] = {}
        self._next: dict[Partition, int] = {}
        self._committed: dict[Partition, int] = {}

    def add(self, topic: str, partition: int, offset: int, deliveries: int) -> None:
        """A record read at ``offset`` that started ``deliveries`` deliveries (0: done already)."""
        tp = (topic, partition)
        self._open.setdefault(tp, OrderedDict())[offset] = deliveries
        self._advance(tp)

    def finish(self, topic: str, partition: int, offset: int) -> None:
        """One delivery of the record at ``offset`` has its final outcome recorded."""
        tp = (topic, partition)
        pending = self._open.get(tp)
        if pending is None or offset not in pending:
            return  # the partition went to another consumer meanwhile
        pending[offset] -= 1
        self._advance(tp)

    def _advance(self, tp: Partition) -> None:
        pending = self._open[tp]
        while pending:
            offset, count = next(iter(pending.items()))
            if count > 0:
                return
            pending.popitem(last=False)
            self._next[tp] = offset + 1

    @property
    def in_flight(self) -> int:
        """Records read whose deliveries are not all finished."""
        return sum(len(pending) for pending in self._open.values())

    def committable(self) -> dict[Partition, int]:
        """Offsets to commit now (next record to read per partition), those not committed yet."""
        news = {tp: n for tp, n in self._next.items() if self._committed.get(tp) != n}
        self._committed.update(news)
        return news

    def forget(self, partitions: list[Partition]) -> None:
        """Partitions taken away by a rebalance: their new owner reads the open records again."""
        for tp in partitions:
            self._open.pop(tp, None)
            self._next.pop(tp, None)
            self._committed.pop(tp, None)
