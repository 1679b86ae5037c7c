"""Kafka security settings: client keyword arguments, and errors that name settings, never secrets."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from pipeline.kafka.kafka_security import KafkaSecurity, KafkaSecurityError, load_kafka_security

PASSWORD = "pa55-word-never-logged"


def test_plaintext_is_the_default() -> None:
    security = KafkaSecurity()
    assert security.kafka_python_kwargs() == {"security_protocol": "PLAINTEXT"}
    assert security.faust_credentials() is None


def test_sasl_ssl_gives_every_client_the_same_credentials_and_a_verifying_context(tmp_path: Path) -> None:
    security = load_kafka_security(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="gw-1",
        sasl_password=PASSWORD,
    )
    kwargs = security.kafka_python_kwargs()
    assert kwargs["sasl_plain_password"] == PASSWORD
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-256"
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    credentials = security.faust_credentials()
    assert (credentials.protocol.value, credentials.mechanism.value) == ("SASL_SSL", "SCRAM-SHA-256")
    assert security.aiokafka_kwargs().keys() == kwargs.keys()


def test_tls_without_sasl_gives_faust_ssl_credentials() -> None:
    credentials = load_kafka_security(security_protocol="SSL").faust_credentials()
    assert credentials.protocol.value == "SSL"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"security_protocol": "SASL_PLAINTEXT", "sasl_username": "gw-1"}, "RISKWATCH_KAFKA_SASL_PASSWORD"),
        ({"security_protocol": "SASL_SSL", "sasl_password": PASSWORD}, "RISKWATCH_KAFKA_SASL_USERNAME"),
        ({"sasl_mechanism": "PLAIN", "sasl_password": PASSWORD}, "RISKWATCH_KAFKA_SASL_MECHANISM"),
        ({"ssl_cafile": "/no/such/ca.pem", "sasl_password": PASSWORD}, "RISKWATCH_KAFKA_SSL_CAFILE"),
        ({"security_protocol": "TLS", "sasl_password": PASSWORD}, "RISKWATCH_KAFKA_SECURITY_PROTOCOL"),
    ],
)
def test_errors_name_the_setting_and_never_the_password(settings: dict[str, object], named: str) -> None:
    with pytest.raises(KafkaSecurityError) as caught:
        load_kafka_security(**settings)
    assert named in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_the_password_is_read_from_the_environment_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("RISKWATCH_KAFKA_SASL_USERNAME", "gw-1")
    monkeypatch.setenv("RISKWATCH_KAFKA_SASL_PASSWORD", PASSWORD)
    security = load_kafka_security()
    shown = [repr(security), str(security), security.model_dump_json(), repr(security.faust_credentials())]
    assert all(PASSWORD not in text for text in shown)
    assert security.kafka_python_kwargs()["sasl_plain_password"] == PASSWORD
