"""``riskwatch simulate``: a deterministic community event stream, to JSON Lines or to Kafka."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from pipeline.config import Settings
from pipeline.simulation.encoding import write_jsonl
from pipeline.simulation.generator import generate
from pipeline.simulation.planning import PLANNED_DECOYS, plan_scenario
from pipeline.simulation.publishing import Pacer, live_start
from pipeline.simulation.scenario import DecoyKind, IncidentKind, Scenario, load_scenario, scenario_path
from pipeline.simulation.truth import ground_truth

#: Where simulated time starts when writing a file: fixed, so a seed always gives the same file.
#: Monday 1 June 2026, 08:00 in the communities' UTC+8.
DEFAULT_FILE_START = datetime(2026, 6, 1, tzinfo=UTC)


def _duration(text: str) -> timedelta:
    try:
        return TypeAdapter(timedelta).validate_python(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; use ISO 8601 like PT6H") from None


def _start(text: str) -> datetime:
    try:
        return TypeAdapter(datetime).validate_python(text).astimezone(UTC)
    except (ValidationError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time with a UTC offset") from None


def _kinds(text: str) -> list[str]:
    return [] if text == "none" else [k.strip() for k in text.split(",") if k.strip()]


def build_scenario(args: argparse.Namespace) -> Scenario:
    """The scenario of the command line: the ``--scenario`` file, or one planned from the flags."""
    if args.scenario is not None:
        scenario = load_scenario(scenario_path(args.scenario))
        return scenario if args.seed is None else scenario.model_copy(update={"seed": args.seed})
    return plan_scenario(
        "command-line",
        communities=args.communities,
        duration=args.duration,
        seed=7 if args.seed is None else args.seed,
        per_kind=args.per_kind,
        incident_kinds=[IncidentKind(k) for k in _kinds(args.incidents)],
        decoy_kinds=[DecoyKind(k) for k in _kinds(args.decoys)],
    )


def _publish(
    settings: Settings, scenario: Scenario, start: datetime, args: argparse.Namespace
) -> Counter[str]:
    from kafka import KafkaProducer

    from pipeline.kafka.kafka_admin import ensure_topics
    from pipeline.kafka.topics import TopicNames
    from pipeline.simulation.publishing import publish
    from pipeline.simulation.registry import publish_registry, scenario_registry

    settings = settings.model_copy(update={"bootstrap_servers": args.bootstrap})
    ensure_topics(settings, args.bootstrap)
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, linger_ms=5, batch_size=256 * 1024)
    try:
        registry = scenario_registry(scenario)
        publish_registry(producer, TopicNames.from_settings(settings).devices, registry)
        pacer = Pacer(args.rate, args.speedup or None)
        _, events = publish(producer, TopicNames.from_settings(settings), generate(scenario, start), pacer)
    finally:
        producer.close()
    return events


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Generate the stream; print what was written or sent, and how fast."""
    try:
        scenario = build_scenario(args)
    except ValueError as error:  # ScenarioError, or a plan that does not fit
        print(f"riskwatch simulate: {error}", file=sys.stderr)
        return 2
    if args.save_scenario:
        args.save_scenario.write_text(scenario.model_dump_json(indent=2, exclude_none=True) + "\n")
    if args.out is not None:
        start = args.start or scenario.start or DEFAULT_FILE_START
    else:
        start = args.start or live_start(datetime.now(UTC), scenario.duration, args.speedup or None)
    if args.truth:
        ground_truth(scenario, start).write(args.truth)
    began = time.perf_counter()
    if args.out is not None:
        with open(args.out, "w", encoding="utf-8") as out:
            events = write_jsonl(generate(scenario, start), out)
    else:
        events = _publish(settings, scenario, start, args)
    elapsed = time.perf_counter() - began
    total = sum(events.values())
    detail = ", ".join(f"{kind} {count}" for kind, count in sorted(events.items()))
    print(
        f"{scenario.name}: {scenario.communities} communities, {len(scenario.incidents)} incidents, "
        f"{len(scenario.decoys)} decoys, seed {scenario.seed}, from {start.isoformat()}"
    )
    print(f"{total} events ({detail}) in {elapsed:.2f} s: {total / elapsed:,.0f} events/s")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``simulate``."""
    parser = subparsers.add_parser(
        "simulate",
        help="simulate communities (devices, telemetry, reports, incidents) to JSON Lines or Kafka",
        description="Deterministic for a seed. Incidents and decoys come from --scenario, or are "
        "planned from --incidents/--decoys (each in a community of its own, graded by domain rules).",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write JSON Lines to this file")
    target.add_argument("--bootstrap", help="publish to this Kafka (host:port,...), keyed by community")
    parser.add_argument("--scenario", help="scenario file, or a packaged name: drill-50, smoke-test")
    parser.add_argument("--communities", type=int, default=10)
    parser.add_argument("--duration", type=_duration, default=timedelta(hours=6), help="e.g. PT6H (default)")
    parser.add_argument("--seed", type=int, default=None, help="default: the scenario's, else 7")
    parser.add_argument(
        "--incidents",
        default=",".join(IncidentKind),
        help="comma-separated incident kinds, or 'none' (default: all)",
    )
    parser.add_argument(
        "--decoys",
        default=",".join(PLANNED_DECOYS),
        help=f"comma-separated decoy kinds ({', '.join(DecoyKind)}), or 'none' "
        f"(default: {', '.join(PLANNED_DECOYS)})",
    )
    parser.add_argument("--per-kind", type=int, default=1, help="incidents of each kind (default 1)")
    parser.add_argument(
        "--start",
        type=_start,
        default=None,
        help="simulated start (default for --out: the scenario's, else fixed; "
        "for Kafka: so no event is ahead of the clock)",
    )
    parser.add_argument("--truth", type=Path, help="write ground truth (JSON) to this file")
    parser.add_argument("--save-scenario", type=Path, help="write the scenario used (JSON) to this file")
    parser.add_argument("--rate", type=float, default=None, help="Kafka: at most this many events/s")
    parser.add_argument(
        "--speedup",
        type=float,
        default=1.0,
        help="Kafka: simulated seconds per wall second (default 1 = real time; 0 = unpaced)",
    )
    parser.set_defaults(run=run)
