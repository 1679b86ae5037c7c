"""Moving checkpoint books to and from their compacted topics (the Faust-facing half of state).

Written on a timer and for revoked partitions before they may move; restored for
partitions taken over before the worker reads them. A worker that is assigned a
partition it already held keeps its live state, which is at least as new as any
checkpoint. Each write is one generation per
input partition (:mod:`pipeline.state.checkpoint_generations`): states first, then, once
those and every output sent before them are acknowledged, a marker naming the input
offsets the generation covers. A restore folds each partition to its newest complete
generation and says where to resume. See :mod:`pipeline.state.checkpoint` for what is
written and :mod:`pipeline.kafka.state_store` for how partitions are read to their end.

Only the cut is taken under the processing lock (the changed keys, references to their
models, the resume position): the states are made and queued afterwards in slices of
:data:`SLICE_STATES`, each followed by a pause as long as the slice took, so readings
are served between slices and wait for one slice at most, not for every state
(:mod:`pipeline.state.detector_cut` keeps the states those of the cut).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from pipeline.kafka.kafka_security import KafkaSecurity
from pipeline.kafka.state_store import read_logs
from pipeline.metrics import PipelineMetrics
from pipeline.state.checkpoint import DirtyKeys, RestoreReport
from pipeline.state.checkpoint_generations import CheckpointMarker, fold_partition, marker_key
from pipeline.state.output_ledger import OutputLedger, Topic
from pipeline.state.state_record import StateCut

SLICE_STATES = 50
"""States made and queued between two turns of the event loop: pickling and signing 50 models
takes 2–4 ms, about as long as a due reading waits for a checkpoint (the pause after a slice is
as long again)."""


class CheckpointBook(Protocol):
    """What :class:`~pipeline.state.checkpoint.DetectorCheckpoints` and ``AssessmentCheckpoints`` share."""

    dirty: DirtyKeys

    def touched(self, key: str, partition: int) -> None:
        """``key`` (of input ``partition``) must be written by the next checkpoint."""
        ...

    def cut(self, partitions: Iterable[int] | None = None) -> StateCut:
        """What changed, as it is now (taken under the processing lock); its records are made
        after the lock is released."""
        ...

    def restore(self, states: Mapping[str, tuple[int, bytes]]) -> RestoreReport:
        """Install stored states."""
        ...

    def forget(self, partitions: Iterable[int]) -> int:
        """Drop the state of revoked partitions."""
        ...


PositionOf = Callable[[int], tuple[dict[str, int], dict[str, Any]]]
"""``position_of(partition)``: the next input offset per topic and the latest event time per
topic of a partition, as they stand now (called under the processing lock)."""


class TopicSource(Protocol):
    """Where the state topics are sent to: the worker's
    :class:`~pipeline.kafka.state_producer.StateProducer` (or a stand-in in a benchmark)."""

    def topic(self, name: str) -> Topic:
        """The topic ``name``."""
        ...


class StateSync:
    """One compacted topic per book; ``books`` maps a label (``detector``, ``assessment``) to
    ``(topic name, book)``, each sent to through ``producer``.

    ``processing`` is the lock every agent holds while it handles a message and queues its
    outputs: a checkpoint takes its states and position under it, so it never sees half a
    message. ``ledger`` is where those outputs were queued.
    """

    def __init__(
        self,
        producer: TopicSource,
        bootstrap_servers: str,
        security: KafkaSecurity,
        metrics: PipelineMetrics,
        books: dict[str, tuple[str, CheckpointBook]],
        ledger: OutputLedger,
        processing: asyncio.Lock,
        position_of: PositionOf,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._metrics = metrics
        self._books = books
        self._ledger = ledger
        self._processing = processing
        self._position_of = position_of
        self._topics = {label: producer.topic(name) for label, (name, _) in books.items()}
        self._writing = asyncio.Lock()
        """One write at a time: a generation's states precede its marker, the next one's follow it."""
        self._generation: dict[int, int] = {}
        self._marked: dict[int, CheckpointMarker] = {}
        self.owned: set[int] = set()
        """Input partitions whose state this worker holds."""
        self.last_written = time.monotonic()
        metrics.checkpoint_age.set_function(lambda: time.monotonic() - self.last_written)

    async def write(self, partitions: Iterable[int] | None = None) -> bool:
        """Write one generation for ``partitions`` (or every owned one); True once its markers are
        on the broker. On False nothing is lost: what failed is resent by the next write, and the
        resume point stays at the last complete generation."""
        async with self._writing:
            return await self._write(sorted(self.owned if partitions is None else partitions))

    async def _write(self, chosen: list[int]) -> bool:
        async with self._processing:
            cuts = {label: book.cut(chosen) for label, (_, book) in self._books.items()}
            positions = {p: self._position_of(p) for p in chosen}
        try:
            if not await self._send_states(cuts):
                return False
        finally:
            for cut in cuts.values():
                cut.close()
        if not await self._ledger.settle():
            return False
        changed = {partition for cut in cuts.values() for partition, _ in cut.taken_keys()}
        for partition in chosen:
            resume_at, stream_times = positions[partition]
            last = self._marked.get(partition)
            if partition not in changed and last is not None and last.resume_at == resume_at:
                continue
            generation = self._generation.get(partition, 0) + 1
            self._generation[partition] = generation
            marker = CheckpointMarker(generation=generation, resume_at=resume_at, stream_times=stream_times)
            for topic in self._topics.values():
                await self._ledger.send(topic, marker_key(partition).encode(), marker.encode(), partition)
            self._marked[partition] = marker
        if not await self._ledger.settle():
            return False
        for label, cut in cuts.items():
            self._metrics.checkpoint_records.labels(label).inc(len(cut.taken_keys()))
        self.last_written = time.monotonic()
        return True

    async def _send_states(self, cuts: dict[str, StateCut]) -> bool:
        """Queue every state of ``cuts`` once the outputs before them are on the broker, a slice
        at a time; False (the keys changed again, for the next write) if those outputs are not."""
        if not await self._ledger.settle():  # earlier outputs (and earlier failures) come first
            for label, cut in cuts.items():
                for partition, key in cut.taken_keys():
                    self._books[label][1].touched(key, partition)
            return False
        for label, cut in cuts.items():
            while True:
                started = time.perf_counter()
                records = cut.next_records(SLICE_STATES)
                if not records:
                    break
                for record in records:
                    await self._ledger.send(
                        self._topics[label], record.key.encode(), record.blob, record.partition
                    )
                await asyncio.sleep(time.perf_counter() - started)  # readings are served meanwhile
        return True

    async def restore(self, partitions: Iterable[int]) -> dict[int, CheckpointMarker | None]:
        """Read each book's partitions to their end, install their newest complete generation,
        and return each partition's marker (None: no generation was ever completed)."""
        chosen = sorted(partitions)
        logs = {
            label: await read_logs(self._bootstrap, topic, chosen, security=self._security)
            for label, (topic, _) in self._books.items()
        }
        markers: dict[int, CheckpointMarker | None] = {}
        for partition in chosen:
            fold = fold_partition({label: logs[label][partition] for label in self._books})
            self._generation[partition] = fold.newest_generation
            for label, (_, book) in self._books.items():
                report = book.restore({key: (partition, blob) for key, blob in fold.states[label].items()})
                self._count_restored(label, report)
                for key in fold.discarded[label]:  # rewritten, so no later fold takes them for current
                    book.touched(key, partition)
            markers[partition] = fold.marker
            if fold.marker is not None:
                self._marked[partition] = fold.marker
            self.owned.add(partition)
        return markers

    def _count_restored(self, label: str, report: RestoreReport) -> None:
        self._metrics.restored_states.labels(label, "restored").inc(report.restored)
        for reason, count in report.rejected.items():
            self._metrics.restored_states.labels(label, reason).inc(count)

    def rewrite(self, partitions: Iterable[int]) -> None:
        """Have the next write carry every state of ``partitions``, not only what changed: the
        broker lost what was written before."""
        chosen = set(partitions)
        for _, book in self._books.values():
            book.dirty.touch_all(chosen)
        for partition in chosen:
            self._marked.pop(partition, None)

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop every book's state of ``partitions`` (another worker owns them now)."""
        chosen = set(partitions)
        for _, book in self._books.values():
            book.forget(chosen)
        self.owned -= chosen
        for partition in chosen:
            self._marked.pop(partition, None)
