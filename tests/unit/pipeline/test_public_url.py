"""One external address for every link: ``RISKWATCH_PUBLIC_URL`` is the base of alert links and
acknowledgement links, and each older, narrower setting still overrides it for its own links."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigurationError, load_settings
from pipeline.notify.service import ack_url
from tests.unit.notify.test_delivery import BY_ID, message


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUBLIC_URL", "ALERTMANAGER_CONSOLE_URL", "NOTIFY_CONSOLE_URL", "WEB_HOST", "WEB_PORT"):
        monkeypatch.delenv(f"RISKWATCH_{name}", raising=False)


def test_unset_links_keep_their_old_defaults() -> None:
    settings = load_settings()
    assert settings.alert_links_url == f"http://{settings.web_host}:{settings.web_port}"
    assert settings.ack_links_url == "http://127.0.0.1:6066"


def test_the_public_url_is_the_base_of_alert_and_ack_links(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_PUBLIC_URL", "https://riskwatch.example.org/")
    settings = load_settings()
    assert settings.alert_links_url == settings.ack_links_url == "https://riskwatch.example.org"
    link = ack_url(settings, b"k" * 32, message("live").notification, BY_ID["live"])
    assert link is not None and link.startswith("https://riskwatch.example.org/ack/")


def test_the_old_names_override_the_public_url_each_for_its_links(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_PUBLIC_URL", "https://riskwatch.example.org")
    monkeypatch.setenv("RISKWATCH_ALERTMANAGER_CONSOLE_URL", "http://worker-2:6067")
    monkeypatch.setenv("RISKWATCH_NOTIFY_CONSOLE_URL", "http://192.0.2.10:6066")
    settings = load_settings()
    assert (settings.alert_links_url, settings.ack_links_url) == (
        "http://worker-2:6067",
        "http://192.0.2.10:6066",
    )


def test_a_public_url_that_is_not_http_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKWATCH_PUBLIC_URL", "riskwatch.example.org")
    with pytest.raises(ConfigurationError, match="RISKWATCH_PUBLIC_URL"):
        load_settings()
