"""Prometheus config, recording and alerting rules, checked and unit-tested with the real promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from deploy_files import DEPLOY, load_yaml

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "rules" / "riskwatch.rules.yml"
RULE_TESTS = PROMETHEUS / "rules" / "riskwatch.rules.test.yml"


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_prometheus_config_and_its_rules_are_valid(promtool: str) -> None:
    result = run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout, "the config must load riskwatch's rules"


def test_rule_unit_tests_pass(promtool: str) -> None:
    result = run(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_catches_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules.yml"
    broken.write_text(RULES.read_text().replace("sum by (kind) (rate(", "sum by (kind) (rate((", 1))
    result = run(promtool, "check", "rules", str(broken))
    assert result.returncode != 0, "the check must fail on a syntax error, or it proves nothing"


def test_a_rule_change_that_breaks_an_alert_fails_its_unit_test(promtool: str, tmp_path: Path) -> None:
    for path in (RULES, RULE_TESTS):
        shutil.copy(path, tmp_path / path.name)
    changed = tmp_path / RULES.name
    changed.write_text(changed.read_text().replace('riskwatch_warnings_active{tier="I"}) > 0', "x) > 0"))
    result = run(promtool, "test", "rules", str(tmp_path / RULE_TESTS.name))
    assert result.returncode != 0 and "RiskwatchWarningTierI" in result.stdout + result.stderr


def test_every_alert_has_a_unit_test_where_it_fires() -> None:
    alerts = {
        rule["alert"] for group in load_yaml(RULES)["groups"] for rule in group["rules"] if "alert" in rule
    }
    fired = {
        case["alertname"]
        for test in load_yaml(RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert alerts - fired == set()


def test_every_alert_says_who_acts_and_what_happened() -> None:
    for group in load_yaml(RULES)["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert rule["labels"]["team"] in {"platform", "operations"}, rule["alert"]
                assert rule["labels"]["severity"], rule["alert"]
                assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
