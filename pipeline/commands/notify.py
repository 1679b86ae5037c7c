"""``riskwatch notify``: deliver responder notifications to the people on the roster.

Runs until SIGTERM or Ctrl-C; see :mod:`pipeline.notify.service`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from pipeline.config import Settings


async def _serve(settings: Settings) -> None:
    from pipeline.notify.metrics import NotifyMetrics
    from pipeline.notify.service import NotifyService, serve_metrics

    metrics = NotifyMetrics()
    serve_metrics(settings, metrics)
    main = asyncio.create_task(NotifyService(settings, metrics).run())
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, main.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await main


def run_notify(settings: Settings, args: argparse.Namespace) -> int:
    """Start the notify process."""
    from pipeline.commands.operator import bootstrap_of

    bootstrap_of(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(settings))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``notify``."""
    parser = subparsers.add_parser(
        "notify", help="deliver notifications to the roster (webhook, e-mail, WeCom, DingTalk, Feishu)"
    )
    parser.set_defaults(run=run_notify)
