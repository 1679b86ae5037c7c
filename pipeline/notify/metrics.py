"""Prometheus metrics of ``riskwatch notify``, in their own registry (labels: channel, outcome, reason)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class NotifyMetrics:
    """What an operator watches of delivery."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attempts = Counter(
            "riskwatch_notify_attempts_total",
            "Delivery attempts by channel and outcome (delivered, failed, gave_up).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.skipped = Counter(
            "riskwatch_notify_skipped_total",
            "Notifications or recipients not attempted: duplicate (already delivered), stale, "
            "no_recipient, unreadable.",
            ["reason"],
            registry=self.registry,
        )
        self.queued = Gauge(
            "riskwatch_notify_queued", "Messages waiting or being attempted.", registry=self.registry
        )
        self.ready = Gauge(
            "riskwatch_notify_ready",
            "1 once the process has read its state and joined its group.",
            registry=self.registry,
        )
