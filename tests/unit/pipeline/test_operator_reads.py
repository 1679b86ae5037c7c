"""``riskwatch ack`` and ``review`` read the warnings topic with the broker's security settings,
so they work against a SASL/TLS broker as the workers do."""

from __future__ import annotations

from typing import Any

import pytest

import pipeline.kafka.state_store
from pipeline.commands.operator import revisions_of
from pipeline.config import Settings
from pipeline.kafka.kafka_security import KafkaSecurity


def test_revisions_of_reads_the_warnings_topic_with_the_kafka_security_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    security = KafkaSecurity(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="operator",
        sasl_password="s3cret-s3cret",
    )
    settings = Settings(bootstrap_servers="broker:9092", kafka=security)
    calls: list[tuple[str, str, Any]] = []

    async def read_to_end(bootstrap: str, topic: str, **options: Any) -> list[Any]:
        calls.append((bootstrap, topic, options.get("security")))
        return []

    monkeypatch.setattr(pipeline.kafka.state_store, "read_to_end", read_to_end)
    assert revisions_of(settings, "broker:9092", "w-1") == []
    assert calls == [("broker:9092", "riskwatch.warnings", security)]
