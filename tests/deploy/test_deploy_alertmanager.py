"""Alertmanager routing by tier and hazard, checked with the real amtool."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from deploy_files import DEPLOY, load_yaml

from pipeline.alerting.alerts import AlertBook, AlertLinks
from pipeline.assess.conformance import PolicyRun, inside
from pipeline.assess.tiers import TierPolicy
from schemas import Tier

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
TIER_LADDER = ("I", "II", "III", "IV")


def test_config_is_valid(amtool: str) -> None:
    result = subprocess.run([amtool, "check-config", str(CONFIG)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_amtool_rejects_a_route_to_an_unknown_receiver(amtool: str, tmp_path: Path) -> None:
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(CONFIG.read_text().replace("receiver: water-affairs", "receiver: water-afairs"))
    result = subprocess.run([amtool, "check-config", str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ("team=operations tier=I hazard=flood community=c1", "water-affairs,district-command-centre"),
        ("team=operations tier=I hazard=gas_leak community=c1", "fire-and-rescue,district-command-centre"),
        ("team=operations tier=I hazard=other community=c1", "district-command-centre"),
        ("team=operations tier=II hazard=power_outage community=c2", "grid-operations,operations-room"),
        ("team=operations tier=II hazard=public_security community=c2", "community-police,operations-room"),
        ("team=operations tier=II", "operations-room"),
        ("team=operations tier=III hazard=flood community=c3", "operations-room"),
        # What a worker pushes (pipeline/alerting/alerts.py): the same ladder routes it.
        (
            "alertname=RiskwatchWarning team=operations tier=I hazard=flood community=c1 district=d1 "
            "severity=Extreme warning_id=w-1",
            "water-affairs,district-command-centre",
        ),
        (
            "alertname=RiskwatchWarning team=operations tier=II hazard=gas_leak community=c2 "
            "severity=Severe warning_id=w-2",
            "fire-and-rescue,operations-room",
        ),
        ("alertname=RiskwatchWarning team=operations tier=IV hazard=fire community=c3", "operations-room"),
        ("team=platform alertname=RiskwatchWorkerDown instance=w1:6066", "platform-oncall"),
    ],
)
def test_alerts_reach_the_departments_of_their_tier_and_hazard(
    amtool: str, labels: str, receivers: str
) -> None:
    assert routed(amtool, labels.split()) == receivers


def routed(amtool: str, labels: list[str]) -> str:
    """The receivers ``amtool config routes test`` picks for ``labels`` (``name=value`` each)."""
    result = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={CONFIG}", *labels],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_alert_a_worker_builds_is_routed_by_its_tier_and_hazard(amtool: str) -> None:
    """The labels come from the worker's own code, not from this test: code and routes agree."""
    run = PolicyRun(TierPolicy())
    run.hold(inside(run.policy, Tier.I), timedelta(minutes=3))
    book = AlertBook(run.config, AlertLinks("http://worker:6066"), timedelta(minutes=4))
    [alert] = book.revise(run.events[-1], run.clock.now())
    assert (alert.labels["tier"], alert.labels["hazard"]) == ("I", "flood")
    labels = [f"{name}={value}" for name, value in alert.labels.items()]
    assert routed(amtool, labels) == "water-affairs,district-command-centre"


def test_a_pushed_warning_silences_its_metric_derived_twin() -> None:
    pushed = ['alertname="RiskwatchWarning"']
    [rule] = [r for r in load_yaml(CONFIG)["inhibit_rules"] if r["source_matchers"] == pushed]
    assert rule["target_matchers"] == ['alertname=~"RiskwatchWarningTierI|RiskwatchWarningTierII"']
    assert set(rule["equal"]) == {"community", "hazard", "tier"}
    rules = load_yaml(DEPLOY / "prometheus" / "rules" / "riskwatch.rules.yml")
    twins = {r.get("alert") for group in rules["groups"] for r in group["rules"]} & {
        "RiskwatchWarningTierI",
        "RiskwatchWarningTierII",
    }
    assert twins == {"RiskwatchWarningTierI", "RiskwatchWarningTierII"}, "the targets exist"


def test_every_receiver_has_an_integration_and_warning_receivers_hear_the_end() -> None:
    receivers = load_yaml(CONFIG)["receivers"]
    for receiver in receivers:
        integrations = [c for key, configs in receiver.items() if key.endswith("_configs") for c in configs]
        assert integrations, receiver["name"]
        if receiver["name"] != "platform-oncall":
            assert all(c.get("send_resolved") for c in integrations), receiver["name"]
    kinds = {key for receiver in receivers for key in receiver if key.endswith("_configs")}
    assert kinds == {"webhook_configs", "email_configs"}


def seconds(duration: str) -> float:
    """Alertmanager duration such as ``1h30m`` in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    h, m, s = (int(p or 0) for p in parts.groups())
    return timedelta(hours=h, minutes=m, seconds=s).total_seconds()


def tier_routes() -> dict[str, dict[str, object]]:
    routes = load_yaml(CONFIG)["route"]["routes"]
    found = {}
    for route in routes:
        tiers = [m.split('"')[1] for m in route.get("matchers", []) if m.startswith("tier=")]
        if tiers:
            found[tiers[0]] = route
    return found


def test_the_more_serious_the_tier_the_sooner_and_more_often_it_notifies() -> None:
    routes = tier_routes()
    assert list(routes) == list(TIER_LADDER)
    for field in ("group_wait", "group_interval", "repeat_interval"):
        values = [seconds(str(routes[tier][field])) for tier in TIER_LADDER]
        assert values == sorted(values) and len(set(values)) == len(values), (field, values)


def test_a_tier_inhibits_the_lower_tiers_of_the_same_community_and_hazard() -> None:
    rules = load_yaml(CONFIG)["inhibit_rules"]

    def inhibited_by(tier: str) -> set[str]:
        for rule in rules:
            if f'tier="{tier}"' in rule["source_matchers"]:
                assert set(rule["equal"]) == {"community", "hazard"}
                target = next(m for m in rule["target_matchers"] if m.startswith("tier=~"))
                return set(target.split('"')[1].split("|"))
        return set()

    assert inhibited_by("I") == {"II", "III", "IV"}
    assert inhibited_by("II") == {"III", "IV"}
