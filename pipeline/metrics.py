"""Prometheus metrics of one worker, in their own registry.

Names follow Prometheus conventions: ``riskwatch_`` prefix, ``_total`` on
counters, units in names. Labels stay bounded: event kind, reject reason
class, tier, change — never a device id or warning id.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from schemas.warning import RiskWarning

#: Prometheus text exposition format; set as the Content-Type header directly
#: (Faust's ``content_type=`` argument rejects the ``; charset=`` part).
EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ActiveWarningsCollector(Collector):
    """``riskwatch_warnings_active{tier,hazard,community}``, computed at scrape time from the
    live warning state, so a resolved warning's label set disappears instead of lingering at 0."""

    def __init__(self, active: Callable[[], Iterable[RiskWarning]]) -> None:
        self._active = active

    def collect(self) -> Iterator[Metric]:
        """One gauge sample per (tier, hazard, community) with open warnings."""
        family = GaugeMetricFamily(
            "riskwatch_warnings_active",
            "Open (active or acknowledged) warnings, by tier, hazard and community.",
            labels=["tier", "hazard", "community"],
        )
        counts = Tally((w.tier.name, w.hazard.value, w.community_id) for w in self._active() if w.is_open)
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        yield family


class ConsumerLagCollector(Collector):
    """``riskwatch_consumer_lag_messages{topic,partition}`` from the consumer's own view.

    ``lag()`` returns ``{(topic, partition): messages}``. The worker computes it from the
    high watermark carried in Fetch responses, not from ListOffsets, which Tansu answers
    wrongly after a multi-record batch (see README).
    """

    def __init__(self, lag: Callable[[], Mapping[tuple[str, int], int]]) -> None:
        self._lag = lag

    def collect(self) -> Iterator[Metric]:
        """One gauge sample per assigned input partition whose position is known."""
        family = GaugeMetricFamily(
            "riskwatch_consumer_lag_messages",
            "Messages in the partition not yet processed by this worker.",
            labels=["topic", "partition"],
        )
        for (topic, partition), lag in sorted(self._lag().items()):
            family.add_metric([topic, str(partition)], lag)
        yield family


class PipelineMetrics:
    """Every metric a worker exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages_received = Counter(
            "riskwatch_messages_received_total",
            "Kafka messages consumed, by the event kind of their topic.",
            ["kind"],
            registry=self.registry,
        )
        self.events_received = Counter(
            "riskwatch_events_received_total",
            "Valid events accepted (a batch message counts each event), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "riskwatch_dead_letters_total",
            "Messages or batch items sent to the dead-letter topic, by reason class.",
            ["reason"],
            registry=self.registry,
        )
        self.warning_changes = Counter(
            "riskwatch_warning_changes_total",
            "Warning revisions emitted, by tier and change (opened, escalated, resolved, ...).",
            ["tier", "change"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "riskwatch_processing_latency_seconds",
            "From the producer's message timestamp until the worker finished with it.",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.series_monitored = Gauge(
            "riskwatch_series_monitored",
            "Series (community x device x sensor type) with a detector on this worker.",
            registry=self.registry,
        )
        self.series_warming_up = Gauge(
            "riskwatch_series_warming_up",
            "Series whose detector has not yet seen enough data to warn.",
            registry=self.registry,
        )
        self.notifications = Counter(
            "riskwatch_notifications_total",
            "Responder notifications, by kind (opened, escalated, repeat, ack_overdue, ...) and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.checkpoint_records = Counter(
            "riskwatch_checkpoint_records_total",
            "States written to the state topics, by state (detector or assessment).",
            ["state"],
            registry=self.registry,
        )
        self.restored_states = Counter(
            "riskwatch_restored_states_total",
            "States read back on partition assignment, by state and outcome (restored or reject reason).",
            ["state", "outcome"],
            registry=self.registry,
        )
        self.checkpoint_age = Gauge(
            "riskwatch_checkpoint_age_seconds",
            "Seconds since the last completed checkpoint (since start if none yet).",
            registry=self.registry,
        )

    def track_series(self, monitored: Callable[[], int], warming_up: Callable[[], int]) -> None:
        """Compute the series gauges at scrape time from the live detector bank."""
        self.series_monitored.set_function(monitored)
        self.series_warming_up.set_function(warming_up)

    def track_active_warnings(self, active: Callable[[], Iterable[RiskWarning]]) -> None:
        """Export open warnings from ``active()`` at every scrape."""
        self.registry.register(ActiveWarningsCollector(active))

    def track_consumer_lag(self, lag: Callable[[], Mapping[tuple[str, int], int]]) -> None:
        """Export consumer lag from ``lag()`` at every scrape."""
        self.registry.register(ConsumerLagCollector(lag))

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
