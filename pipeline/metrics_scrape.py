"""Read a worker's ``/metrics`` over HTTP: used by benchmarks, drills and tests to await progress.

>>> samples = parse_exposition('riskwatch_events_received_total{kind="sensor_reading"} 3.0\\n')
>>> total(samples, "riskwatch_events_received_total")
3.0
"""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
"""``(metric name, sorted label pairs) -> value``."""


def parse_exposition(text: str) -> Samples:
    """Every sample of a Prometheus text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(base_url: str, timeout_s: float = 5.0) -> Samples:
    """Fetch and parse ``base_url/metrics``."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=timeout_s) as response:
        return parse_exposition(response.read().decode())


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, pairs), v in samples.items() if n == name and wanted <= set(pairs))
