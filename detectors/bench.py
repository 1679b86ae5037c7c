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

The module is pure apart from the clock; reading the corpus lives in
:func:`load_corpus`.
"""

from __future__ import annotations

import csv
import pickle
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from detectors.base import Detector
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
                alert[row] = policy.observe(at, score).alert
        sizes.append(len(pickle.dumps(detector)))
        risks[item.series.name] = risk
        alerts[item.series.name] = alert
    series = {item.series.name: item.series for item in corpus}
    micros = np.array(timings) / 1000.0
    emitted = None
    if policy_factory is not None:
        emitted = NabReport(tuple(score_at_threshold(series, alerts, p, 0.5) for p in STANDARD_PROFILES))
    return BenchResult(
        name=name,
        readings=len(timings),
        us_median=float(np.median(micros)) if len(micros) else 0.0,
        us_p99=float(np.percentile(micros, 99)) if len(micros) else 0.0,
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
