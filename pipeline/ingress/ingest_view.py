"""The worker's ``POST /ingest/{kind}`` view: :class:`~.http_ingest.HttpIngest` on Faust's web server.

An adapter of a few lines, like the console's views: read the request, let
the pure handler decide, produce what it returned through the worker's own
Faust producer (so the worker's Kafka security settings apply), answer.
A 202 is sent only after Kafka has acknowledged every produced message.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import faust

from pipeline.ingress.http_ingest import HttpIngest, produce_answer, request_from, response_bytes
from pipeline.ingress.openapi import ingest_openapi
from pipeline.kafka.topics import TopicNames

logger = logging.getLogger(__name__)


def install_ingest(app: faust.App, ingest: HttpIngest, names: TopicNames) -> None:
    """Serve ``POST /ingest/{kind}`` and its OpenAPI document, ``GET /openapi.json``, on ``app``."""

    async def send(topic: str, key: bytes, value: bytes) -> None:
        delivery = await app.topic(topic).send(key=key, value=value)
        await delivery  # the broker's acknowledgement

    document = json.dumps(ingest_openapi()).encode()

    @app.page("/openapi.json")
    async def openapi_view(web: Any, request: Any) -> Any:
        """The OpenAPI document of this endpoint, which the answers follow (tested with schemathesis)."""
        return web.bytes(document, headers={"Content-Type": "application/json"})

    @app.page("/ingest/{kind}")
    class IngestView(faust.web.View):
        async def post(self, request: Any, kind: str) -> Any:
            body = await request.content.read(ingest.limits.max_message_bytes + 1)
            answer = ingest.handle(
                request_from(kind, request.headers, request.query, body), datetime.now(UTC)
            )
            await produce_answer(answer, kind, names, send)
            if answer.client is not None:
                logger.info(
                    "ingest from %s: %d accepted, %d rejected (HTTP %d)",
                    answer.client,
                    answer.body.get("accepted", 0),
                    len(answer.dead_letters),
                    answer.status,
                )
            headers = {"Content-Type": "application/json", **answer.headers}
            return self.bytes(response_bytes(answer), status=answer.status, headers=headers)
