"""Schemathesis against the real ingest server: generated requests from the OpenAPI document.

Every answer must be one the document describes (status, content type,
response schema) and never a server error, whatever the body.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from pipeline.ingress.http_ingest import HttpIngest
from pipeline.ingress.openapi import ingest_openapi
from pipeline.ingress.settings import IngestToken
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import DecodeLimits
from tests.integration.conftest import isolated_settings
from tests.integration.ingress_http_server import serve_ingest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

TOKEN = "schemathesis-token-0123456789"
schema = schemathesis.openapi.from_dict(ingest_openapi())


@pytest.fixture(scope="module")
def base_url(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = isolated_settings(broker, tmp_path_factory.mktemp("st"))
    topics = TopicNames.from_settings(settings)
    ingest = HttpIngest([IngestToken(name="st", token=TOKEN, communities=["c-1"])], DecodeLimits())
    with serve_ingest(ingest, broker.bootstrap_servers, topics, settings.data_dir) as url:
        yield url


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_ingest_endpoint_answers_as_documented(case: schemathesis.Case, base_url: str) -> None:
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, None):
        case.call_and_validate(
            base_url=base_url,
            headers=headers,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )
