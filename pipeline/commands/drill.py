"""``riskwatch drill SCENARIO``: a scenario through the real pipeline, and its score card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.config import Settings
from pipeline.simulation.scenario import ScenarioError, load_scenario, scenario_path
from pipeline.simulation.scorecard import format_scorecard


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the drill; print the score card (text, or JSON with ``--json``)."""
    from pipeline.simulation.drill import DrillError, run_drill

    try:
        scenario = load_scenario(scenario_path(args.scenario))
    except ScenarioError as error:
        print(f"riskwatch drill: {error}", file=sys.stderr)
        return 2
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    try:
        result = run_drill(
            scenario,
            settings,
            log_dir=Path(settings.data_dir) / "drill",
            tolerance=args.tolerance,
            speedup=args.speedup,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except DrillError as error:
        print(f"riskwatch drill: {error}", file=sys.stderr)
        return 1
    if args.truth:
        result.truth.write(args.truth)
    if args.warnings:
        args.warnings.write_text("".join(w.model_dump_json() + "\n" for w in result.warnings))
    if args.json:
        print(json.dumps(result.card.model_dump(mode="json"), indent=2))
    else:
        print(format_scorecard(result.card))
        print(
            f"\n{sum(result.events.values())} events in {sum(result.messages.values())} messages, "
            f"published in {result.publish_s:.1f} s, processed in {result.process_s:.1f} s; "
            f"dead letters {result.dead_letters}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``drill``."""
    parser = subparsers.add_parser(
        "drill",
        help="run a scenario through the real pipeline and print its score card",
        description="Starts an embedded broker (unless RISKWATCH_BOOTSTRAP_SERVERS is set) and a worker "
        "with topics of its own, publishes the scenario ending now, and scores the warnings.",
    )
    parser.add_argument(
        "scenario", help="scenario file, or a packaged name: drill-50, smoke-test, exposure-and-slow-flood"
    )
    parser.add_argument("--json", action="store_true", help="print the score card as JSON")
    parser.add_argument(
        "--tolerance",
        type=int,
        default=1,
        help="tiers a warning may be off on the card's second line; the headline is exact (default 1)",
    )
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    parser.add_argument(
        "--speedup",
        type=float,
        default=None,
        help="pace events: simulated seconds per wall second, ending now (default: unpaced)",
    )
    parser.add_argument("--truth", type=Path, help="also write the ground truth (JSON) here")
    parser.add_argument("--warnings", type=Path, help="also write every warning revision (JSON Lines) here")
    parser.set_defaults(run=run)
