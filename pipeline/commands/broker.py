"""``riskwatch broker``: run the embedded Tansu broker until Ctrl-C or SIGTERM.

Tansu goes when this process goes, however it ends (kill -9 included): see
:meth:`pipeline.processes.ManagedProcess.popen`.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from pipeline.config import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from pipeline.kafka.broker import EmbeddedBroker

    with EmbeddedBroker(port=args.port) as broker:
        print(f"Tansu broker on {broker.bootstrap_servers} (memory storage); Ctrl-C stops it", flush=True)
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``broker``."""
    parser = subparsers.add_parser("broker", help="run the embedded Tansu broker until Ctrl-C")
    parser.add_argument("--port", type=int, default=9092)
    parser.set_defaults(run=run)
