"""Settings come from the environment and a TOML file; errors name the setting, never its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigurationError, load_settings
from pipeline.worker_process import settings_environment


def test_environment_sets_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("RISKWATCH_PARTITIONS", "12")
    settings = load_settings()
    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.partitions == 12


def test_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "riskwatch.toml"
    config.write_text('topic_prefix = "district9."\npartitions = 8\n')
    monkeypatch.setenv("RISKWATCH_CONFIG", str(config))
    monkeypatch.setenv("RISKWATCH_PARTITIONS", "16")
    settings = load_settings()
    assert (settings.topic_prefix, settings.partitions) == ("district9.", 16)


def test_errors_name_the_setting_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_PARTITIONS", "s3cr3t-not-a-number")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "RISKWATCH_PARTITIONS" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_missing_config_file_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RISKWATCH_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings()


def test_settings_survive_the_trip_to_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    original = load_settings(
        partitions=3, bootstrap_servers="h:1", checkpoint_interval_s=12.5, state_key="k" * 20
    )
    for name, value in settings_environment(original).items():
        monkeypatch.setenv(name, value)
    assert load_settings() == original
