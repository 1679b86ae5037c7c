"""Where the worker pushes its warnings as alerts (``RISKWATCH_ALERTMANAGER_<NAME>``).

Unset ``url``: nothing is pushed. Several comma-separated URLs are an HA pair (or more):
Alertmanager's cluster deduplicates notifications, but each instance must receive every
alert itself (Prometheus, too, sends to every Alertmanager it knows).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def base_url(url: str) -> str:
    """``url`` without a trailing slash; a ValueError unless it is http(s) with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("each URL must be http:// or https:// with a host, e.g. http://alertmanager:9093")
    return url.strip().rstrip("/")


class AlertmanagerSettings(BaseSettings):
    """The Alertmanager(s) a worker pushes its open warnings to, and how often."""

    model_config = SettingsConfigDict(
        env_prefix="RISKWATCH_ALERTMANAGER_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    url: str | None = Field(
        default=None,
        description="Alertmanager base URL(s), comma-separated for an HA pair: every one gets every "
        "alert. Unset: warnings are not pushed.",
    )
    console_url: str | None = Field(
        default=None,
        description="The worker's web address as operators reach it, for the alerts' links "
        "(console, CAP). Unset: RISKWATCH_PUBLIC_URL, else http://<web_host>:<web_port>.",
    )
    resend_interval_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=60.0,
        description="Seconds between re-pushes of every open warning. Each push says the alert ends "
        "after four intervals unless pushed again, so a worker that is gone stops paging by itself.",
    )
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    queue_alerts: Annotated[int, Field(ge=10, le=1_000_000)] = Field(
        default=5000,
        description="Alerts waiting per Alertmanager while it cannot be reached; beyond this the "
        "oldest are dropped (counted) and the next re-push brings the open ones back.",
    )

    @field_validator("url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return ",".join(base_url(part) for part in value.split(","))

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else base_url(value)

    @property
    def urls(self) -> tuple[str, ...]:
        """Every Alertmanager to push to (none when unset)."""
        return tuple(self.url.split(",")) if self.url else ()
