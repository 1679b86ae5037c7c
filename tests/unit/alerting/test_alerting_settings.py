"""RISKWATCH_ALERTMANAGER_*: one or more URLs, validated, errors that name the setting."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigurationError, load_settings


def test_an_ha_pair_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_ALERTMANAGER_URL", "http://am-1:9093/, https://am-2.example.org:9093")
    monkeypatch.setenv("RISKWATCH_ALERTMANAGER_RESEND_INTERVAL_S", "30")
    settings = load_settings().alertmanager
    assert settings.urls == ("http://am-1:9093", "https://am-2.example.org:9093")
    assert settings.resend_interval_s == 30


def test_unset_pushes_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISKWATCH_ALERTMANAGER_URL", raising=False)
    assert load_settings().alertmanager.urls == ()


@pytest.mark.parametrize("url", ["am-1:9093", "ftp://am-1", "http://am-1:9093,"])
def test_a_url_that_is_not_one_names_the_setting(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("RISKWATCH_ALERTMANAGER_URL", url)
    with pytest.raises(ConfigurationError, match="RISKWATCH_ALERTMANAGER_URL"):
        load_settings()
