"""riskwatch settings: one typed object, read once from the environment and a file, passed down.

Every setting is an environment variable ``RISKWATCH_<NAME>`` (for example
``RISKWATCH_BOOTSTRAP_SERVERS=kafka-1:9092``). A TOML file named by
``RISKWATCH_CONFIG`` may set the same names in lower case; the environment wins.
Errors name the setting that is wrong, never its value (values may be secrets).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from schemas.types import IDENTIFIER_PATTERN


class ConfigurationError(ValueError):
    """A setting is missing or wrong; the message names the setting, not its value."""


class Settings(BaseSettings):
    """All riskwatch configuration. See the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="RISKWATCH_", extra="forbid", frozen=True)

    # --- broker -------------------------------------------------------------------------
    bootstrap_servers: str | None = Field(
        default=None,
        description="Kafka bootstrap servers 'host:port,…'. Unset: start the embedded Tansu broker.",
    )
    app_id: Annotated[str, Field(pattern=IDENTIFIER_PATTERN)] = "riskwatch"
    topic_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{0,100}$")] = "riskwatch."
    partitions: Annotated[int, Field(ge=1, le=1024)] = 4
    replication_factor: Annotated[int, Field(ge=1, le=16)] = 1
    consumer_fetch_max_wait_ms: Annotated[int, Field(ge=0, le=5000)] = 10
    session_timeout_s: Annotated[float, Field(gt=0, le=300)] = 3.0
    heartbeat_interval_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    commit_interval_s: Annotated[float, Field(gt=0, le=60)] = 0.5

    # --- worker web server (metrics, readiness) -------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=1, le=65535)] = 6066
    data_dir: Path = Path("./riskwatch-data")

    # --- input validation ------------------------------------------------------------------
    max_message_bytes: Annotated[int, Field(ge=256, le=16 * 1024 * 1024)] = 1024 * 1024
    max_batch_events: Annotated[int, Field(ge=1, le=100_000)] = 1000
    max_event_age_s: Annotated[float, Field(gt=0)] = 7 * 24 * 3600.0
    max_event_ahead_s: Annotated[float, Field(ge=0)] = 300.0

    # --- detection and assessment ----------------------------------------------------------
    detector_warmup: Annotated[int, Field(ge=1)] = 30
    detector_alpha: Annotated[float, Field(gt=0, lt=1)] = 0.02
    resolve_after_s: Annotated[float, Field(gt=0)] = 120.0

    @property
    def max_record_bytes(self) -> int:
        """Largest record the worker produces: a dead letter holding a whole ``max_message_bytes``
        message in base64, plus its metadata. Producers and the dead-letter topic allow this much."""
        return self.max_message_bytes * 4 // 3 + 64 * 1024

    @property
    def max_event_age(self) -> timedelta:
        """How old an event may be when it arrives."""
        return timedelta(seconds=self.max_event_age_s)

    @property
    def max_event_ahead(self) -> timedelta:
        """How far ahead of the worker's clock an event time may be."""
        return timedelta(seconds=self.max_event_ahead_s)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the TOML file in ``RISKWATCH_CONFIG``."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("RISKWATCH_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; raise :class:`ConfigurationError` naming each bad setting."""
    config_file = os.environ.get("RISKWATCH_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigurationError(f"RISKWATCH_CONFIG names a file that does not exist: {config_file}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"RISKWATCH_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors(include_input=False)
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
