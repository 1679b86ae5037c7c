"""``riskwatch bench pipeline``: the full pipeline against raw consume + decode of the same messages.

One run, one fresh embedded broker (and one more for the restore phase):

1. **baseline** — aiokafka consumes every message and ``json.loads`` it;
1b. **Faust ceiling** — a no-op agent on the worker's Faust transport takes the same messages
   as the worker's ingest agent does and only ``json.loads`` them
   (:mod:`pipeline.benchmarks.faust_ceiling`): what Faust alone lets a worker reach;
2. **pipeline** — one ``riskwatch worker`` process ingests, validates, scores and
   assesses the same messages (progress read from its ``/metrics``);
3. **latency** — at half the measured pipeline rate, spikes in warmed series;
   produce → warning record received, p50/p99;
4. **latency baseline** — the same send at the same rate on fresh topics, through a
   bare aiokafka relay process instead of the worker
   (:mod:`pipeline.benchmarks.echo_relay`: consume, ``json.loads``, one record per
   spike; the same fetch wait): what the broker and the two Kafka hops cost alone;
5. **two workers** — the same messages on fresh topics, two workers in one group;
6. **memory** — bytes per series of the processing core with 10k and 100k series;
7. **restore** — worker start → ready with 100k series of checkpointed detector
   state to restore (:mod:`pipeline.benchmarks.restore`; a fresh broker of its own).

With a profile folder, py-spy samples the one worker during phase 2
(:mod:`pipeline.benchmarks.profiling`): the sampling costs the worker some CPU, so the
throughput of a profiled run reads low; measure and profile in separate runs.

Throughput is counted in readings/s; every phase sees the same bytes.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pipeline.benchmarks.broker_usage import process_usage
from pipeline.benchmarks.echo_relay import RelayProcess, await_positioned
from pipeline.benchmarks.faust_ceiling import faust_ceiling
from pipeline.benchmarks.profiling import profiled
from pipeline.benchmarks.restore import RestoreFigure, restore_ready_time
from pipeline.benchmarks.workload import Workload, spike_message
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.metrics_scrape import scrape, total
from pipeline.processing.processor import EventProcessor, InboundMessage
from pipeline.worker_process import WorkerProcess

EVENTS_METRIC = "riskwatch_events_received_total"
PROGRESS_POLL_S = 0.25
"""How often the throughput phases read the workers' ``/metrics``. A scrape walks every series
(the frozen and warming-up gauges): polled every 50 ms, scrapes took 23 % of the profiled
worker's samples, so the probe measured itself. Four a second keep the count's resolution
within 1 % of a phase of 25 s (a Prometheus server scrapes every 15 s)."""


def share(part: float, whole: float) -> float:
    """``part ÷ whole``, 0 while ``whole`` is not measured (0).

    >>> share(21.5, 86.0), share(1.0, 0.0)
    (0.25, 0.0)
    """
    return part / whole if whole else 0.0


@dataclass
class PipelineBenchReport:
    """Every figure of one benchmark run."""

    workload: dict[str, int]
    baseline_readings_per_s: float = 0.0
    faust_ceiling_readings_per_s: float = 0.0
    """A no-op agent on the worker's Faust transport, same messages (``json.loads`` only)."""
    pipeline_readings_per_s: float = 0.0
    two_workers_readings_per_s: float = 0.0
    latency_rate_readings_per_s: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    latency_samples: int = 0
    relay_latency_p50_ms: float = 0.0
    """Produce → record received through a bare aiokafka relay (the latency baseline), same rate."""
    relay_latency_p99_ms: float = 0.0
    relay_latency_samples: int = 0
    bytes_per_series: dict[str, float] = field(default_factory=dict)
    worker_ready_s: float = 0.0
    broker_cpu_s: float = 0.0
    broker_rss_mib: float = 0.0
    restore: RestoreFigure | None = None
    """Start → ready with many series of checkpointed state (on a fresh broker of its own)."""
    profiles: list[str] = field(default_factory=list)
    """The sampling profile files of the one worker's throughput phase (none unless asked for)."""

    @property
    def ratio(self) -> float:
        """Pipeline ÷ baseline, in readings/s."""
        return share(self.pipeline_readings_per_s, self.baseline_readings_per_s)

    @property
    def ceiling_ratio(self) -> float:
        """Faust ceiling ÷ baseline: the most a worker on Faust's per-event stream could reach."""
        return share(self.faust_ceiling_readings_per_s, self.baseline_readings_per_s)

    @property
    def scaling(self) -> float:
        """Two workers ÷ one worker."""
        return share(self.two_workers_readings_per_s, self.pipeline_readings_per_s)

    @property
    def latency_p99_ratio(self) -> float:
        """Latency p99 through the pipeline ÷ through the bare relay."""
        return share(self.latency_p99_ms, self.relay_latency_p99_ms)

    def as_table(self) -> str:
        """Human-readable result table."""
        w = self.workload
        rows = [
            (
                "workload",
                f"{w['readings']:,} readings in {w['messages']:,} messages of {w['devices']}"
                f" ({w['series']:,} series)",
            ),
            ("baseline: aiokafka consume + json.loads", f"{self.baseline_readings_per_s:,.0f} readings/s"),
            (
                "Faust ceiling: no-op agent + json.loads",
                f"{self.faust_ceiling_readings_per_s:,.0f} readings/s"
                f"   (÷ baseline {self.ceiling_ratio:.3f})",
            ),
            ("pipeline: 1 worker", f"{self.pipeline_readings_per_s:,.0f} readings/s"),
            ("ratio pipeline / baseline", f"{self.ratio:.3f}   (target >= 0.5)"),
            ("pipeline: 2 workers", f"{self.two_workers_readings_per_s:,.0f} readings/s"),
            ("scaling 2 workers / 1", f"{self.scaling:.2f}x   (target >= 1.8)"),
            (
                "latency produce -> warning",
                f"p50 {self.latency_p50_ms:.1f} ms, p99 {self.latency_p99_ms:.1f} ms"
                f" at {self.latency_rate_readings_per_s:,.0f} readings/s"
                f" ({self.latency_samples} warnings; target p99 <= 50 ms)",
            ),
            (
                "latency baseline: aiokafka relay, same rate",
                f"p50 {self.relay_latency_p50_ms:.1f} ms, p99 {self.relay_latency_p99_ms:.1f} ms"
                f" ({self.relay_latency_samples} records)",
            ),
            ("latency p99 pipeline / relay", f"{self.latency_p99_ratio:.2f}x"),
        ]
        rows += [
            (f"memory per series ({n})", f"{b:,.0f} B   (target <= 10 KiB)")
            for n, b in self.bytes_per_series.items()
        ]
        rows += [("worker start -> ready (empty state)", f"{self.worker_ready_s:.1f} s")]
        if self.restore is not None:
            r = self.restore
            rows.append(
                (
                    f"worker start -> ready ({r.series:,} series restored)",
                    f"{r.ready_s:.1f} s   (target <= 10 s; {r.restored:,} states restored,"
                    f" {r.monitored:,} series monitored, {r.state_bytes / 2**20:.0f} MiB of state)",
                )
            )
        rows += [("profile of the 1-worker phase (py-spy)", path) for path in self.profiles]
        rows += [
            (
                "broker (Tansu) over the run",
                f"{self.broker_cpu_s:.1f} CPU s, RSS {self.broker_rss_mib:.0f} MiB",
            ),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def as_json(self) -> str:
        """Machine-readable result."""
        figures = {
            "ratio": self.ratio,
            "ceiling_ratio": self.ceiling_ratio,
            "scaling": self.scaling,
            "latency_p99_ratio": self.latency_p99_ratio,
        }
        return json.dumps({**asdict(self), **figures}, indent=2)


async def produce_messages(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
    """Send every ``(key, value)`` of ``messages`` to ``topic`` as fast as aiokafka can, then flush."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def _consume_and_decode(bootstrap: str, topic: str, readings: int) -> float:
    """Seconds to consume and ``json.loads`` every message until ``readings`` are seen."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"bench-baseline-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    seen = 0
    try:
        started: float | None = None
        while seen < readings:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                started = started or time.perf_counter()
                for record in records:
                    seen += len(json.loads(record.value))
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        await consumer.stop()


def await_readings(workers: Sequence[WorkerProcess], readings: int, timeout_s: float) -> float:
    """Readings/s the workers processed, from the first counted reading to the last."""
    first: tuple[float, float] | None = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        count = sum(total(scrape(w.base_url), EVENTS_METRIC) for w in workers)
        now = time.monotonic()
        if count and first is None:
            first = (now, count)
        if count >= readings and first is not None:
            return (count - first[1]) / max(now - first[0], 1e-9)
        time.sleep(PROGRESS_POLL_S)
    raise TimeoutError(f"the workers did not process {readings} readings within {timeout_s} s")


def bench_settings(bootstrap: str, data_dir: Path, partitions: int) -> Settings:
    """Settings of a benchmark worker: an app id, topics and a web port of its own."""
    unique = uuid.uuid4().hex[:6]
    return Settings(
        bootstrap_servers=bootstrap,
        app_id=f"bench-{unique}",
        topic_prefix=f"bench{unique}.",
        partitions=partitions,
        web_port=free_port(),
        data_dir=data_dir,
    )


async def spike_latency(
    readings_topic: str,
    warnings_topic: str,
    bootstrap: str,
    background: Sequence[tuple[bytes, bytes]],
    rate: float,
    spike_communities: Sequence[str],
) -> list[float]:
    """Send the ``background`` messages to ``readings_topic`` at ``rate`` readings/s with one
    spike for each of ``spike_communities`` spread among them; return produce → first record
    (revision 1) of the spike's community received on ``warnings_topic``, in seconds. Whatever
    turns readings into warnings (the worker, the relay) must be running and caught up, and no
    spiked community may have an open warning (it would not start at revision 1)."""
    consumer = AIOKafkaConsumer(
        warnings_topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        group_id=f"bench-latency-{uuid.uuid4().hex[:6]}",
        fetch_max_wait_ms=5,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await consumer.start()
    await producer.start()
    spikes = len(spike_communities)
    sent: dict[str, float] = {}
    latencies: list[float] = []

    async def collect() -> None:
        while len(latencies) < spikes:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    warning = json.loads(record.value)
                    community = warning["community_id"]
                    if community in sent and warning["revision"] == 1:
                        latencies.append(time.perf_counter() - sent.pop(community))

    collector: asyncio.Task[None] | None = None
    try:
        # Positioned at the end before the first spike: no warning is missed or taken from before.
        await await_positioned(consumer, timeout_s=30)
        collector = asyncio.create_task(collect())
        readings_per_message = len(json.loads(background[0][1])) if background else 1
        interval = readings_per_message / rate
        every = max(1, len(background) // max(1, spikes))
        next_send = time.perf_counter()
        for i, (key, value) in enumerate(background):
            await producer.send(readings_topic, key=key, value=value)
            if i % every == 0 and i // every < spikes:
                community = spike_communities[i // every]
                spike_key, spike_value = spike_message(community, 0, datetime.now(UTC))
                sent[community] = time.perf_counter()
                await producer.send(readings_topic, key=spike_key, value=spike_value)
            next_send += interval
            await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
        await asyncio.wait_for(collector, timeout=30)
    finally:
        if collector is not None:
            collector.cancel()
        await producer.stop()
        await consumer.stop()
    return latencies


def percentiles_ms(latencies: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 of latencies in seconds, in milliseconds (0 for none).

    >>> percentiles_ms([0.001 * n for n in range(1, 101)])
    (50.5, 100.0)
    """
    if not latencies:
        return 0.0, 0.0
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def relay_latency(
    bootstrap: str,
    data_dir: Path,
    partitions: int,
    background: Sequence[tuple[bytes, bytes]],
    rate: float,
    spike_communities: Sequence[str],
) -> list[float]:
    """The latency phase (:func:`spike_latency`) through a bare aiokafka relay on fresh topics
    of its own."""
    settings = bench_settings(bootstrap, data_dir, partitions)
    ensure_topics(settings, bootstrap)
    topics = TopicNames.from_settings(settings)
    with RelayProcess(
        bootstrap,
        topics.readings,
        topics.warnings,
        settings.consumer_fetch_max_wait_ms,
        f"{settings.app_id}-relay",
        data_dir / "bench-relay.log",
    ) as relay:
        relay.wait_ready(60)
        return asyncio.run(
            spike_latency(topics.readings, topics.warnings, bootstrap, background, rate, spike_communities)
        )


def bytes_per_series(series: int) -> float:
    """Traced Python memory of the processing core per series, after two readings each."""
    settings = Settings()
    topic = TopicNames.from_settings(settings).readings
    workload = Workload(communities=max(1, series // 100), devices=min(series, 100), ticks=2)
    messages = workload.messages()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    processor = EventProcessor(settings, PipelineMetrics(), SystemClock())
    for offset, (key, value) in enumerate(messages):
        processor.handle(InboundMessage(topic, 0, offset, key, value))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / workload.series


def run_pipeline_bench(
    *,
    communities: int,
    devices: int,
    ticks: int,
    partitions: int,
    data_dir: Path,
    memory_series: Sequence[int] = (10_000, 100_000),
    restore_series: int = 100_000,
    profile_dir: Path | None = None,
) -> PipelineBenchReport:
    """Run every phase on a fresh embedded broker and return the figures; the restore phase
    (skipped when ``restore_series`` is 0) gets a fresh broker of its own, so the volume the
    other phases left in Tansu's memory storage does not weigh on it. With ``profile_dir``,
    the one worker's throughput phase is sampled into it."""
    workload = Workload(communities=communities, devices=devices, ticks=ticks)
    messages = workload.messages()
    spiked = workload.community_ids()[:200]
    report = PipelineBenchReport(
        workload={
            "communities": communities,
            "devices": devices,
            "ticks": ticks,
            "series": workload.series,
            "readings": workload.readings,
            "messages": len(messages),
            "partitions": partitions,
        }
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_file=data_dir / "bench-broker.log") as broker:
        assert broker.pid is not None
        broker_start = process_usage(broker.pid)
        bootstrap = broker.bootstrap_servers
        one = bench_settings(bootstrap, data_dir, partitions)
        ensure_topics(one, bootstrap)
        readings_topic = TopicNames.from_settings(one).readings
        asyncio.run(produce_messages(bootstrap, readings_topic, messages))
        report.baseline_readings_per_s = workload.readings / asyncio.run(
            _consume_and_decode(bootstrap, readings_topic, workload.readings)
        )
        report.faust_ceiling_readings_per_s = faust_ceiling(
            bootstrap, readings_topic, workload.readings, data_dir
        )
        with WorkerProcess(one, data_dir / "bench-worker-1.log") as worker:
            report.worker_ready_s = worker.wait_ready(60)
            with profiled(worker.process.pid, profile_dir) as profiles:
                report.pipeline_readings_per_s = await_readings([worker], workload.readings, 600)
            report.profiles = [str(path) for path in profiles]
            report.latency_rate_readings_per_s = report.pipeline_readings_per_s / 2
            topics = TopicNames.from_settings(worker.settings)
            latencies = asyncio.run(
                spike_latency(
                    topics.readings,
                    topics.warnings,
                    bootstrap,
                    workload.messages(),
                    report.latency_rate_readings_per_s,
                    spiked,
                )
            )
        report.latency_samples = len(latencies)
        report.latency_p50_ms, report.latency_p99_ms = percentiles_ms(latencies)
        relayed = relay_latency(
            bootstrap, data_dir, partitions, workload.messages(), report.latency_rate_readings_per_s, spiked
        )
        report.relay_latency_samples = len(relayed)
        report.relay_latency_p50_ms, report.relay_latency_p99_ms = percentiles_ms(relayed)
        two = bench_settings(bootstrap, data_dir, partitions)
        ensure_topics(two, bootstrap)
        asyncio.run(produce_messages(bootstrap, TopicNames.from_settings(two).readings, messages))
        second = two.model_copy(update={"web_port": free_port()})
        with (
            WorkerProcess(two, data_dir / "bench-worker-2a.log") as a,
            WorkerProcess(second, data_dir / "bench-worker-2b.log") as b,
        ):
            a.wait_ready(60)
            b.wait_ready(60)
            report.two_workers_readings_per_s = await_readings([a, b], workload.readings, 600)
        broker_end = process_usage(broker.pid)
        report.broker_cpu_s = broker_end.cpu_s - broker_start.cpu_s
        report.broker_rss_mib = broker_end.rss_bytes / 2**20
    if restore_series:
        with EmbeddedBroker(log_file=data_dir / "bench-restore-broker.log") as fresh:
            restoring = bench_settings(fresh.bootstrap_servers, data_dir, partitions)
            report.restore = restore_ready_time(fresh.bootstrap_servers, restoring, restore_series, data_dir)
    report.bytes_per_series = {f"{n:,} series": bytes_per_series(n) for n in memory_series}
    return report
