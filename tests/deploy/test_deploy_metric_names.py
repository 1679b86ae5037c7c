"""Every metric the Prometheus rules and the Grafana dashboard query is one a worker really exports."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
from pathlib import Path

import yaml
from deploy_files import DEPLOY, load_yaml
from prometheus_client.registry import CollectorRegistry

from pipeline.metrics import PipelineMetrics

RULES = DEPLOY / "prometheus" / "rules" / "riskwatch.rules.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "riskwatch-overview.json"

# The ONE allow-list of metrics the rules and dashboard use before the worker exports
# them ({name: type}); empty while every queried metric is exported. A test below
# fails as soon as one is exported, so an entry is removed the day its metric lands.
ASSUMED_METRICS: dict[str, str] = {}

_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("_count", "_sum", ""),
    "gauge": ("",),
}


class _EmptySource(dict[object, object]):
    """What a worker's live state looks like before any event: no items, zero as a number."""

    def __float__(self) -> float:
        return 0.0


def worker_registry() -> CollectorRegistry:
    """``PipelineMetrics().registry`` with every ``track_*`` source hooked up, as a worker has it.

    Some metric families are registered only when their source is tracked (custom
    collectors computed at scrape time); each source here is empty.
    """
    metrics = PipelineMetrics()
    for name in dir(metrics):
        if name.startswith("track_"):
            track = getattr(metrics, name)
            track(*(lambda: _EmptySource() for _ in inspect.signature(track).parameters))
    return metrics.registry


def exported_series_names(registry: CollectorRegistry) -> set[str]:
    """Series names the registry's metrics produce, whether or not a labelled child exists yet."""
    return {
        family.name + suffix for family in registry.collect() for suffix in _SUFFIXES.get(family.type, ("",))
    }


def metric_names_in(expression: str) -> set[str]:
    """``riskwatch_*`` series names in a PromQL expression (recording rules ``riskwatch:*`` excluded)."""
    return set(re.findall(r"\briskwatch_[a-z0-9_]+\b", expression))


def rule_expressions() -> list[str]:
    return [rule["expr"] for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def used_metric_names() -> set[str]:
    return {name for expr in rule_expressions() + dashboard_expressions() for name in metric_names_in(expr)}


def test_every_queried_metric_is_exported_or_explicitly_assumed() -> None:
    exported = exported_series_names(worker_registry())
    unknown = used_metric_names() - exported - set(ASSUMED_METRICS)
    assert unknown == set(), f"queried but not exported by pipeline.metrics: {sorted(unknown)}"


def test_the_assumed_metrics_are_still_missing_and_still_used() -> None:
    exported = exported_series_names(worker_registry())
    landed = set(ASSUMED_METRICS) & exported
    assert landed == set(), f"now exported, remove from ASSUMED_METRICS: {sorted(landed)}"
    unused = set(ASSUMED_METRICS) - used_metric_names()
    assert unused == set(), f"no longer queried, remove from ASSUMED_METRICS: {sorted(unused)}"


def test_the_name_check_sees_a_misspelt_metric() -> None:
    assert metric_names_in('sum(rate(riskwatch_dead_leters_total{reason="x"}[5m]))') == {
        "riskwatch_dead_leters_total"
    }
    assert "riskwatch_dead_leters_total" not in exported_series_names(worker_registry())
    assert "riskwatch_dead_letters_total" in exported_series_names(worker_registry())


def test_every_dashboard_panel_queries_and_its_promql_parses(promtool: str, tmp_path: Path) -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert all(panel["targets"] for panel in panels)
    # promtool has no offline expression check; a rules file of the panels' queries is one.
    as_rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m")}
                    for i, expr in enumerate(dashboard_expressions())
                ],
            }
        ]
    }
    rules_file = tmp_path / "dashboard.rules.yml"
    rules_file.write_text(yaml.safe_dump(as_rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_covers_what_operators_watch() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queried = " ".join(dashboard_expressions())
    for metric in (
        "riskwatch_warnings_active",
        "riskwatch_warning_changes_total",
        "riskwatch_events_received_total",
        "riskwatch_processing_latency_seconds_bucket",
        "riskwatch_stage_latency_seconds_bucket",
        "riskwatch_consumer_lag_messages",
        "riskwatch_dead_letters_total",
    ):
        assert metric in queried, metric
    assert "community" in queried, "per-community risk"
    datasource_uid = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")[
        "datasources"
    ][0]["uid"]
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {datasource_uid}
    panel_ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(panel_ids) == len(set(panel_ids))
