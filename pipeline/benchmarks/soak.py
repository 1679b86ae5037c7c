"""``riskwatch bench soak``: one worker under a steady load for minutes; does anything creep?

On a fresh embedded broker, one ``riskwatch worker`` process gets the benchmark
workload (:class:`~pipeline.benchmarks.workload.Workload`: gateway batches of
water-level readings) at a steady rate: half of the maximum it measures first
(the same way ``riskwatch bench pipeline`` does), or ``--rate``. Every few
seconds it samples the worker's resident memory, its consumer lag (the
worker's own ``riskwatch_consumer_lag_messages``, from Fetch high watermarks),
its dead letters and the broker's memory. It prints the samples as a table and
a summary: memory growth from the first sample after warm-up to the last, the
largest lag, dead letters, how long the worker took to catch up at the end, and
whether it stalled.

The embedded broker bounds how long a soak can run. Tansu's memory storage stops
returning records from a partition once that partition holds enough (Fetch then
answers with the high watermark and no records, the same with a bare aiokafka
consumer). Measured: one partition written one message per batch stalled between
80k and 90k messages of 4.4 kB; four partitions were still served at 140k; and
with 4 partitions this soak stalled after ~3.5 minutes at half of ~22k readings/s
(~125k messages). Spread over 16 partitions (the default here) a 6-minute soak at
half the maximum never stalled, with the broker at 1.9 GB RSS. The report says
when a soak stalls.

The memory storage also slows as it grows. In a 10-minute soak at 13.5k
readings/s the broker's CPU climbed from 29 % to 100 % of a core while it grew to
3.2 GB. From ~7.5 minutes (2.5 GB) the worker, its CPU down from ~55 % to 9–28 %,
got records more slowly than they were sent, and lag grew. The CPU columns show
which process runs short.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from pipeline.benchmarks.broker_usage import process_usage
from pipeline.benchmarks.pipeline_bench import EVENTS_METRIC, await_readings, bench_settings, produce_messages
from pipeline.benchmarks.workload import Workload
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess

LAG_METRIC = "riskwatch_consumer_lag_messages"
CATCH_UP_S = 120.0
"""How long the soak waits, after its last send, for the worker to process everything."""
DEAD_LETTERS_METRIC = "riskwatch_dead_letters_total"
MIB = 2**20


@dataclass(frozen=True)
class SoakSample:
    """The worker and the broker at one moment of the soak."""

    elapsed_s: float
    produced_readings: int
    processed_readings: int
    lag_messages: int
    worker_rss_mib: float
    broker_rss_mib: float
    dead_letters: int
    worker_cpu_s: float = 0.0
    """Cumulative CPU seconds of the worker process ..."""
    broker_cpu_s: float = 0.0
    """... and of the broker: between two samples, which of them ran out of cores."""


@dataclass
class SoakReport:
    """Everything one soak measured.

    >>> report = SoakReport(workload={"series": 4}, minutes=1.0, rate_readings_per_s=100.0, warmup_s=10)
    >>> report.samples = [
    ...     SoakSample(5, 500, 500, 0, 90.0, 50.0, 0),
    ...     SoakSample(10, 1000, 990, 1, 100.0, 55.0, 0),
    ...     SoakSample(60, 6000, 6000, 0, 101.0, 70.0, 0),
    ... ]
    >>> report.rss_growth_pct, report.max_lag_messages, report.dead_letters
    (1.0, 1, 0)
    """

    workload: dict[str, int]
    minutes: float
    rate_readings_per_s: float
    """The rate the soak produced at."""
    warmup_s: float
    """Samples before this are left out of the memory baseline."""
    max_rate_readings_per_s: float | None = None
    """The worker's measured maximum (None when the rate was given)."""
    produced_readings: int = 0
    produced_s: float = 0.0
    caught_up_s: float | None = None
    """From the last message sent until the worker had processed every reading (None: it did not)."""
    samples: list[SoakSample] = field(default_factory=list)

    @property
    def achieved_rate_readings_per_s(self) -> float:
        """Readings produced per second over the soak."""
        return self.produced_readings / self.produced_s if self.produced_s else 0.0

    @property
    def after_warmup(self) -> list[SoakSample]:
        """Samples from the end of warm-up on (all samples if none is that late)."""
        late = [s for s in self.samples if s.elapsed_s >= self.warmup_s]
        return late or self.samples

    @property
    def rss_growth_pct(self) -> float:
        """Worker RSS growth from the first sample after warm-up to the last, in percent."""
        window = self.after_warmup
        if not window or not window[0].worker_rss_mib:
            return 0.0
        return round(100.0 * (window[-1].worker_rss_mib / window[0].worker_rss_mib - 1.0), 2)

    @property
    def max_lag_messages(self) -> int:
        """The largest consumer lag sampled."""
        return max((s.lag_messages for s in self.samples), default=0)

    @property
    def stalled_from_s(self) -> float | None:
        """When the worker last made progress, if it then processed nothing more over two samples or
        more although readings were waiting (None while it kept going).

        >>> r = SoakReport(workload={}, minutes=1.0, rate_readings_per_s=1.0, warmup_s=0)
        >>> r.samples = [SoakSample(t, 10 * t, min(10 * t, 50), 0, 1.0, 1.0, 0) for t in range(9)]
        >>> r.stalled_from_s
        5
        """
        if not self.samples or self.samples[-1].processed_readings >= self.samples[-1].produced_readings:
            return None
        last = self.samples[-1]
        flat = [s for s in self.samples if s.processed_readings == last.processed_readings]
        return flat[0].elapsed_s if len(flat) >= 3 else None

    @property
    def dead_letters(self) -> int:
        """Dead letters over the soak (the workload is valid: any is a fault)."""
        return self.samples[-1].dead_letters if self.samples else 0

    def summary(self) -> dict[str, float | int | None]:
        """The figures the issue's targets name."""
        window = self.after_warmup
        return {
            "rate_readings_per_s": round(self.rate_readings_per_s),
            "max_rate_readings_per_s": (
                round(self.max_rate_readings_per_s) if self.max_rate_readings_per_s else None
            ),
            "achieved_rate_readings_per_s": round(self.achieved_rate_readings_per_s),
            "worker_rss_first_mib": window[0].worker_rss_mib if window else 0.0,
            "worker_rss_last_mib": window[-1].worker_rss_mib if window else 0.0,
            "rss_growth_pct": self.rss_growth_pct,
            "max_lag_messages": self.max_lag_messages,
            "final_lag_messages": self.samples[-1].lag_messages if self.samples else 0,
            "dead_letters": self.dead_letters,
            "caught_up_s": self.caught_up_s,
            "stalled_from_s": self.stalled_from_s,
            "broker_rss_first_mib": window[0].broker_rss_mib if window else 0.0,
            "broker_rss_last_mib": window[-1].broker_rss_mib if window else 0.0,
        }

    def as_table(self) -> str:
        """The samples over time, then the summary."""
        header = (
            "t s",
            "produced",
            "processed",
            "readings/s",
            "lag msgs",
            "worker MiB",
            "broker MiB",
            "dead",
            "worker CPU",
            "broker CPU",
        )
        lines = ["  ".join(f"{h:>10}" for h in header)]
        previous: SoakSample | None = None
        for s in self.samples:
            span = s.elapsed_s - previous.elapsed_s if previous else 0.0
            done = s.processed_readings - previous.processed_readings if previous else 0

            cells = (
                f"{s.elapsed_s:.0f}",
                f"{s.produced_readings:,}",
                f"{s.processed_readings:,}",
                f"{done / span:,.0f}" if span > 0 else "-",
                f"{s.lag_messages:,}",
                f"{s.worker_rss_mib:.1f}",
                f"{s.broker_rss_mib:.1f}",
                f"{s.dead_letters}",
                _busy(s.worker_cpu_s - previous.worker_cpu_s, span) if previous else "-",
                _busy(s.broker_cpu_s - previous.broker_cpu_s, span) if previous else "-",
            )
            lines.append("  ".join(f"{c:>10}" for c in cells))
            previous = s
        w = self.workload
        summary = self.summary()
        rate = f"{summary['rate_readings_per_s']:,} readings/s"
        if self.max_rate_readings_per_s:
            rate += f" (half the measured max {summary['max_rate_readings_per_s']:,})"
        caught_up = (
            f"caught up {self.caught_up_s:.1f} s after the last send"
            if self.caught_up_s is not None
            else f"not caught up {CATCH_UP_S:.0f} s after the last send"
        )
        rows = [
            (
                "workload",
                f"{w['series']:,} series, {w['devices']} readings per message, {w['partitions']} partitions",
            ),
            ("soak", f"{self.minutes:g} min at {rate}; achieved {summary['achieved_rate_readings_per_s']:,}"),
            (
                f"worker RSS after {self.warmup_s:.0f} s warm-up",
                f"{summary['worker_rss_first_mib']:.1f} -> {summary['worker_rss_last_mib']:.1f} MiB"
                f" ({self.rss_growth_pct:+.2f} %; target < 5 % over 10 min)",
            ),
            (
                "consumer lag",
                f"max {self.max_lag_messages:,} messages, last {summary['final_lag_messages']:,};"
                f" {caught_up}",
            ),
            ("dead letters", f"{self.dead_letters}"),
            (
                "progress",
                "never stalled"
                if self.stalled_from_s is None
                else f"STALLED: nothing processed after t = {self.stalled_from_s:.0f} s although"
                " readings were waiting",
            ),
            (
                "broker (Tansu, memory storage) RSS",
                f"{summary['broker_rss_first_mib']:.0f} -> {summary['broker_rss_last_mib']:.0f} MiB",
            ),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join([*lines, "", *(f"{k:<{width}}  {v}" for k, v in rows)])

    def as_json(self) -> str:
        """Machine-readable result: every sample and the summary."""
        return json.dumps({**asdict(self), "summary": self.summary()}, indent=2)


def _now_forever() -> Iterator[datetime]:
    while True:
        yield datetime.now(UTC)


def _busy(cpu_s: float, span_s: float) -> str:
    """CPU seconds over a span as a share of one core: ``_busy(15, 10)`` is ``'150%'``."""
    return f"{cpu_s / span_s:.0%}" if span_s > 0 else "-"


class _Sampler:
    """Reads the worker's metrics and both processes' memory."""

    def __init__(self, worker: WorkerProcess, broker_pid: int, started: float) -> None:
        self.worker = worker
        self.broker_pid = broker_pid
        self.started = started

    def sample(self, produced: int) -> SoakSample:
        metrics = scrape(self.worker.base_url)
        worker = process_usage(self.worker.process.pid)
        broker = process_usage(self.broker_pid)
        return SoakSample(
            elapsed_s=round(time.monotonic() - self.started, 2),
            produced_readings=produced,
            processed_readings=int(total(metrics, EVENTS_METRIC)),
            lag_messages=int(total(metrics, LAG_METRIC)),
            worker_rss_mib=round(worker.rss_bytes / MIB, 2),
            broker_rss_mib=round(broker.rss_bytes / MIB, 2),
            dead_letters=int(total(metrics, DEAD_LETTERS_METRIC)),
            worker_cpu_s=worker.cpu_s,
            broker_cpu_s=broker.cpu_s,
        )


async def _soak(
    report: SoakReport,
    workload: Workload,
    topic: str,
    bootstrap: str,
    sampler: _Sampler,
    every_s: float,
    already: int,
) -> None:
    """Produce ticks of ``workload`` at ``report.rate_readings_per_s`` for ``report.minutes``,
    sampling every ``every_s`` seconds; ``already`` readings were produced before (calibration)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    produced = 0
    try:
        interval = workload.series / report.rate_readings_per_s
        started = time.monotonic()
        sampler.started = started
        end = started + report.minutes * 60
        next_tick = next_sample = started
        ticks = workload.batches(_now_forever(), first_tick=workload.ticks)
        while (now := time.monotonic()) < end:
            if now >= next_sample:
                report.samples.append(await asyncio.to_thread(sampler.sample, already + produced))
                next_sample += every_s
            if now >= next_tick:
                for key, value in next(ticks):
                    await producer.send(topic, key=key, value=value)
                produced += workload.series
                next_tick += interval
            await asyncio.sleep(max(0.0, min(next_tick, next_sample) - time.monotonic()))
        await producer.flush()
        report.produced_readings = produced
        report.produced_s = time.monotonic() - started
    finally:
        await producer.stop()


def run_soak(
    *,
    minutes: float,
    data_dir: Path,
    rate: float | None = None,
    communities: int = 200,
    devices: int = 20,
    partitions: int = 16,
    sample_every_s: float = 5.0,
    calibration_ticks: int = 50,
    warmup_s: float | None = None,
) -> SoakReport:
    """Soak one worker on a fresh embedded broker and return what was sampled.

    Without ``rate``, ``calibration_ticks`` ticks of the workload are produced first and
    the worker's maximum is measured on them; the soak then runs at half of it. Warm-up
    (left out of the memory baseline) is a fifth of the soak, at most a minute, unless given.
    """
    workload = Workload(
        communities=communities, devices=devices, ticks=calibration_ticks if rate is None else 0
    )
    report = SoakReport(
        workload={
            "communities": communities,
            "devices": devices,
            "series": workload.series,
            "partitions": partitions,
        },
        minutes=minutes,
        rate_readings_per_s=rate or 0.0,
        warmup_s=warmup_s if warmup_s is not None else min(60.0, minutes * 60 / 5),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_file=data_dir / "soak-broker.log") as broker:
        assert broker.pid is not None
        bootstrap = broker.bootstrap_servers
        settings = bench_settings(bootstrap, data_dir, partitions)
        ensure_topics(settings, bootstrap)
        topic = TopicNames.from_settings(settings).readings
        if rate is None:
            asyncio.run(produce_messages(bootstrap, topic, workload.messages()))
        with WorkerProcess(settings, data_dir / "soak-worker.log") as worker:
            worker.wait_ready(60)
            if rate is None:
                report.max_rate_readings_per_s = await_readings([worker], workload.readings, 600)
                report.rate_readings_per_s = report.max_rate_readings_per_s / 2
            sampler = _Sampler(worker, broker.pid, time.monotonic())
            asyncio.run(_soak(report, workload, topic, bootstrap, sampler, sample_every_s, workload.readings))
            produced = workload.readings + report.produced_readings
            sent_all = time.monotonic()
            try:
                await_readings([worker], produced, CATCH_UP_S)
                report.caught_up_s = round(time.monotonic() - sent_all, 2)
            except TimeoutError:
                report.caught_up_s = None
            report.samples.append(sampler.sample(produced))
    return report
