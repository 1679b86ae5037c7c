"""One content per (warning id, revision), even when a replay after a crash decides otherwise.

A worker that takes a partition over resumes at its last checkpoint and processes
again what came after it. Decisions follow event time, but readings, telemetry and
reports arrive on three topics, and a catch-up reads them in another interleaving
than live traffic did: a report may now be folded in before a reading it followed
the first time. The replay may then re-derive a revision the first run already
emitted, with other content. Consumers keep one record per (warning id, revision),
so that record must never change.

:class:`RevisionFence` learns, at takeover, every revision already on the warnings
topic. A replayed revision that is already there with the same bytes is not sent
again; one that differs is renumbered past everything emitted for its warning (and
so are its successors), so the warning's highest revision is still its current
state and no revision number ever means two contents.

>>> fence = RevisionFence()
>>> fence.learn(0, "w1", 1, b"opened"); fence.learn(0, "w1", 2, b"escalated")
>>> fence.admit("w1", 1, lambda r: b"opened"), fence.admit("w1", 2, lambda r: f"other r{r}".encode())
(None, 3)
>>> fence.admit("w1", 3, lambda r: b"resolved"), fence.admit("w2", 1, lambda r: b"new")
(4, 1)
"""

from __future__ import annotations

from collections.abc import Callable


class RevisionFence:
    """Revisions already emitted per warning, and the renumbering of warnings whose replay diverged."""

    def __init__(self) -> None:
        self._emitted: dict[str, dict[int, bytes]] = {}
        self._shift: dict[str, int] = {}
        self._partition_of: dict[str, int] = {}

    def learn(self, partition: int, warning_id: str, revision: int, value: bytes) -> None:
        """``revision`` of ``warning_id`` is on partition ``partition`` of the warnings topic as ``value``."""
        self._emitted.setdefault(warning_id, {})[revision] = value
        self._partition_of[warning_id] = partition

    def admit(self, warning_id: str, revision: int, render: Callable[[int], bytes]) -> int | None:
        """The revision number to emit the assessment's ``revision`` under, or None when exactly
        that record is on the topic already. ``render(number)`` is the record's bytes under a number."""
        number = revision + self._shift.get(warning_id, 0)
        emitted = self._emitted.get(warning_id)
        if not emitted or number > max(emitted):
            return number
        if emitted.get(number) == render(number):
            return None
        shift = max(emitted) + 1 - revision
        self._shift[warning_id] = shift
        return revision + shift

    def forget(self, partitions: set[int]) -> None:
        """Drop what is known of the warnings of partitions that moved to another worker."""
        gone = [w for w, p in self._partition_of.items() if p in partitions]
        for warning_id in gone:
            del self._partition_of[warning_id]
            self._emitted.pop(warning_id, None)
            self._shift.pop(warning_id, None)
