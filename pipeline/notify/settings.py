"""Settings of ``riskwatch notify`` and of the acknowledgement links (``RISKWATCH_NOTIFY_<NAME>``;
``[notify]`` in the TOML file)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.secret_types import Secret

DEFAULT_CONSOLE_URL = "http://127.0.0.1:6066"
"""Where acknowledgement links point when no address is configured: a worker on this machine."""


class NotifySettings(BaseSettings):
    """Where ``notify`` serves its metrics, how it reaches people, and how links are signed."""

    model_config = SettingsConfigDict(
        env_prefix="RISKWATCH_NOTIFY_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 6070
    """``GET /metrics`` of the notify process."""
    console_url: str | None = None
    """A worker's web server as people's phones reach it: acknowledgement links point there.
    Unset: ``RISKWATCH_PUBLIC_URL``, else :data:`DEFAULT_CONSOLE_URL`."""
    ack_key: Secret | None = None
    """HMAC key (>= 16 bytes) of acknowledgement links, shared by ``notify`` and the workers.
    Unset: ``<data_dir>/ack.key``, made on first use (one machine only)."""
    ack_ttl_s: Annotated[float, Field(gt=0, le=30 * 24 * 3600)] = 24 * 3600.0
    webhook_secret: Secret | None = None
    """Shared secret of the ``X-Riskwatch-Signature`` header on generic webhooks; unset: unsigned."""
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_from: str = "riskwatch@localhost"
    smtp_username: str | None = None
    smtp_password: Secret | None = None
    smtp_starttls: bool = False
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    """Per attempt, for HTTP and SMTP alike."""
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    backoff_s: Annotated[float, Field(gt=0, le=600)] = 1.0
    """First retry delay; it doubles per attempt up to ``backoff_max_s``."""
    backoff_max_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    rate_per_minute: Annotated[float, Field(gt=0, le=6000)] = 20.0
    """Messages per recipient per minute: DingTalk's custom robots take 20 a minute."""
    max_age_s: Annotated[float, Field(gt=0)] = 3600.0
    """Notifications older than this when read are recorded ``stale`` and not sent (a new consumer
    group starts at the beginning of the responder topics)."""

    @field_validator("ack_key")
    @classmethod
    def _long_enough(cls, value: Secret | None) -> Secret | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("must be at least 16 bytes long")
        return value
