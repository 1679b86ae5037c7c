"""Events as JSON text: one Kafka message value per batch, or one JSON line per event.

Readings are most of the stream, so they are formatted by a template
(~4x faster than the json module); the result is byte for byte what
``json.dumps(event, separators=(",", ":"))`` gives, which a test checks on
every kind of event the generator makes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any

from pipeline.simulation.generator import Batch

_encode = json.JSONEncoder(separators=(",", ":")).encode


def encode_event(event: dict[str, Any]) -> str:
    """One event as compact JSON; readings by a template, ~4x faster than the json module.

    A reading holds only identifiers (no characters JSON escapes), a timestamp,
    enum names and a finite float, whose ``repr`` is valid JSON; anything else
    goes through the json module.

    >>> import json
    >>> reading = {"kind": "sensor_reading", "event_id": "c1.wl-1.r0", "community_id": "c1",
    ...            "event_time": "2026-06-01T00:00:00+00:00", "device_id": "c1.wl-1",
    ...            "sensor_type": "water_level", "value": 0.61, "unit": "m"}
    >>> json.loads(encode_event(reading)) == reading
    True
    """
    if event.get("kind") == "sensor_reading" and len(event) == _READING_FIELDS:
        return (
            f'{{"kind":"sensor_reading","event_id":"{event["event_id"]}",'
            f'"community_id":"{event["community_id"]}","event_time":"{event["event_time"]}",'
            f'"device_id":"{event["device_id"]}","sensor_type":"{event["sensor_type"]}",'
            f'"value":{event["value"]!r},"unit":"{event["unit"]}"}}'
        )
    return _encode(event)


_READING_FIELDS = 8


def batch_json(batch: Batch) -> bytes:
    """The batch as one Kafka message value: a JSON array of its events."""
    return ("[" + ",".join(map(encode_event, batch.events)) + "]").encode()


def write_jsonl(batches: Iterable[Batch], out: IO[str]) -> Counter[str]:
    """Write every event as one JSON line; return the number of events per kind."""
    counts: Counter[str] = Counter()
    for batch in batches:
        if batch.events:
            out.write("\n".join(map(encode_event, batch.events)) + "\n")
            counts[batch.kind] += len(batch.events)
    return counts
