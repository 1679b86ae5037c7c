"""What a checkpoint writes (:class:`StateRecord`) and the cut it writes from (:class:`StateCut`).

A cut is taken under the processing lock, so it is a consistent picture of the states at
one instant together with the input position; its records may be made later, after the
lock is released (:class:`~pipeline.state.detector_cut.DetectorCut` pickles detector
models then), and must be what they would have been at that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StateRecord:
    """One state to write: its key (a series or a community), its partition and its bytes."""

    partition: int
    key: str
    blob: bytes | None
    """None is a tombstone: the key has no state any more."""


class StateCut(Protocol):
    """The states of a checkpoint, as they stood when the cut was taken."""

    def taken_keys(self) -> list[tuple[int, str]]:
        """(partition, key) of every state in the cut, in the order they are written."""
        ...

    def next_records(self, count: int) -> list[StateRecord]:
        """The next ``count`` records (fewer at the cut's end, none once all are made)."""
        ...

    def close(self) -> None:
        """The cut is written or abandoned: stop keeping its states as they were."""
        ...


class TakenCut:
    """A cut whose records were all made when it was taken (states cheap enough to make under
    the lock, such as the assessments' JSON).

    >>> cut = TakenCut([StateRecord(0, "c1", b"{}")])
    >>> cut.taken_keys(), cut.next_records(50), cut.next_records(50)
    ([(0, 'c1')], [StateRecord(partition=0, key='c1', blob=b'{}')], [])
    """

    def __init__(self, records: list[StateRecord]) -> None:
        self._records = records
        self._next = 0

    def taken_keys(self) -> list[tuple[int, str]]:
        """(partition, key) of every record."""
        return [(r.partition, r.key) for r in self._records]

    def next_records(self, count: int) -> list[StateRecord]:
        """The next ``count`` records."""
        chosen = self._records[self._next : self._next + count]
        self._next += len(chosen)
        return chosen

    def close(self) -> None:
        """Nothing is kept beyond the records themselves."""
