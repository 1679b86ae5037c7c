"""A checkpoint writes its marker only once its states and the outputs before it are on the broker."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from detectors.ewma import EwmaZScore
from detectors.series import SeriesDetectors
from pipeline.assess.assessor import Assessor
from pipeline.assess.config import AssessmentConfig
from pipeline.clock import ManualClock
from pipeline.kafka.kafka_security import KafkaSecurity
from pipeline.metrics import PipelineMetrics
from pipeline.state.checkpoint import AssessmentCheckpoints, DetectorCheckpoints
from pipeline.state.checkpoint_generations import MARKER_KEY_PREFIX, CheckpointMarker
from pipeline.state.output_ledger import OutputLedger
from pipeline.state.state_sync import SLICE_STATES, StateSync

AT = datetime(2026, 11, 23, tzinfo=UTC)


class BrokerTopic:
    """A topic that fails the next ``failing`` deliveries and keeps what it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing = 0
        self.stored: list[tuple[str, bytes | None]] = []

    def get_topic_name(self) -> str:
        return self.name

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None) -> Awaitable[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.failing:
            self.failing -= 1
            future.set_exception(RuntimeError("UnknownError"))
        else:
            self.stored.append(((key or b"").decode(), value))
            future.set_result("metadata")
        return future

    def markers(self) -> list[CheckpointMarker]:
        return [
            CheckpointMarker.model_validate_json(value)
            for key, value in self.stored
            if key.startswith(MARKER_KEY_PREFIX) and value is not None
        ]


class Broker:
    """What :class:`StateSync` asks of the Faust app: topics by name."""

    def __init__(self) -> None:
        self.topics: dict[str, BrokerTopic] = {}

    def topic(self, name: str) -> BrokerTopic:
        return self.topics.setdefault(name, BrokerTopic(name))


async def test_a_failed_state_send_withholds_the_marker_until_a_later_write_delivers_it() -> None:
    broker = Broker()
    metrics = PipelineMetrics()
    failures: Counter[str] = Counter()
    ledger = OutputLedger(lambda topic: failures.update([topic]))
    bank = SeriesDetectors(lambda kind: EwmaZScore(warmup=3))
    detectors = DetectorCheckpoints(bank, b"k" * 32, lambda series: series.rsplit("/", 1)[-1])
    assessments = AssessmentCheckpoints(Assessor(AssessmentConfig(), ManualClock(AT)))
    position = {"readings": 41}
    sync = StateSync(
        broker,
        "unused:9092",
        KafkaSecurity(),
        metrics,
        {"detector": ("detector-state", detectors), "assessment": ("assessment-state", assessments)},
        ledger,
        asyncio.Lock(),
        lambda partition: (dict(position), {}),
    )
    sync.owned.add(0)
    bank.observe("c1/d1/water_level", "water_level", 1.0)
    detectors.touched("c1/d1/water_level", 0)
    await ledger.send(broker.topic("warnings"), b"c1", b"an output of the covered inputs")
    state_topic = broker.topic("detector-state")
    state_topic.failing = 1  # the state record fails; the ledger resends it at once

    assert not await sync.write()
    assert state_topic.markers() == [] and broker.topic("assessment-state").markers() == []
    assert failures["detector-state"] == 1
    assert broker.topic("warnings").stored == [("c1", b"an output of the covered inputs")]

    position["readings"] = 57
    assert await sync.write()
    keys = [key for key, _ in state_topic.stored]
    assert keys == ["c1/d1/water_level", f"{MARKER_KEY_PREFIX}0"], "the state comes before its marker"
    [marker] = state_topic.markers()
    assert marker.resume_at == {"readings": 57} and broker.topic("assessment-state").markers() == [marker]
    assert await sync.write()
    assert state_topic.markers() == [marker], "nothing changed and nothing read: no new generation"


def warmed(bank: SeriesDetectors, detectors: DetectorCheckpoints, series: list[str]) -> None:
    for name in series:
        for value in (1.0, 1.2, 0.9, 1.1):
            bank.observe(name, "water_level", value)
        detectors.touched(name, 0)


async def test_readings_are_served_between_slices_and_the_states_written_are_those_of_the_cut() -> None:
    series = [f"c1/d{n}/water_level" for n in range(3 * SLICE_STATES)]
    twin = SeriesDetectors(lambda kind: EwmaZScore(warmup=3))
    twin_books = DetectorCheckpoints(twin, b"k" * 32, lambda s: s.rsplit("/", 1)[-1])
    warmed(twin, twin_books, series)
    snapshot = [(r.key, r.blob) for r in twin_books.take()]
    broker = Broker()
    bank = SeriesDetectors(lambda kind: EwmaZScore(warmup=3))
    detectors = DetectorCheckpoints(bank, b"k" * 32, lambda s: s.rsplit("/", 1)[-1])
    warmed(bank, detectors, series)
    processing = asyncio.Lock()
    sync = StateSync(
        broker,
        "unused:9092",
        KafkaSecurity(),
        PipelineMetrics(),
        {
            "detector": ("detector-state", detectors),
            "assessment": (
                "assessment-state",
                AssessmentCheckpoints(Assessor(AssessmentConfig(), ManualClock(AT))),
            ),
        },
        OutputLedger(lambda topic: None),
        processing,
        lambda partition: ({"readings": 9}, {}),
    )
    sync.owned.add(0)
    state_topic = broker.topic("detector-state")
    first_state = asyncio.Event()
    sent = state_topic.send

    async def noting_send(*, key: bytes | None, value: bytes | None, partition: int | None) -> Awaitable[Any]:
        first_state.set()
        return await sent(key=key, value=value, partition=partition)

    state_topic.send = noting_send  # type: ignore[method-assign]
    writing = asyncio.create_task(sync.write())
    await first_state.wait()
    async with processing:  # a reading, while the checkpoint is still making its states
        queued = len(state_topic.stored)
        for name in series:
            bank.observe(name, "water_level", 40.0)
            detectors.touched(name, 0)
    assert await writing
    assert queued < len(series), "the reading was served before every state was made"
    assert [(key, value) for key, value in state_topic.stored if key in series] == snapshot
