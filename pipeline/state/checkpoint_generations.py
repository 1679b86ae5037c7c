"""Checkpoint generations: which stored states belong together, and where a restored worker resumes.

The one hard decision here: **state and input offsets move together through the state
topics, not through the consumer group's committed offsets.** A checkpoint of input
partition ``p`` is one *generation*: the changed states of every state topic's
partition ``p`` are written first, then — only once the broker has acknowledged them
and every output record the covered inputs produced — one :class:`CheckpointMarker`
per state topic partition, naming the generation and the input offsets it covers.

A worker that takes partition ``p`` over folds each state topic's partition ``p`` up
to the marker of the newest generation present in *all* of them
(:func:`fold_partition`) and resumes reading its inputs exactly at the offsets that
marker names. Records written after that marker belong to a generation whose writer
died before finishing it: they are set aside, and their keys are rewritten by the
next generation (the restored value, or a tombstone), so a later fold never sees them
as current. Faust's own commits may run ahead of the marker; they serve lag displays,
never the resume point.

>>> marker = CheckpointMarker(generation=1, resume_at={"readings": 5})
>>> done = fold_partition({"detector": [("s1", b"old"), (marker_key(0), marker.encode()), ("s1", b"new")]})
>>> done.marker.resume_at, done.states["detector"], sorted(done.discarded["detector"])
({'readings': 5}, {'s1': b'old'}, ['s1'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ValidationError

MARKER_KEY_PREFIX = "checkpoint:"
"""Keys of markers (``checkpoint:<partition>``); no series or community key starts so."""


def marker_key(partition: int) -> str:
    """The key of partition ``partition``'s marker."""
    return f"{MARKER_KEY_PREFIX}{partition}"


class CheckpointMarker(BaseModel):
    """The end of one complete checkpoint generation of an input partition."""

    generation: int
    resume_at: dict[str, int]
    """Per input topic, the next offset of this partition that the state does not yet reflect."""
    stream_times: dict[str, datetime] = {}
    """Per input topic, the latest event time processed on this partition (device silence is
    judged against it)."""

    def encode(self) -> bytes:
        """The marker's record value (JSON)."""
        return self.model_dump_json().encode()


StoredRecord = tuple[str, bytes | None]
"""A state topic record as :func:`fold_partition` reads it: key and value (None: tombstone)."""


@dataclass
class PartitionFold:
    """One partition's states as of its newest complete generation."""

    marker: CheckpointMarker | None
    """None when no generation was ever completed: the state is empty and reflects no input."""
    states: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """Per state topic label, the value of every key as of the marker."""
    discarded: dict[str, set[str]] = field(default_factory=dict)
    """Per label, keys written after the marker by a generation that never completed."""
    newest_generation: int = 0
    """The highest generation number seen anywhere: the next writer continues above it."""
    unreadable_markers: int = 0


def _markers(records: Sequence[StoredRecord]) -> tuple[dict[int, int], int]:
    """``{generation: index of its last marker}`` in ``records``, and how many markers were unreadable."""
    found: dict[int, int] = {}
    unreadable = 0
    for index, (key, value) in enumerate(records):
        if key.startswith(MARKER_KEY_PREFIX) and value is not None:
            try:
                found[CheckpointMarker.model_validate_json(value).generation] = index
            except ValidationError:
                unreadable += 1
    return found, unreadable


def fold_partition(logs: Mapping[str, Sequence[StoredRecord]]) -> PartitionFold:
    """Fold each label's records of one partition (in offset order) to the newest generation
    whose marker stands in every label's log."""
    markers: dict[str, dict[int, int]] = {}
    unreadable = 0
    for label, records in logs.items():
        markers[label], bad = _markers(records)
        unreadable += bad
    complete = set.intersection(*(set(found) for found in markers.values())) if markers else set()
    newest = max((g for found in markers.values() for g in found), default=0)
    generation = max(complete) if complete else None
    fold = PartitionFold(marker=None, newest_generation=newest, unreadable_markers=unreadable)
    for label, records in logs.items():
        cut = markers[label][generation] if generation is not None else -1
        states: dict[str, bytes] = {}
        for key, value in records[: cut + 1]:
            if key.startswith(MARKER_KEY_PREFIX):
                continue
            if value is None:
                states.pop(key, None)
            else:
                states[key] = value
        fold.states[label] = states
        fold.discarded[label] = {
            key for key, _ in records[cut + 1 :] if not key.startswith(MARKER_KEY_PREFIX)
        }
        if generation is not None:
            value = records[cut][1]
            assert value is not None  # a marker index always points at a readable marker
            fold.marker = CheckpointMarker.model_validate_json(value)
    return fold
