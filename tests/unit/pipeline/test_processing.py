"""The worker's decisions end to end, without a broker: messages in, warning changes out."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.assess.tiers import TierPolicy
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.metrics_scrape import parse_exposition
from pipeline.processing.processor import EventProcessor, InboundMessage
from pipeline.processing.signals import FALSE_ALARM_PENALTY
from schemas import Feedback, Hazard, RejectReason, Tier, WarningChange, WarningStatus
from schemas.hazard import Impact

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SETTINGS = Settings(detector_warmup=30)
TOPICS = TopicNames.from_settings(SETTINGS)


def readings(
    community: str, values: list[float], sensor: str = "water_level", unit: str = "m", device: str = "dev-1"
) -> bytes:
    start = NOW - timedelta(minutes=len(values))
    return json.dumps(
        [
            {
                "kind": "sensor_reading",
                "event_id": f"{community}-{device}-{i}",
                "community_id": community,
                "event_time": (start + timedelta(minutes=i)).isoformat(),
                "device_id": device,
                "sensor_type": sensor,
                "value": v,
                "unit": unit,
            }
            for i, v in enumerate(values)
        ]
    ).encode()


def message(value: bytes, key: str, topic: str = TOPICS.readings, offset: int = 0) -> InboundMessage:
    return InboundMessage(
        topic=topic,
        partition=0,
        offset=offset,
        key=key.encode(),
        value=value,
        timestamp_s=NOW.timestamp() - 0.5,
    )


def quiet(n: int = 60, level: float = 1.0, sd: float = 0.005, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0, sd) for _ in range(n)]


def make_processor() -> tuple[EventProcessor, PipelineMetrics]:
    metrics = PipelineMetrics()
    return EventProcessor(SETTINGS, metrics, ManualClock(NOW), None), metrics


def samples(metrics: PipelineMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return parse_exposition(metrics.exposition().decode())


def test_a_sustained_rise_warns_its_community_and_a_quiet_series_does_not() -> None:
    processor, metrics = make_processor()
    assert processor.handle(message(readings("c-quiet", quiet()), "c-quiet")).warnings == []
    [warning] = processor.handle(message(readings("c-hot", [*quiet(), 3.4, 3.4, 3.4]), "c-hot")).warnings
    assert (warning.community_id, warning.hazard, warning.change) == (
        "c-hot",
        Hazard.FLOOD,
        WarningChange.OPENED,
    )
    assert warning.tier is Tier.II, "a 2.4 m rise, but one sensor alone stops below red (lone witness)"
    assert warning.evidence[0].series == "c-hot/dev-1/water_level" and warning.evidence[0].value == 3.4
    found = samples(metrics)
    readings_labels = (("kind", "sensor_reading"), ("topic", TOPICS.readings))
    assert found[("riskwatch_events_received_total", readings_labels)] == 123
    assert found[("riskwatch_messages_received_total", readings_labels)] == 2
    assert found[("riskwatch_warning_changes_total", (("change", "opened"), ("tier", "II")))] == 1
    assert (
        found[("riskwatch_warnings_active", (("community", "c-hot"), ("hazard", "flood"), ("tier", "II")))]
        == 1
    )
    assert found[("riskwatch_series_monitored", ())] == 2


def test_a_small_but_surprising_rise_stays_blue() -> None:
    processor, _ = make_processor()
    [warning] = processor.handle(message(readings("c-small", [*quiet(), 1.3, 1.3, 1.3]), "c-small")).warnings
    assert (warning.tier, warning.impact, warning.tier_set_by) == (Tier.IV, Impact.MINOR, "impact")


def test_a_lone_spike_does_not_open_a_warning() -> None:
    processor, _ = make_processor()
    assert processor.handle(message(readings("c-1", [*quiet(), 1.5, 1.0, 1.0]), "c-1")).warnings == []


def test_two_sensors_agreeing_reach_red() -> None:
    processor, _ = make_processor()
    processor.handle(message(readings("c-2", [*quiet(), 3.4, 3.4], device="wl-a"), "c-2"))
    changes = processor.handle(message(readings("c-2", [*quiet(seed=2), 3.4, 3.4], device="wl-b"), "c-2"))
    assert changes.warnings[-1].tier is Tier.I
    assert {e.series for e in changes.warnings[-1].evidence} >= {
        "c-2/wl-a/water_level",
        "c-2/wl-b/water_level",
    }


def test_a_physical_limit_warns_even_before_the_model_has_warmed_up() -> None:
    processor, _ = make_processor()
    [warning] = processor.handle(
        message(readings("c-gas", [2.0, 30.0, 30.0], "gas_ch4", "%LEL"), "c-gas")
    ).warnings
    assert warning.hazard is Hazard.GAS_LEAK and warning.tier.severity >= Tier.III.severity
    assert "limits" in warning.evidence[0].model


def test_operator_actions_change_the_warning_and_false_alarms_raise_the_threshold() -> None:
    processor, _ = make_processor()
    [warning] = processor.handle(message(readings("c-op", [*quiet(), 1.3, 1.3, 1.3]), "c-op")).warnings

    def feedback(action: str) -> Feedback:
        return Feedback(
            feedback_id=f"f-{action}",
            warning_id=warning.warning_id,
            community_id="c-op",
            action=action,
            operator="duty officer",
            time=NOW,
        )

    [ack] = processor.act(feedback("acknowledge"), 0).warnings
    assert (ack.status, ack.caused_by, ack.revision) == (WarningStatus.ACKNOWLEDGED, "duty officer", 2)
    [false_alarm] = processor.act(feedback("false_alarm"), 0).warnings
    assert false_alarm.status is WarningStatus.FALSE_ALARM
    assert processor.sensors.penalty("c-op/dev-1/water_level") == FALSE_ALARM_PENALTY


def test_bad_messages_become_counted_dead_letters_and_processing_goes_on() -> None:
    processor, metrics = make_processor()
    [letter] = processor.handle(message(b"{nope", "c-1", offset=7)).dead_letters
    assert (letter.reason_class, letter.offset, letter.raw) == (RejectReason.NOT_JSON, 7, b"{nope")
    assert processor.handle(message(readings("c-1", [1.0]), "c-1", offset=8)).dead_letters == []
    assert samples(metrics)[("riskwatch_dead_letters_total", (("reason", "not_json"),))] == 1


def test_telemetry_and_reports_are_validated_on_their_own_topics_and_assessed() -> None:
    processor, metrics = make_processor()
    telemetry: dict[str, Any] = {
        "kind": "device_telemetry",
        "event_id": "t-1",
        "community_id": "c-1",
        "event_time": NOW.isoformat(),
        "device_id": "dev-1",
        "status": "offline",
    }
    assert (
        processor.handle(message(json.dumps(telemetry).encode(), "c-1", TOPICS.telemetry)).dead_letters == []
    )
    wrong = processor.handle(message(json.dumps(telemetry).encode(), "c-1", TOPICS.reports))
    assert [d.reason_class for d in wrong.dead_letters] == [RejectReason.WRONG_TOPIC]
    telemetry_labels = (("kind", "device_telemetry"), ("topic", TOPICS.telemetry))
    assert samples(metrics)[("riskwatch_events_received_total", telemetry_labels)] == 1
    reports = [
        {
            "kind": "resident_report",
            "event_id": f"r-{i}",
            "community_id": "c-1",
            "event_time": NOW.isoformat(),
            "report_id": f"r-{i}",
            "reporter_role": role,
            "category": "public_security",
            "description": "a crowd is fighting at the market gate",
            "observed_time": NOW.isoformat(),
            "severity": 4,
        }
        for i, role in enumerate(["resident", "police", "grid_worker"])
    ]
    held = processor.handle(message(json.dumps(reports).encode(), "c-1", TOPICS.reports))
    assert held.warnings == [], "reports wait while no reading of their partition has been seen"
    changes = processor.tick()
    assert changes.warnings and changes.warnings[-1].hazard is Hazard.PUBLIC_SECURITY
    assert {e.report_id for e in changes.warnings[-1].evidence} >= {"r-1"}


def basement_reports(at: datetime) -> bytes:
    return json.dumps(
        [
            {
                "kind": "resident_report",
                "event_id": f"flood-{i}",
                "community_id": "c-1",
                "event_time": at.isoformat(),
                "report_id": f"flood-{i}",
                "reporter_role": role,
                "category": "flood",
                "description": "water is coming into the basement",
                "observed_time": at.isoformat(),
                "severity": 4,
            }
            for i, role in enumerate(["resident", "grid_worker"])
        ]
    ).encode()


def test_reports_read_ahead_of_the_readings_wait_so_the_warning_is_stamped_when_the_water_rose() -> None:
    """In a catch-up the reports topic runs ahead; the rise in the readings must still date the warning."""
    processor, _ = make_processor()
    rise = [1.0 + 0.01 * minute for minute in range(30)]
    values = [*quiet(60), *rise]  # readings at NOW-90 min ... NOW-1 min; the rise starts at NOW-30 min
    reported_at = NOW - timedelta(minutes=5)
    assert processor.handle(message(basement_reports(reported_at), "c-1", TOPICS.reports)).warnings == []
    warnings = processor.handle(message(readings("c-1", values), "c-1")).warnings
    assert warnings, "the rise and the reports open a flood warning"
    assert warnings[0].change is WarningChange.OPENED
    assert warnings[0].opened_at < reported_at - timedelta(minutes=10), "dated by the rise, not the reports"
    assert not processor.assessor.holding, "the readings passed the reports, which were then folded in"
    state = processor.assessor.export_community("c-1")
    assert state is not None and "report" in json.dumps(state["signals"])


def test_reports_behind_the_readings_are_assessed_at_once() -> None:
    processor, _ = make_processor()
    processor.handle(message(readings("c-1", quiet()), "c-1"))
    processor.handle(message(basement_reports(NOW - timedelta(minutes=30)), "c-1", TOPICS.reports))
    assert not processor.assessor.holding


def test_consumer_lag_is_exported_per_partition() -> None:
    metrics = PipelineMetrics()
    metrics.track_consumer_lag(lambda: {("t.readings", 1): 12})
    assert (
        samples(metrics)[("riskwatch_consumer_lag_messages", (("partition", "1"), ("topic", "t.readings")))]
        == 12
    )


def test_a_warning_steps_down_and_resolves_when_readings_turn_quiet() -> None:
    """Quiet readings are not forwarded to fusion; event time must still move the ladder on."""
    fast = Settings(detector_warmup=30).model_copy(
        update={"assessment": SETTINGS.assessment.model_copy(update={"tiers": TierPolicy(exit_dwell_s=60.0)})}
    )
    processor = EventProcessor(fast, PipelineMetrics(), ManualClock(NOW), None)
    start = NOW - timedelta(minutes=90)

    def batch(values: list[float], first_minute: int) -> bytes:
        return json.dumps(
            [
                {
                    "kind": "sensor_reading",
                    "event_id": f"q-{first_minute + i}",
                    "community_id": "c-q",
                    "event_time": (start + timedelta(minutes=first_minute + i)).isoformat(),
                    "device_id": "dev-1",
                    "sensor_type": "water_level",
                    "value": v,
                    "unit": "m",
                }
                for i, v in enumerate(values)
            ]
        ).encode()

    opened = processor.handle(message(batch([*quiet(), 2.3, 2.3, 2.3], 0), "c-q")).warnings
    calm = processor.handle(message(batch(quiet(20, seed=3), 63), "c-q")).warnings
    assert [w.change for w in opened] == [WarningChange.OPENED]
    assert [(w.change, w.tier) for w in calm] == [
        (WarningChange.DE_ESCALATED, Tier.III),  # while the held evidence still grades III
        (WarningChange.RESOLVED, Tier.III),
    ]


def test_device_silence_is_judged_in_event_time_not_wall_time() -> None:
    """A replay, a drill or a worker catching up runs far behind the wall clock: its devices are
    not silent for that (a silent device's readings would be ignored and its warnings lost)."""
    processor = EventProcessor(SETTINGS, PipelineMetrics(), ManualClock(NOW + timedelta(days=3)), None)
    start = NOW - timedelta(minutes=80)

    def at(minute: int) -> str:
        return (start + timedelta(minutes=minute)).isoformat()

    beats = [
        {
            "kind": "device_telemetry",
            "event_id": f"hb-{m}",
            "community_id": "c-s",
            "event_time": at(m),
            "device_id": "dev-1",
            "heartbeat_interval_s": 60,
        }
        for m in range(70)
    ]

    def water(minutes: range, value: float | None = None) -> bytes:
        values = quiet(len(minutes)) if value is None else [value] * len(minutes)
        return json.dumps(
            [
                {
                    "kind": "sensor_reading",
                    "event_id": f"w-{m}",
                    "community_id": "c-s",
                    "event_time": at(m),
                    "device_id": "dev-1",
                    "sensor_type": "water_level",
                    "value": v,
                    "unit": "m",
                }
                for m, v in zip(minutes, values, strict=True)
            ]
        ).encode()

    processor.handle(message(json.dumps(beats).encode(), "c-s", TOPICS.telemetry))
    processor.handle(message(water(range(60)), "c-s"))
    assert processor.tick().warnings == []
    [warning] = processor.handle(message(water(range(60, 63), 1.3), "c-s")).warnings
    assert warning.hazard is Hazard.FLOOD


def test_a_tick_releases_held_reports_only_where_the_broker_says_the_readings_are_caught_up() -> None:
    """A saturated worker also sees its readings' time stand still; only the broker's lag says more."""
    processor, _ = make_processor()
    processor.handle(message(readings("c-1", quiet()), "c-1"))
    processor.handle(message(basement_reports(NOW + timedelta(minutes=5)), "c-1", TOPICS.reports))
    processor.tick(lambda partition: False)
    processor.tick(lambda partition: False)
    assert processor.assessor.holding, "readings are still queued on the broker: keep waiting"
    processor.tick(lambda partition: True)
    assert not processor.assessor.holding
