"""``riskwatch bench checkpoint``: how long a checkpoint holds the processing lock, and how long
a reading that falls due meanwhile waits, in one process on in-memory topics.

``series`` warmed water-level series, all changed before each checkpoint (as in the latency
bench, where every series reads every second). Readings fall due on a fixed schedule (a
message of ``devices`` readings every ``devices / rate`` s); each waits for the lock, then
its series learn. Two ways of checkpointing are compared in the same run:

* ``stop-the-world``: every state is pickled and signed under the lock, then queued (what
  the worker did before the copy-on-write cut);
* ``cut``: the worker's own :class:`~pipeline.state.state_sync.StateSync` write, which takes
  a :class:`~pipeline.state.detector_cut.DetectorCut` under the lock and makes the states
  after it, a slice at a time.

The broker is left out (topics acknowledge at once): the figures are the worker's own. As
the worker does once its app is built, what exists before the series are made is frozen out
of the garbage collector's scans (:func:`~pipeline.commands.worker.freeze_long_lived`).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from detectors.hold import CALIBRATION_READINGS
from pipeline.assess.assessor import Assessor
from pipeline.clock import SystemClock
from pipeline.commands.worker import freeze_long_lived
from pipeline.config import Settings
from pipeline.metrics import PipelineMetrics
from pipeline.processing.processor import detector_for, series_kind
from pipeline.state.checkpoint import AssessmentCheckpoints, DetectorCheckpoints
from pipeline.state.output_ledger import OutputLedger
from pipeline.state.state_sync import StateSync

KEY = b"bench-checkpoint-state-signing!!"


class MemoryTopic:
    """A topic that acknowledges every record at once and keeps nothing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        """The topic's name."""
        return self.name

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None) -> Awaitable[Any]:
        """Acknowledged already."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class MemoryApp:
    """What :class:`StateSync` asks of the Faust app: topics by name."""

    def topic(self, name: str) -> MemoryTopic:
        """A new in-memory topic."""
        return MemoryTopic(name)


class TimedLock(asyncio.Lock):
    """The processing lock, noting its longest hold."""

    def __init__(self) -> None:
        super().__init__()
        self.longest_s = 0.0
        self._since = 0.0

    async def acquire(self) -> Literal[True]:
        """Acquire, and note when."""
        await super().acquire()
        self._since = time.perf_counter()
        return True

    def release(self) -> None:
        """Release, and note how long it was held."""
        self.longest_s = max(self.longest_s, time.perf_counter() - self._since)
        super().release()


@dataclass(frozen=True)
class CheckpointFigure:
    """One checkpoint of every series, one way."""

    way: str
    series: int
    lock_held_ms: float
    """The longest hold of the processing lock during the checkpoint (a reading's included)."""
    longest_wait_ms: float
    """The longest a reading waited past its due time for its series to learn it."""
    checkpoint_ms: float
    """The checkpoint from start to every state queued and acknowledged."""


@dataclass(frozen=True)
class CheckpointReport:
    """Every round of both ways."""

    figures: list[CheckpointFigure]

    def as_table(self) -> str:
        """Human-readable rows."""
        return "\n".join(
            f"{f.way:>15}  {f.series:,} series: lock held {f.lock_held_ms:.1f} ms, "
            f"longest wait of a reading {f.longest_wait_ms:.1f} ms, checkpoint {f.checkpoint_ms:.0f} ms"
            for f in self.figures
        )

    def as_json(self) -> str:
        """Machine-readable rows."""
        return json.dumps([asdict(f) for f in self.figures], indent=2)


def warmed_books(
    settings: Settings, series: int, devices: int
) -> tuple[DetectorCheckpoints, list[list[str]]]:
    """Checkpoint books over ``series`` warmed and calibrated series, and the series of each
    community (``devices`` each)."""
    bank = detector_for(settings)
    books = DetectorCheckpoints(bank, KEY, series_kind)
    rng = random.Random(5)
    names = [f"bench-c{n // devices}/d{n % devices}/water_level" for n in range(series)]
    for name in names:
        for _ in range(settings.detector_warmup + CALIBRATION_READINGS + 10):
            bank.observe(name, "water_level", 1.0 + rng.gauss(0.0, 0.01))
    return books, [names[c : c + devices] for c in range(0, series, devices)]


async def _round(
    way: str,
    books: DetectorCheckpoints,
    communities: list[list[str]],
    rate: float,
    checkpoint: Callable[[TimedLock], Awaitable[Any]],
    lock: TimedLock,
) -> CheckpointFigure:
    """Readings on schedule while one checkpoint of every series runs."""
    for community in communities:
        for name in community:
            books.touched(name, 0)
    period = len(communities[0]) / rate
    waits: list[float] = []
    done = asyncio.Event()
    rng = random.Random(9)

    async def readings() -> None:
        due = time.perf_counter()
        for n in range(10**9):
            due += period
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            async with lock:
                for name in communities[n % len(communities)]:
                    books.bank.observe(name, "water_level", 1.0 + rng.gauss(0.0, 0.01))
                    books.touched(name, 0)
            waits.append(time.perf_counter() - due)
            if done.is_set():
                return

    reading = asyncio.create_task(readings())
    await asyncio.sleep(0.2)  # readings on schedule before the checkpoint
    lock.longest_s = 0.0
    waits.clear()
    started = time.perf_counter()
    await checkpoint(lock)
    checkpoint_s = time.perf_counter() - started
    done.set()
    await reading
    return CheckpointFigure(
        way, len(books.dirty.partition_of), lock.longest_s * 1000, max(waits) * 1000, checkpoint_s * 1000
    )


async def _bench(settings: Settings, series: int, devices: int, rate: float, rounds: int) -> CheckpointReport:
    freeze_long_lived()
    books, communities = warmed_books(settings, series, devices)
    ledger = OutputLedger(lambda topic: None)
    lock = TimedLock()
    sync = StateSync(
        MemoryApp(),
        "unused:9092",
        settings.kafka,
        PipelineMetrics(),
        {
            "detector": ("detector-state", books),
            "assessment": (
                "assessment-state",
                AssessmentCheckpoints(Assessor(settings.assessment, SystemClock())),
            ),
        },
        ledger,
        lock,
        lambda partition: ({}, {}),
    )
    sync.owned.add(0)
    topic = MemoryTopic("detector-state")

    async def stop_the_world(lock: TimedLock) -> None:
        async with lock:
            records = books.take()
        for record in records:
            await ledger.send(topic, record.key.encode(), record.blob, record.partition)
        await ledger.settle()

    async def cut(lock: TimedLock) -> None:
        await sync.write()

    figures = []
    for _ in range(rounds):
        figures.append(await _round("stop-the-world", books, communities, rate, stop_the_world, lock))
        figures.append(await _round("cut", books, communities, rate, cut, lock))
    return CheckpointReport(figures)


def run_checkpoint_bench(
    settings: Settings, series: int, devices: int, rate: float, rounds: int
) -> CheckpointReport:
    """Both ways of checkpointing ``series`` series, ``rounds`` times each, under readings at ``rate``/s."""
    if series < devices or series % devices or rate <= 0 or rounds < 1:
        raise ValueError("series must be a positive multiple of devices; rate and rounds positive")
    return asyncio.run(_bench(settings, series, devices, rate, rounds))
