"""``riskwatch bench scrape``: how long a worker takes to render ``/metrics`` at district scale.

A real :class:`~pipeline.processing.processor.EventProcessor` fills its
:class:`~pipeline.metrics.PipelineMetrics` the way a worker does: ``communities``
gateways send water-level batches until ``series`` detectors are warm and calibrated
(:mod:`detectors.hold`), then the first ``warnings`` communities spike and open a
warning each. Consumer lag is
tracked for every input partition, one message is dead-lettered, the broker
gauge is set. The exposition (what the ``/metrics`` view returns, without HTTP)
is then rendered ``rounds`` times.

>>> report = run_scrape_bench(Settings(detector_warmup=3), communities=2, series=4, warnings=1, rounds=3)
>>> (report.series_monitored, report.warnings_active, report.rounds)
(4, 1, 3)
"""

from __future__ import annotations

import json
import statistics
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from detectors.hold import CALIBRATION_READINGS
from pipeline.benchmarks.workload import Workload, spike_message
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.processor import EventProcessor, InboundMessage

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
"""Event time of the workload's last tick; the processor's clock follows it."""


@dataclass
class ScrapeBenchReport:
    """The workload behind the exposition and how long rendering it took."""

    communities: int
    series_monitored: int
    warnings_active: int
    fill_s: float
    rounds: int
    render_ms_median: float
    render_ms_max: float
    exposition_bytes: int
    exposition_lines: int
    samples: int

    def as_table(self) -> str:
        """Human-readable result table."""
        rows = [
            (
                "filled",
                f"{self.communities:,} communities, {self.series_monitored:,} series,"
                f" {self.warnings_active} active warnings ({self.fill_s:.1f} s)",
            ),
            (
                f"render /metrics ({self.rounds} rounds)",
                f"median {self.render_ms_median:.2f} ms, max {self.render_ms_max:.2f} ms",
            ),
            (
                "exposition",
                f"{self.exposition_bytes:,} bytes, {self.exposition_lines:,} lines, {self.samples:,} samples",
            ),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def as_json(self) -> str:
        """Machine-readable result."""
        return json.dumps(asdict(self), indent=2)


def filled_processor(settings: Settings, communities: int, series: int, warnings: int) -> EventProcessor:
    """A processor (with fresh metrics) that has seen ``series`` series in ``communities``
    communities and holds an open warning in each of the first ``warnings`` of them."""
    if communities < 1 or series < communities or series % communities or not 0 <= warnings <= communities:
        raise ValueError(
            f"series ({series}) must be a positive multiple of communities ({communities}),"
            f" and warnings ({warnings}) between 0 and one per community"
        )
    if warnings and series < 2 * communities:
        raise ValueError(
            "a warning rests on two gauges of its community: series must be at least 2 x communities"
        )
    topics = TopicNames.from_settings(settings)
    workload = Workload(
        communities=communities,
        devices=series // communities,
        ticks=settings.detector_warmup + CALIBRATION_READINGS + 2,
    )
    clock = ManualClock(START + timedelta(seconds=3))
    metrics = PipelineMetrics()
    processor = EventProcessor(settings, metrics, clock)
    sent_at = clock.now().timestamp() - 0.01
    messages = workload.messages(START)
    messages += [spike_message(f"bench-c{c}", 0, START + timedelta(seconds=2)) for c in range(warnings)]
    messages.append((b"bench-c0", b"not json"))
    for offset, (key, value) in enumerate(messages):
        partition = zlib.crc32(key) % settings.partitions  # keyed by community, as producers do
        processor.handle(InboundMessage(topics.readings, partition, offset, key, value, timestamp_s=sent_at))
    lag = {(topic, p): 0 for topic in topics.input_kinds() for p in range(settings.partitions)}
    metrics.track_consumer_lag(lambda: lag)
    metrics.broker_connected.set(1)
    return processor


def run_scrape_bench(
    settings: Settings, *, communities: int, series: int, warnings: int, rounds: int
) -> ScrapeBenchReport:
    """Fill a worker's metrics, render them ``rounds`` times, and return the figures."""
    started = time.perf_counter()
    processor = filled_processor(settings, communities, series, warnings)
    fill_s = time.perf_counter() - started
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        exposition = processor.metrics.exposition()
        timings.append((time.perf_counter() - started) * 1000)
    lines = exposition.decode().splitlines()
    return ScrapeBenchReport(
        communities=communities,
        series_monitored=len(processor.detectors),
        warnings_active=len(processor.assessor.open_warnings()),
        fill_s=fill_s,
        rounds=rounds,
        render_ms_median=statistics.median(timings),
        render_ms_max=max(timings),
        exposition_bytes=len(exposition),
        exposition_lines=len(lines),
        samples=sum(1 for line in lines if not line.startswith("#")),
    )
