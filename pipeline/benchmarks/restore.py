"""Worker start → ready with many series of checkpointed detector state to restore.

The detector state topic is filled by the worker's own checkpoint writer
(:class:`~pipeline.state.checkpoint.DetectorCheckpoints`, signed envelopes of the live
detector), one record per series on the partition of its community, as a worker
that had run for a while would have left it. A worker is then started and timed
from process start to ``/ready``, which it reports only after reading its
partitions of the state topics to their end and installing every state.

To keep the set-up short, ``templates`` series are warmed with readings (past
the detector's warm-up) and every series is checkpointed from one of them;
every series still gets its own record, written and restored on its own.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from detectors.hold import CALIBRATION_READINGS
from pipeline.config import Settings
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames, partition_of
from pipeline.metrics_scrape import scrape, total
from pipeline.processing.processor import detector_for, series_kind
from pipeline.state.checkpoint import DetectorCheckpoints
from pipeline.state.checkpoint_generations import CheckpointMarker, marker_key
from pipeline.state.state_record import StateRecord
from pipeline.worker_process import WorkerProcess

STATE_KEY = "bench-restore-state-signing-key!"
DEVICES_PER_COMMUNITY = 100


@dataclass(frozen=True)
class RestoreFigure:
    """One measurement of start → ready with restored state."""

    series: int
    state_bytes: int
    """Sum of the checkpoint records' values."""
    prepare_s: float
    """Building and writing the checkpoints (not part of the figure)."""
    ready_s: float
    """Worker process start → ``/ready``."""
    restored: int
    """Detector states the worker reports restored (``riskwatch_restored_states_total``)."""
    monitored: int
    """Series the worker holds a model for once ready (``riskwatch_series_monitored``): restored
    models are verified before ready and unpickled when their series next reads, so this,
    not a warming-up count, says every state came back."""


def checkpoint_records(
    settings: Settings, key: bytes, series: int, partitions: int, templates: int = 500
) -> list[StateRecord]:
    """Checkpoint records of ``series`` warmed water-level series, from the worker's own writer."""
    bank = detector_for(settings)
    books = DetectorCheckpoints(bank, key, series_kind)
    rng = random.Random(3)
    warmed = []
    for t in range(min(templates, series)):
        name = f"bench-template-{t}/d0/water_level"
        for _ in range(settings.detector_warmup + CALIBRATION_READINGS + 10):  # warm and calibrated
            bank.observe(name, "water_level", 1.0 + rng.gauss(0.0, 0.01))
        detector = bank.get(name)
        assert detector is not None
        warmed.append(detector)
        bank.discard(name)
    for n in range(series):
        community = f"bench-c{n // DEVICES_PER_COMMUNITY}"
        name = f"{community}/d{n % DEVICES_PER_COMMUNITY}/water_level"
        bank.install(name, warmed[n % len(warmed)])  # shared: this bank is only ever saved
        books.touched(name, partition_of(community, partitions))
    return books.take()


async def _write(bootstrap: str, topics: TopicNames, records: Sequence[StateRecord], partitions: int) -> None:
    """Send the records as the worker's checkpoint timer does: key = series, to the record's
    partition; then each partition's marker into both state topics, which completes the
    generation (without it a worker restores nothing: :mod:`pipeline.state.checkpoint_generations`)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        for record in records:
            await producer.send(
                topics.detector_state, key=record.key.encode(), value=record.blob, partition=record.partition
            )
        marker = CheckpointMarker(generation=1, resume_at={}).encode()
        for partition in range(partitions):
            for topic in (topics.detector_state, topics.warnings_state):
                await producer.send(
                    topic, key=marker_key(partition).encode(), value=marker, partition=partition
                )
        await producer.flush()
    finally:
        await producer.stop()


def restore_ready_time(bootstrap: str, settings: Settings, series: int, data_dir: Path) -> RestoreFigure:
    """Fill the detector state topic of ``settings`` (a benchmark worker's, on the fresh broker at
    ``bootstrap``) with ``series`` states, start a worker and time it from start to ready."""
    worker_settings = settings.model_copy(update={"state_key": SecretStr(STATE_KEY)})
    ensure_topics(worker_settings, bootstrap)
    started = time.monotonic()
    records = checkpoint_records(worker_settings, STATE_KEY.encode(), series, worker_settings.partitions)
    topics = TopicNames.from_settings(worker_settings)
    asyncio.run(_write(bootstrap, topics, records, worker_settings.partitions))
    prepare_s = time.monotonic() - started
    with WorkerProcess(worker_settings, data_dir / "bench-restore-worker.log") as worker:
        ready_s = worker.wait_ready(max(120.0, series / 500))
        samples = scrape(worker.base_url)
    return RestoreFigure(
        series=series,
        state_bytes=sum(len(r.blob or b"") for r in records),
        prepare_s=round(prepare_s, 2),
        ready_s=round(ready_s, 2),
        restored=int(total(samples, "riskwatch_restored_states_total", state="detector", outcome="restored")),
        monitored=int(total(samples, "riskwatch_series_monitored")),
    )
