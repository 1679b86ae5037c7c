"""The ``riskwatch`` command line.

``riskwatch demo`` runs everything locally; ``riskwatch worker`` runs one
worker; ``riskwatch broker`` runs the embedded broker on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import ConfigurationError, Settings, load_settings


def _cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import faust

    from pipeline.app import create_app
    from pipeline.broker import EmbeddedBroker
    from pipeline.kafka_admin import ensure_topics

    broker = None
    bootstrap = settings.bootstrap_servers
    if bootstrap is None:
        broker = EmbeddedBroker()
        broker.start()
        bootstrap = broker.bootstrap_servers
        print(f"no RISKWATCH_BOOTSTRAP_SERVERS: started the embedded Tansu broker on {bootstrap}")
    try:
        ensure_topics(settings, bootstrap)
        app = create_app(settings, bootstrap)
        worker = faust.Worker(app, loglevel=args.loglevel)
        worker.execute_from_commandline()
    finally:
        if broker is not None:
            broker.stop()
    return 0


def _cmd_broker(settings: Settings, args: argparse.Namespace) -> int:
    from pipeline.broker import EmbeddedBroker

    with EmbeddedBroker(port=args.port) as broker:
        print(f"Tansu broker on {broker.bootstrap_servers} (memory storage); Ctrl-C stops it", flush=True)
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from pipeline.demo import run_demo

    try:
        run_demo(
            settings, communities=args.communities, tick_s=args.tick, seed=args.seed, run_for_s=args.seconds
        )
    except KeyboardInterrupt:
        print("stopped")
    return 0


def _cmd_schemas_export(settings: Settings, args: argparse.Namespace) -> int:
    from schemas.export import export_json_schemas

    for path in export_json_schemas(args.directory):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="riskwatch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    worker = sub.add_parser("worker", help="run one worker (embedded broker if none is configured)")
    worker.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    worker.set_defaults(run=_cmd_worker)

    broker = sub.add_parser("broker", help="run the embedded Tansu broker until Ctrl-C")
    broker.add_argument("--port", type=int, default=9092)
    broker.set_defaults(run=_cmd_broker)

    demo = sub.add_parser("demo", help="local demo: broker, worker, simulated communities, live warnings")
    demo.add_argument("--communities", type=int, default=3)
    demo.add_argument("--tick", type=float, default=0.25, help="seconds between readings of a sensor")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--seconds", type=float, default=None, help="stop after this long (default: Ctrl-C)")
    demo.set_defaults(run=_cmd_demo)

    schemas = sub.add_parser("schemas", help="JSON Schemas of every record")
    schemas_sub = schemas.add_subparsers(dest="schemas_command", required=True)
    export = schemas_sub.add_parser("export", help="write <kind>.schema.json files into DIR")
    export.add_argument("directory", type=Path)
    export.set_defaults(run=_cmd_schemas_export)
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
