"""Alertmanager routing by tier and hazard, checked with the real amtool."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from deploy_files import DEPLOY, load_yaml

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
        ("team=platform alertname=RiskwatchWorkerDown instance=w1:6066", "platform-oncall"),
    ],
)
def test_alerts_reach_the_departments_of_their_tier_and_hazard(
    amtool: str, labels: str, receivers: str
) -> None:
    result = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={CONFIG}", *labels.split()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receivers


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
