"""``riskwatch demo``: broker, worker, simulated communities and live warnings on one terminal."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from pipeline.config import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C (or ``--seconds``)."""
    from pipeline.demo import run_demo
    from pipeline.notify.roster import RosterError, parse_roster

    roster = None
    if args.roster is not None:
        try:
            roster = parse_roster(args.roster.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, RosterError) as error:
            print(f"riskwatch: the roster {args.roster} cannot be used:\n{error}", file=sys.stderr)
            return 2

    # SIGTERM (a service manager, `kill`) stops the demo like Ctrl-C: the broker and the
    # worker it started are stopped too, instead of being left running.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_demo(
            settings,
            communities=args.communities,
            tick_s=args.tick,
            seed=args.seed,
            run_for_s=args.seconds,
            roster=roster,
        )
    except KeyboardInterrupt:
        print("stopped")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``."""
    parser = subparsers.add_parser(
        "demo", help="local demo: broker, worker, simulated communities, live warnings"
    )
    parser.add_argument("--communities", type=int, default=3)
    parser.add_argument("--tick", type=float, default=0.25, help="seconds between readings of a sensor")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long (default: Ctrl-C)")
    parser.add_argument(
        "--roster", type=Path, default=None, help="a roster CSV: also run riskwatch notify and deliver to it"
    )
    parser.set_defaults(run=run)
