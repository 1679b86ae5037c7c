"""The whole slice on a real broker: readings in, warnings and dead letters out, metrics counted.

A warning opens on a sustained deviation (the ladder's 2-of-3 entry rule), so each
"spike" here is three anomalous readings; one sensor alone reaches II orange at most.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess
from schemas import DeadLetter, Hazard, RejectReason, RiskWarning, Tier
from tests.integration.conftest import publish, read_until

NOW = datetime.now(UTC).replace(microsecond=0)


def readings(
    community: str,
    values: list[float],
    sensor: str = "water_level",
    unit: str = "m",
    start: datetime | None = None,
) -> list[dict[str, Any]]:
    """A gateway's batch: one reading a minute, ending now."""
    first = start or NOW - timedelta(minutes=len(values))
    return [
        {
            "kind": "sensor_reading",
            "event_id": f"{community}-{sensor}-{i}",
            "community_id": community,
            "event_time": (first + timedelta(minutes=i)).isoformat(),
            "device_id": f"{community}-{sensor}",
            "sensor_type": sensor,
            "value": round(v, 5),
            "unit": unit,
        }
        for i, v in enumerate(values)
    ]


def quiet(n: int, level: float, sd: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0, sd) for _ in range(n)]


def warnings_of(records: list[Any]) -> list[RiskWarning]:
    return [RiskWarning.model_validate_json(r.value) for r in records]


def test_a_spike_warns_its_community_and_a_quiet_series_does_not(
    worker: WorkerProcess, broker: EmbeddedBroker, producer: KafkaProducer, topics: TopicNames
) -> None:
    baseline = quiet(60, 1.0, 0.005, seed=1)
    # The quiet community's water level stays quiet; then, in the same partition and
    # after it, a gas spike is the sentinel: if the quiet series had warned, that
    # warning would stand before the sentinel's.
    publish(producer, topics.readings, "c-quiet", readings("c-quiet", quiet(61, 1.0, 0.005, seed=2)))
    # A 1.4 m rise: severe (ARR 2019 hazard class H4), orange from one gauge alone.
    publish(producer, topics.readings, "c-hot", readings("c-hot", [*baseline, 2.4, 2.4, 2.4]))
    gas = quiet(60, 2.0, 0.1, seed=3)
    publish(
        producer, topics.readings, "c-quiet", readings("c-quiet", [*gas, 9.0, 9.0, 9.0], "gas_ch4", "%LEL")
    )

    def seen_both(records: list[Any]) -> bool:
        communities = {w.community_id for w in warnings_of(records)}
        return {"c-hot", "c-quiet"} <= communities

    found = warnings_of(read_until(broker, topics.warnings, seen_both))
    hot = [w for w in found if w.community_id == "c-hot"]
    assert [(w.hazard, w.tier, w.revision) for w in hot] == [(Hazard.FLOOD, Tier.II, 1)]
    assert hot[0].evidence[0].series == "c-hot/c-hot-water_level/water_level"
    first_quiet = next(w for w in found if w.community_id == "c-quiet")
    assert first_quiet.hazard is Hazard.GAS_LEAK, "the quiet water level must not have warned"


BAD_MESSAGES: dict[str, tuple[bytes, RejectReason]] = {
    "bad-notjson": (b"\x00\xffgarbage", RejectReason.NOT_JSON),
    "bad-nan": (b'{"kind": "sensor_reading", "value": NaN}', RejectReason.NOT_JSON),
    "bad-shape": (b"42", RejectReason.WRONG_SHAPE),
    "bad-kind": (b'{"kind": "weather", "event_id": "x"}', RejectReason.UNKNOWN_KIND),
    "bad-missing": (
        json.dumps({**readings("bad-missing", [1.0])[0], "value": None}).encode(),
        RejectReason.INVALID_FIELD,
    ),
    "bad-inf": (
        json.dumps(readings("bad-inf", [1.5])[0]).replace("1.5", "1e999").encode(),
        RejectReason.NON_FINITE,
    ),
    "bad-type": (
        json.dumps({**readings("bad-type", [1.0])[0], "value": "high"}).encode(),
        RejectReason.INVALID_FIELD,
    ),
    "bad-large": (b'{"kind": "sensor_reading", "pad": "' + b"x" * 1_100_000 + b'"}', RejectReason.TOO_LARGE),
}


def test_every_invalid_message_lands_in_the_dead_letter_topic_with_its_reason(
    worker: WorkerProcess, broker: EmbeddedBroker, producer: KafkaProducer, topics: TopicNames
) -> None:
    big = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, max_request_size=2_000_000)
    try:
        for key, (raw, _) in BAD_MESSAGES.items():
            publish(big if key == "bad-large" else producer, topics.readings, key, raw)
    finally:
        big.close()

    def all_seen(records: list[Any]) -> bool:
        return {DeadLetter.model_validate_json(r.value).key for r in records} >= set(BAD_MESSAGES)

    letters = {
        (d := DeadLetter.model_validate_json(r.value)).key: d
        for r in read_until(broker, topics.deadletter, all_seen)
    }
    for key, (raw, reason) in BAD_MESSAGES.items():
        letter = letters[key]
        assert letter.reason_class is reason, f"{key}: {letter.reason}"
        assert letter.raw_size == len(raw)
        assert letter.raw_sha256 == hashlib.sha256(raw).hexdigest()
        kept = raw[: worker.settings.max_message_bytes]
        assert (base64.b64decode(letter.raw_base64), letter.raw_truncated) == (kept, kept != raw)
        assert letter.source_topic == topics.readings
        assert letter.reason
    # The worker kept going: a valid reading after the bad ones is still processed.
    publish(
        producer, topics.readings, "c-after", readings("c-after", [*quiet(60, 3.0, 0.01, 4), 3.5, 3.5, 3.5])
    )
    read_until(broker, topics.warnings, lambda rs: any(w.community_id == "c-after" for w in warnings_of(rs)))


def test_metrics_endpoint_counts_events_dead_letters_and_warnings(
    worker: WorkerProcess, broker: EmbeddedBroker, producer: KafkaProducer, topics: TopicNames
) -> None:
    publish(
        producer,
        topics.readings,
        "c-metrics",
        readings("c-metrics", [*quiet(60, 5.0, 0.01, 5), 6.5, 6.5, 6.5]),
    )
    read_until(
        broker, topics.warnings, lambda rs: any(w.community_id == "c-metrics" for w in warnings_of(rs))
    )
    with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    readings_labels = (("kind", "sensor_reading"), ("topic", topics.readings))
    assert samples[("riskwatch_events_received_total", readings_labels)] >= 61
    assert samples[("riskwatch_broker_connected", ())] == 1
    for stage in ("decode", "score", "assess", "emit"):
        assert samples[("riskwatch_stage_latency_seconds_count", (("stage", stage),))] >= 1, stage
    assert samples[("riskwatch_detector_surprise_decades_count", (("sensor_type", "water_level"),))] >= 1
    assert ("riskwatch_community_last_event_timestamp_seconds", (("community", "c-metrics"),)) in samples
    assert samples[("riskwatch_warning_changes_total", (("change", "opened"), ("tier", "II")))] >= 1
    assert samples[("riskwatch_processing_latency_seconds_count", (("kind", "sensor_reading"),))] >= 1
    assert samples[("riskwatch_series_monitored", ())] >= 1
    assert (
        samples[
            ("riskwatch_warnings_active", (("community", "c-metrics"), ("hazard", "flood"), ("tier", "II")))
        ]
        == 1
    )
    lags = {
        dict(labels)["partition"]: v
        for (name, labels), v in samples.items()
        if name == "riskwatch_consumer_lag_messages" and dict(labels)["topic"] == topics.readings
    }
    assert lags and set(lags.values()) == {0.0}, f"everything published was processed: {lags}"
    dead = {
        labels[0][1]: v for (name, labels), v in samples.items() if name == "riskwatch_dead_letters_total"
    }
    assert set(dead) <= {r.value for r in RejectReason}
