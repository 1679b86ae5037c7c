"""The ``riskwatch`` command line: subcommands live in :mod:`pipeline.commands`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipeline.commands import register_all
from pipeline.config import ConfigurationError, load_settings


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="riskwatch", description="Streaming risk early warning for community crisis governance."
    )
    register_all(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``riskwatch`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"riskwatch: {error}", file=sys.stderr)
        return 2
    result: int = args.run(settings, args)
    return result
