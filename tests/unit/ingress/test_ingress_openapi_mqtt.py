"""The ingest endpoint's OpenAPI document, and the MQTT bridge's topic routing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from pipeline.config import Settings
from pipeline.ingress.mqtt_bridge import BridgeCore, TopicRoute
from pipeline.ingress.openapi import ingest_openapi
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import DecodeLimits


def test_every_reference_in_the_openapi_document_resolves() -> None:
    spec = ingest_openapi()
    text = json.dumps(spec)
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert refs and refs <= spec["components"]["schemas"].keys()
    assert "SensorReading" in spec["components"]["schemas"]


@pytest.mark.parametrize("pattern", ["riskwatch/{community}/{kind}", "rw/+/{community}/{device}/{kind}"])
def test_topic_patterns_need_every_placeholder_and_no_wildcards(pattern: str) -> None:
    with pytest.raises(ValueError, match="MQTT topic pattern"):
        TopicRoute(pattern)


def test_messages_on_unknown_topics_or_kinds_become_dead_letters() -> None:
    topics = TopicNames.from_settings(Settings(topic_prefix="m."))
    core = BridgeCore(TopicRoute("site/{community}/{device}/{kind}"), topics, DecodeLimits())
    now = datetime(2026, 11, 23, tzinfo=UTC)
    stray = core.translate("elsewhere/c-1/d-1/senml", b"[]", now)
    unknown = core.translate("site/c-1/d-1/bogus", b"{}", now)
    assert [d.reason_class.value for d in stray.dead_letters + unknown.dead_letters] == [
        "wrong_topic",
        "unknown_kind",
    ]
    assert not stray.messages and not unknown.messages
    assert unknown.dead_letters[0].key == "c-1"
