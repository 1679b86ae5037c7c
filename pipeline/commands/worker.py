"""``riskwatch worker``: run one worker (starting the embedded broker if none is configured)."""

from __future__ import annotations

import argparse

from pipeline.config import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the Faust worker until it is stopped; a stop takes at most ``STOP_DEADLINE_S``."""
    from pipeline.kafka.broker import EmbeddedBroker
    from pipeline.kafka.kafka_admin import ensure_topics
    from pipeline.worker.app import create_app
    from pipeline.worker.worker_shutdown import BoundedStopWorker

    broker = None
    bootstrap = settings.bootstrap_servers
    if bootstrap is None:
        broker = EmbeddedBroker()
        broker.start()
        bootstrap = broker.bootstrap_servers
        print(f"no RISKWATCH_BOOTSTRAP_SERVERS: started the embedded Tansu broker on {bootstrap}")
    try:
        ensure_topics(settings, bootstrap)
        BoundedStopWorker(create_app(settings, bootstrap), loglevel=args.loglevel).execute_from_commandline()
    finally:
        if broker is not None:
            broker.stop()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``worker``."""
    parser = subparsers.add_parser("worker", help="run one worker (embedded broker if none is configured)")
    parser.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(run=run)
