"""``riskwatch bench detectors``: µs per reading, state bytes per series and NAB scores of each detector.

(``bench pipeline``, ``bench handle``, ``bench latency``, ``bench checkpoint``, ``bench scrape`` and
``bench soak`` live in :mod:`pipeline.benchmarks`; registered here.)

Runs every detector of :data:`detectors.conformance.CONFORMING_DETECTORS` (the
default is ``default_generic``) over the NAB corpus on one core, the alert
column through the pipeline's own assessment. Prints a table, or JSON.

With ``--batch`` it times instead the live models (:func:`~pipeline.processing.live_detector.
live_detector`: each sensor type's and ``generic``'s, under the settings) per reading in their
batch form (:mod:`detectors.batch`) against their per-reading form, on the same corpus
(:func:`detectors.bench.bench_batch`).
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from detectors.bench import (
    BatchResult,
    BenchResult,
    CorpusFile,
    batch_table,
    bench_batch,
    bench_detector,
    load_corpus,
    results_table,
)
from detectors.conformance import CONFORMING_DETECTORS
from detectors.ensemble import GENERIC
from detectors.evaluation.replay import AlertPolicy
from pipeline.commands.replay import AssessmentPolicy
from pipeline.config import Settings
from pipeline.processing.live_detector import live_detector
from schemas.events import SensorType

DEFAULT_NAB = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "nab"


def run_detectors(settings: Settings, args: argparse.Namespace) -> int:
    """Benchmark the chosen detectors; return 1 when the corpus or a detector name is missing."""
    nab = Path(args.nab)
    if not (nab / "labels" / "combined_windows.json").is_file():
        print(f"riskwatch bench detectors: no NAB corpus at {nab} (use --nab DIR)", file=sys.stderr)
        return 1
    known = LIVE_MODELS if args.batch else sorted(CONFORMING_DETECTORS)
    names = args.detector or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"riskwatch bench detectors: unknown {unknown}; known: {known}", file=sys.stderr)
        return 1
    if args.batch_size < 1:
        print("riskwatch bench detectors: --batch-size must be at least 1", file=sys.stderr)
        return 2
    corpus = load_corpus(nab, args.files)
    if args.batch:
        return _run_batch(settings, names, corpus, args)

    def policy(series: str) -> AlertPolicy:
        return AssessmentPolicy(settings, "bench", "generic", "bench")

    results: list[BenchResult] = []
    for name in names:
        print(f"benchmarking {name} on {len(corpus)} files ...", file=sys.stderr)
        results.append(bench_detector(name, CONFORMING_DETECTORS[name], corpus, policy))
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print(results_table(results))
    return 0


LIVE_MODELS = [*(sensor.value for sensor in SensorType), GENERIC]
"""The live models ``--batch`` times: each sensor type's and a generic series'."""


def _run_batch(
    settings: Settings, kinds: list[str], corpus: list[CorpusFile], args: argparse.Namespace
) -> int:
    """Time each live model of ``kinds`` in its batch and per-reading forms; print the table."""
    results: list[BatchResult] = []
    for kind in kinds:
        print(f"timing the {kind} model in both forms on {len(corpus)} files ...", file=sys.stderr)
        results.append(bench_batch(kind, partial(live_detector, settings, kind), corpus, args.batch_size))
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print(batch_table(results))
    return 0 if all(r.identical for r in results) else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bench`` and its ``detectors``, ``pipeline``, ``handle``, ``latency``, ``checkpoint``, ``scrape``
    and ``soak`` benchmarks."""
    parser = subparsers.add_parser("bench", help="benchmarks")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True)
    detectors = benchmarks.add_parser(
        "detectors", help="µs/reading, state bytes/series and NAB score per detector"
    )
    detectors.add_argument("--nab", default=str(DEFAULT_NAB), help="NAB corpus folder (data/, labels/)")
    detectors.add_argument("--files", type=int, default=None, help="only the first N labelled files")
    detectors.add_argument("--detector", action="append", help="detector name (repeatable; default: all)")
    detectors.add_argument("--json", action="store_true", help="print JSON instead of a table")
    detectors.add_argument(
        "--batch",
        action="store_true",
        help="time the live models (--detector: a sensor type or generic) per reading in their batch form "
        "against their per-reading form; exit 1 if the two forms ever differ",
    )
    detectors.add_argument(
        "--batch-size", type=int, default=20, help="readings per batch (default 20: a message's)"
    )
    detectors.set_defaults(run=run_detectors)
    pipeline = benchmarks.add_parser(
        "pipeline", help="full pipeline vs raw consume + decode; latency; 2 workers vs 1; memory per series"
    )
    pipeline.add_argument("--communities", type=int, default=200)
    pipeline.add_argument("--devices", type=int, default=20, help="readings per message (one per device)")
    pipeline.add_argument("--ticks", type=int, default=100)
    pipeline.add_argument("--partitions", type=int, default=4)
    pipeline.add_argument(
        "--restore-series",
        type=int,
        default=100_000,
        help="series of checkpointed state a worker restores before ready (0: skip that phase)",
    )
    pipeline.add_argument(
        "--profile",
        metavar="DIR",
        default=None,
        help="sample the 1-worker throughput phase with py-spy into DIR (flame graph SVG, speedscope JSON)",
    )
    pipeline.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pipeline.set_defaults(run=run_pipeline)
    handle = benchmarks.add_parser(
        "handle", help="µs per reading of the processing core alone (no broker), warming and warmed series"
    )
    handle.add_argument("--communities", type=int, default=200)
    handle.add_argument("--devices", type=int, default=20, help="readings per message (one per device)")
    handle.add_argument("--ticks", type=int, default=100, help="readings per series in each phase")
    handle.add_argument("--partitions", type=int, default=4)
    handle.add_argument("--json", action="store_true", help="print JSON instead of a table")
    handle.set_defaults(run=run_handle)
    latency = benchmarks.add_parser(
        "latency", help="produce -> warning at fixed rates, through one worker and through the bare relay"
    )
    latency.add_argument(
        "--rate", type=float, action="append", required=True, help="readings/s (repeatable: one phase each)"
    )
    latency.add_argument("--communities", type=int, default=300, help="at least rates x spikes")
    latency.add_argument("--devices", type=int, default=20, help="readings per message (one per device)")
    latency.add_argument("--warmup-ticks", type=int, default=70, help="readings per series before the spikes")
    latency.add_argument("--spikes", type=int, default=100, help="spikes (warnings timed) per rate")
    latency.add_argument("--seconds", type=float, default=20.0, help="length of each rate's phase")
    latency.add_argument("--partitions", type=int, default=4)
    latency.add_argument("--json", action="store_true", help="print JSON instead of a table")
    latency.set_defaults(run=run_latency)
    checkpoint = benchmarks.add_parser(
        "checkpoint", help="how long a checkpoint holds the processing lock and how long a due reading waits"
    )
    checkpoint.add_argument("--series", type=int, default=6000)
    checkpoint.add_argument("--devices", type=int, default=20, help="readings per message (one per device)")
    checkpoint.add_argument("--rate", type=float, default=2000.0, help="readings/s falling due meanwhile")
    checkpoint.add_argument("--rounds", type=int, default=3, help="checkpoints of each way")
    checkpoint.add_argument("--json", action="store_true", help="print JSON instead of a table")
    checkpoint.set_defaults(run=run_checkpoint)
    scrape = benchmarks.add_parser(
        "scrape", help="render time, bytes and lines of /metrics with many communities, series and warnings"
    )
    scrape.add_argument("--communities", type=int, default=1000)
    scrape.add_argument(
        "--series", type=int, default=10_000, help="detector series, a multiple of communities"
    )
    scrape.add_argument("--warnings", type=int, default=100, help="communities with an active warning")
    scrape.add_argument("--rounds", type=int, default=50, help="renders timed")
    scrape.add_argument("--json", action="store_true", help="print JSON instead of a table")
    scrape.set_defaults(run=run_scrape)
    soak = benchmarks.add_parser(
        "soak",
        help="one worker at half its maximum rate for minutes: RSS, consumer lag, dead letters over time",
    )
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument(
        "--rate", type=float, default=None, help="readings/s (default: half the maximum, measured first)"
    )
    soak.add_argument("--communities", type=int, default=200)
    soak.add_argument("--devices", type=int, default=20, help="readings per message (one per device)")
    soak.add_argument(
        "--partitions",
        type=int,
        default=16,
        help="16: Tansu stops serving a partition that holds too much (see pipeline.benchmarks.soak)",
    )
    soak.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    soak.add_argument("--json", action="store_true", help="print JSON instead of a table")
    soak.set_defaults(run=run_soak)


def run_pipeline(settings: Settings, args: argparse.Namespace) -> int:
    """Run the pipeline benchmark on a fresh embedded broker and print its figures."""
    from pipeline.benchmarks.pipeline_bench import run_pipeline_bench
    from pipeline.benchmarks.profiling import ProfilerError, py_spy

    if args.profile is not None:
        try:
            py_spy()  # missing: say so now, not after minutes of benchmark
        except ProfilerError as error:
            print(f"riskwatch bench pipeline: {error}", file=sys.stderr)
            return 1
    report = run_pipeline_bench(
        communities=args.communities,
        devices=args.devices,
        ticks=args.ticks,
        partitions=args.partitions,
        data_dir=Path(settings.data_dir) / "bench",
        restore_series=args.restore_series,
        profile_dir=None if args.profile is None else Path(args.profile),
    )
    print(report.as_json() if args.json else report.as_table())
    return 0


def run_handle(settings: Settings, args: argparse.Namespace) -> int:
    """Time the processing core per reading on warming and warmed series; 2 on bad sizes."""
    from pipeline.benchmarks.handle_bench import run_handle_bench

    if min(args.communities, args.devices, args.ticks, args.partitions) < 1:
        print("riskwatch bench handle: every size must be at least 1", file=sys.stderr)
        return 2
    report = run_handle_bench(
        settings,
        communities=args.communities,
        devices=args.devices,
        ticks=args.ticks,
        partitions=args.partitions,
    )
    print(report.as_json() if args.json else report.as_table())
    return 0


def run_latency(settings: Settings, args: argparse.Namespace) -> int:
    """Measure produce -> warning at each fixed rate and print the figures; 2 on bad sizes."""
    from pipeline.benchmarks.latency_bench import run_latency_bench

    if min(args.rate) <= 0 or args.seconds <= 0:
        print("riskwatch bench latency: --rate and --seconds must be positive", file=sys.stderr)
        return 2
    try:
        report = run_latency_bench(
            rates=args.rate,
            communities=args.communities,
            devices=args.devices,
            warmup_ticks=args.warmup_ticks,
            spikes=args.spikes,
            seconds=args.seconds,
            partitions=args.partitions,
            data_dir=Path(settings.data_dir) / "bench",
        )
    except ValueError as error:
        print(f"riskwatch bench latency: {error}", file=sys.stderr)
        return 2
    print(report.as_json() if args.json else report.as_table())
    return 0


def run_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    """Time a checkpoint's hold of the lock and the readings' waits; 2 when the sizes do not fit."""
    from pipeline.benchmarks.checkpoint_bench import run_checkpoint_bench

    try:
        report = run_checkpoint_bench(settings, args.series, args.devices, args.rate, args.rounds)
    except ValueError as error:
        print(f"riskwatch bench checkpoint: {error}", file=sys.stderr)
        return 2
    print(report.as_json() if args.json else report.as_table())
    return 0


def run_scrape(settings: Settings, args: argparse.Namespace) -> int:
    """Fill a worker's metrics and time rendering them; 2 when the sizes do not fit together."""
    from pipeline.benchmarks.scrape_bench import run_scrape_bench

    try:
        report = run_scrape_bench(
            settings,
            communities=args.communities,
            series=args.series,
            warnings=args.warnings,
            rounds=args.rounds,
        )
    except ValueError as error:
        print(f"riskwatch bench scrape: {error}", file=sys.stderr)
        return 2
    print(report.as_json() if args.json else report.as_table())
    return 0


def run_soak(settings: Settings, args: argparse.Namespace) -> int:
    """Soak one worker on a fresh embedded broker and print the samples and the summary."""
    from pipeline.benchmarks.soak import run_soak as soak

    if args.minutes <= 0 or (args.rate is not None and args.rate <= 0):
        print("riskwatch bench soak: --minutes and --rate must be positive", file=sys.stderr)
        return 2
    report = soak(
        minutes=args.minutes,
        rate=args.rate,
        communities=args.communities,
        devices=args.devices,
        partitions=args.partitions,
        sample_every_s=args.sample_every,
        data_dir=Path(settings.data_dir) / "bench",
    )
    print(report.as_json() if args.json else report.as_table())
    return 0
