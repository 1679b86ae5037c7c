"""Coverage-guided fuzzing of the ingest path with atheris (libFuzzer for Python).

Run by ``test_ingress_atheris`` in a subprocess for a bounded number of runs;
by hand: ``python tests/unit/ingress/ingress_atheris_harness.py -runs=100000``.
Each input is a body posted as JSON and as SenML; the handler must answer
with a documented status and account for every item (accepted + dead-lettered).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest

# atheris is optional: pytest's doctest collection imports this file and must skip it cleanly.
atheris = pytest.importorskip("atheris")

with atheris.instrument_imports(include=["pipeline", "schemas"]):
    from pipeline.ingress.http_ingest import HttpIngest, IngestRequest
    from pipeline.ingress.senml import SENML_CONTENT_TYPE
    from pipeline.ingress.settings import IngestToken
    from pipeline.processing.decoding import DecodeLimits

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "atheris-token-0123456789"
INGEST = HttpIngest(
    [IngestToken(name="fuzz", token=TOKEN, communities=["c-1"])],
    DecodeLimits(max_message_bytes=4096, max_batch_events=20),
)
SEED = json.dumps(
    [
        {
            "kind": "sensor_reading",
            "event_id": "e-1",
            "community_id": "c-1",
            "event_time": NOW.isoformat(),
            "device_id": "wl-1",
            "sensor_type": "water_level",
            "value": 1.0,
            "unit": "m",
        }
    ]
).encode()


def one_input(body: bytes) -> None:
    """Post ``body`` both ways and check the accounting."""
    for content_type in ("application/json", SENML_CONTENT_TYPE):
        request = IngestRequest("sensor_reading", f"Bearer {TOKEN}", content_type, body, community="c-1")
        answer = INGEST.handle(request, NOW)
        if answer.status not in (202, 400, 403, 413, 422):
            raise AssertionError(f"undocumented status {answer.status}")
        produced = sum(len(json.loads(m.value)) for m in answer.messages)
        if (produced, len(answer.dead_letters)) != (
            answer.body.get("accepted", 0),
            answer.body.get("rejected", 0),
        ):
            raise AssertionError(f"items not accounted for: {answer.body}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
