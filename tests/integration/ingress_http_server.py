"""The worker's ingest view on a real Faust web server, in a thread of its own, for HTTP tests.

The view is :func:`pipeline.ingress.ingest_view.install_ingest`, exactly as the worker
installs it; it produces through the Faust app's own producer to the real broker.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faust

from pipeline.ingress.http_ingest import HttpIngest
from pipeline.ingress.ingest_view import install_ingest
from pipeline.kafka.broker import free_port
from pipeline.kafka.topics import TopicNames


@contextmanager
def serve_ingest(
    ingest: HttpIngest, bootstrap_servers: str, topics: TopicNames, data_dir: Path
) -> Iterator[str]:
    """Run the ingest view on a free loopback port; yield its base URL."""
    port = free_port()
    app = faust.App(
        f"ingest-test-{uuid.uuid4().hex[:8]}",
        broker=f"kafka://{bootstrap_servers}",
        value_serializer="raw",
        key_serializer="raw",
        topic_disable_leader=True,
        web_enabled=True,
        web_bind="127.0.0.1",
        web_host="127.0.0.1",
        web_port=port,
        datadir=str(data_dir),
    )
    install_ingest(app, ingest, topics)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(app.web.start())
        started.set()
        loop.run_forever()

    async def stop() -> None:
        await app.web.stop()
        await app.producer.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(15), "the ingest web server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
