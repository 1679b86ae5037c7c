"""Detector benchmark: time per reading, state size per series, and NAB scores.

For one detector factory and a labelled corpus (NAB's files), every file gets
a fresh detector that scores then learns each reading, as the pipeline does.
Measured per detector:

* µs per reading (score + learn), median and 99th percentile over all
  readings, on one core (``time.perf_counter_ns`` around each reading);
* bytes of state per series: the pickled size of each file's detector after
  its last reading (the largest and the median over files);
* NAB scores of the per-row :attr:`~detectors.base.Score.risk`, at the best
  threshold per profile, and, when an alert policy is given, of the emitted
  alerts at 0.5.

:func:`bench_batch` times one live model's step in its batch form
(:func:`detectors.batch.observe_batch`) against its per-reading form
(:func:`detectors.batch.observe_reading`) on the same corpus.

The module is pure apart from the clock; reading the corpus lives in
:func:`load_corpus`.
"""

from __future__ import annotations

import csv
import pickle
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np

from detectors.base import Detector, Score
from detectors.batch import observe_batch, observe_reading
from detectors.evaluation.nab import (
    STANDARD_PROFILES,
    FloatArray,
    LabeledSeries,
    NabReport,
    score_at_threshold,
    score_corpus,
)
from detectors.evaluation.nab_io import load_windows
from detectors.evaluation.replay import AlertPolicy


@dataclass(frozen=True)
class CorpusFile:
    """One labelled univariate file."""

    series: LabeledSeries
    values: list[float]


@dataclass(frozen=True)
class BenchResult:
    """What :func:`bench_detector` measured for one detector."""

    name: str
    readings: int
    us_median: float
    us_p99: float
    state_bytes_max: int
    state_bytes_median: float
    best: NabReport
    emitted: NabReport | None

    def as_dict(self) -> dict[str, object]:
        """Plain values for ``--json``."""

        def scores(report: NabReport | None) -> dict[str, float] | None:
            return None if report is None else {r.profile.name: round(r.score, 2) for r in report.results}

        return {
            "detector": self.name,
            "readings": self.readings,
            "us_per_reading_median": round(self.us_median, 2),
            "us_per_reading_p99": round(self.us_p99, 2),
            "state_bytes_max": self.state_bytes_max,
            "state_bytes_median": self.state_bytes_median,
            "nab_best_threshold": scores(self.best),
            "nab_alert_column": scores(self.emitted),
        }


def load_corpus(nab_dir: Path, limit: int | None = None) -> list[CorpusFile]:
    """Read NAB's labelled files (``data/`` and ``labels/combined_windows.json``), sorted by key."""
    windows = load_windows(nab_dir / "labels" / "combined_windows.json")
    corpus = []
    for name in sorted(windows)[:limit]:
        with (nab_dir / "data" / name).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        stamps = [datetime.fromisoformat(row["timestamp"]) for row in rows]
        corpus.append(
            CorpusFile(LabeledSeries(name, stamps, windows[name]), [float(r["value"]) for r in rows])
        )
    return corpus


def _median_p99_us(timings_ns: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile of ``timings_ns``, in µs (0 for none)."""
    if not timings_ns:
        return 0.0, 0.0
    micros = np.array(timings_ns) / 1000.0
    return float(np.median(micros)), float(np.percentile(micros, 99))


def bench_detector(
    name: str,
    factory: Callable[[], Detector],
    corpus: list[CorpusFile],
    policy_factory: Callable[[str], AlertPolicy] | None = None,
) -> BenchResult:
    """Run ``factory``'s detectors over ``corpus`` and measure them (see the module docstring)."""
    timings: list[int] = []
    sizes: list[int] = []
    risks: dict[str, FloatArray] = {}
    alerts: dict[str, FloatArray] = {}
    clock = time.perf_counter_ns
    for item in corpus:
        detector = factory()
        policy = policy_factory(item.series.name) if policy_factory else None
        risk = np.zeros(len(item.values))
        alert = np.zeros(len(item.values))
        for row, (value, at) in enumerate(zip(item.values, item.series.timestamps, strict=True)):
            start = clock()
            score = detector.score_one(value, at)
            detector.learn_one(value, at)
            timings.append(clock() - start)
            risk[row] = score.risk
            if policy is not None:
                alert[row] = policy.observe(at, score, {"value": value}).alert
        sizes.append(len(pickle.dumps(detector)))
        risks[item.series.name] = risk
        alerts[item.series.name] = alert
    series = {item.series.name: item.series for item in corpus}
    us_median, us_p99 = _median_p99_us(timings)
    emitted = None
    if policy_factory is not None:
        emitted = NabReport(tuple(score_at_threshold(series, alerts, p, 0.5) for p in STANDARD_PROFILES))
    return BenchResult(
        name=name,
        readings=len(timings),
        us_median=us_median,
        us_p99=us_p99,
        state_bytes_max=max(sizes, default=0),
        state_bytes_median=statistics.median(sizes) if sizes else 0.0,
        best=score_corpus(series, risks),
        emitted=emitted,
    )


def results_table(results: list[BenchResult]) -> str:
    """An aligned text table of :func:`bench_detector` results."""
    row = "{:<22} {:>8} {:>7} {:>7} {:>6} {:>6} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}".format
    lines = [
        "NAB scores: best threshold per profile | alert column at 0.5 (std = standard profile)",
        row(
            "detector",
            "readings",
            "µs med",
            "µs p99",
            "B max",
            "B med",
            "std",
            "lowFP",
            "lowFN",
            "std",
            "lowFP",
            "lowFN",
        ),
    ]
    for r in results:
        best = [f"{x.score:.2f}" for x in r.best.results]
        emitted = [f"{x.score:.2f}" for x in r.emitted.results] if r.emitted else ["-"] * 3
        lines.append(
            row(
                r.name,
                r.readings,
                f"{r.us_median:.2f}",
                f"{r.us_p99:.2f}",
                r.state_bytes_max,
                f"{r.state_bytes_median:.0f}",
                *best,
                *emitted,
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class BatchResult:
    """What :func:`bench_batch` measured for one model: µs per reading in each form."""

    name: str
    readings: int
    batch_size: int
    per_reading: tuple[float, float]
    """Median and 99th percentile of µs per reading, the per-reading form."""
    batch: tuple[float, float]
    """The same, the batch form."""
    identical: bool
    """Whether both forms gave the same scores and left the same state (pickled)."""

    @property
    def speedup(self) -> float:
        """Per-reading median over batch median (1.0 when either is 0)."""
        return self.per_reading[0] / self.batch[0] if self.batch[0] and self.per_reading[0] else 1.0

    def as_dict(self) -> dict[str, object]:
        """Plain values for ``--json``."""
        return {
            "model": self.name,
            "readings": self.readings,
            "batch_size": self.batch_size,
            "per_reading_us_median": round(self.per_reading[0], 2),
            "per_reading_us_p99": round(self.per_reading[1], 2),
            "batch_us_median": round(self.batch[0], 2),
            "batch_us_p99": round(self.batch[1], 2),
            "speedup": round(self.speedup, 2),
            "identical": self.identical,
        }


def bench_batch(
    name: str, factory: Callable[[], Detector], corpus: list[CorpusFile], batch_size: int = 20
) -> BatchResult:
    """Time ``factory``'s model per reading in both forms over ``corpus``, one core.

    Each file gets two fresh models: one steps through the file's readings in the
    per-reading form, the other in the batch form, ``batch_size`` readings a call. Both
    are timed per run of ``batch_size`` readings (one clock pair per run, so the clock's
    own cost is shared alike) and each run's time is divided by its readings; the figures
    are the median and 99th percentile of those per-reading costs. The two forms' scores
    and final states are compared too.
    """
    clock = time.perf_counter_ns
    single_ns: list[float] = []
    batch_ns: list[float] = []
    identical = True
    readings = 0
    for item in corpus:
        single, batched = factory(), factory()
        stamps = item.series.timestamps
        for start in range(0, len(item.values), batch_size):
            values = item.values[start : start + batch_size]
            ats = stamps[start : start + batch_size]
            began = clock()
            want: list[Score] = [
                observe_reading(single, value, at) for value, at in zip(values, ats, strict=True)
            ]
            timed = clock()
            got = observe_batch([batched] * len(values), values, ats)
            ended = clock()
            single_ns.append((timed - began) / len(values))
            batch_ns.append((ended - timed) / len(values))
            identical = identical and got == want
            readings += len(values)
        identical = identical and pickle.dumps(single) == pickle.dumps(batched)
    return BatchResult(
        name, readings, batch_size, _median_p99_us(single_ns), _median_p99_us(batch_ns), identical
    )


_BATCH_COLUMNS = (
    "model",
    "readings",
    "batch",
    "one med",
    "one p99",
    "batch med",
    "batch p99",
    "faster",
    "identical",
)


def batch_table(results: list[BatchResult]) -> str:
    """An aligned text table of :func:`bench_batch` results."""
    row = "{:<14} {:>8} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9}".format
    lines = [
        "µs per reading: per-reading form | batch form (detectors.batch), median and p99",
        row(*_BATCH_COLUMNS),
    ]
    lines += [
        row(
            r.name,
            r.readings,
            r.batch_size,
            f"{r.per_reading[0]:.2f}",
            f"{r.per_reading[1]:.2f}",
            f"{r.batch[0]:.2f}",
            f"{r.batch[1]:.2f}",
            f"{r.speedup:.2f}×",
            "yes" if r.identical else "NO",
        )
        for r in results
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class FamilyResult:
    """µs per event and bytes of state of one non-:class:`Detector` family (:func:`bench_families`)."""

    name: str
    events: int
    us_median: float
    us_p99: float
    state_bytes: int
    state_of: str
    """What ``state_bytes`` is the state of (a device, a key, the shared model)."""

    def as_dict(self) -> dict[str, object]:
        """Plain values for ``--json``."""
        return {
            "family": self.name,
            "events": self.events,
            "us_per_event_median": round(self.us_median, 2),
            "us_per_event_p99": round(self.us_p99, 2),
            "state_bytes": self.state_bytes,
            "state_of": self.state_of,
        }


def _timed(
    name: str, calls: Sequence[Callable[[], object]], state_bytes: Callable[[], int], state_of: str
) -> FamilyResult:
    """Time each call; ``state_bytes`` is measured after the last."""
    clock = time.perf_counter_ns
    timings = []
    for call in calls:
        start = clock()
        call()
        timings.append(clock() - start)
    return FamilyResult(name, len(calls), *_median_p99_us(timings), state_bytes(), state_of)


def _size(state: object) -> int:
    return len(pickle.dumps(state))


def bench_families(events: int = 20_000, seed: int = 7) -> list[FamilyResult]:
    """Time the families outside the :class:`Detector` protocol on synthetic events, one core.

    Physical limits, device health (stuck sensor, battery, heartbeat), report
    bursts and the report classifier. State bytes are pickled sizes: of one
    device's monitor; per device or per (community, category) for the shared
    heartbeat and burst tables (their growth over 1,000 keys, divided); the
    whole model for the classifier (one per worker); the configuration for the limits.
    """
    from datetime import timedelta

    from detectors.device_health import BatteryMonitor, HeartbeatMonitor, StuckSensor
    from detectors.limits import PhysicalLimits
    from detectors.reports.classifier import ReportCategoryClassifier
    from detectors.reports.rate import ReportBursts
    from detectors.reports.seed import SEED_REPORTS
    from schemas.events import SensorType
    from schemas.hazard import Hazard

    rng = np.random.default_rng(seed)
    t0 = datetime(2026, 1, 1)
    steps = [t0 + timedelta(minutes=i) for i in range(events)]
    noise = [float(v) for v in rng.normal(0.0, 1.0, events)]
    temperatures = [round(20.0 + v, 1) for v in noise]
    battery_pct = [max(0.0, 100.0 - i * 0.004 + 0.2 * v) for i, v in enumerate(noise)]
    keys = 1_000

    limits = PhysicalLimits()
    stuck = StuckSensor("t-1")
    battery = BatteryMonitor("b-1")
    heartbeat = HeartbeatMonitor()
    no_beats = _size(heartbeat)
    bursts = ReportBursts()
    no_bursts = _size(bursts)
    hazards = list(Hazard)
    report_at = [t0 + timedelta(seconds=float(s)) for s in np.cumsum(rng.exponential(300.0, events))]
    classifier = ReportCategoryClassifier()
    texts = [(text, category) for category, items in SEED_REPORTS.items() for text in items]
    picks = [texts[int(i)] for i in rng.integers(0, len(texts), events // 10)]
    return [
        _timed(
            "limits.check",
            [partial(limits.check, SensorType.GAS_CO, "co-1", 20.0 + 15.0 * v) for v in noise],
            lambda: _size(limits),
            "configuration",
        ),
        _timed(
            "StuckSensor.observe",
            [partial(stuck.observe, v, at) for v, at in zip(temperatures, steps, strict=True)],
            lambda: _size(stuck),
            "device",
        ),
        _timed(
            "BatteryMonitor.observe",
            [partial(battery.observe, v, at) for v, at in zip(battery_pct, steps, strict=True)],
            lambda: _size(battery),
            "device",
        ),
        _timed(
            "HeartbeatMonitor.beat",
            [partial(heartbeat.beat, f"dev-{i % keys}", at, 60.0) for i, at in enumerate(steps)],
            lambda: (_size(heartbeat) - no_beats) // keys,
            "device",
        ),
        _timed(
            "ReportBursts.observe",
            [
                partial(bursts.observe, f"c-{i % keys}", hazards[i % len(hazards)], at)
                for i, at in enumerate(report_at)
            ],
            lambda: (_size(bursts) - no_bursts) // max(1, len(bursts)),
            "(community, category)",
        ),
        _timed(
            "classifier.predict_one",
            [partial(classifier.predict_one, text) for text, _ in picks],
            lambda: _size(classifier),
            "model (one per worker)",
        ),
        _timed(
            "classifier.learn_one",
            [partial(classifier.learn_one, text, hazard) for text, hazard in picks],
            lambda: _size(classifier),
            "model (one per worker)",
        ),
    ]


def families_table(results: list[FamilyResult]) -> str:
    """An aligned text table of :func:`bench_families` results."""
    row = "{:<24} {:>7} {:>7} {:>7} {:>8}  {}".format
    lines = [row("family", "events", "µs med", "µs p99", "bytes", "state of")]
    lines += [
        row(r.name, r.events, f"{r.us_median:.2f}", f"{r.us_p99:.2f}", r.state_bytes, r.state_of)
        for r in results
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m detectors.bench: the non-detector families
    print(families_table(bench_families()))
