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

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pipeline.alerting.settings import AlertmanagerSettings, base_url
from pipeline.assess.config import AssessmentConfig
from pipeline.ingress.settings import IngestToken, MqttSettings
from pipeline.kafka.kafka_security import KafkaSecurity
from pipeline.notify.settings import DEFAULT_CONSOLE_URL, NotifySettings
from pipeline.processing.decoding import DecodeLimits
from schemas.types import IDENTIFIER_PATTERN


class ConfigurationError(ValueError):
    """A setting is missing or wrong; the message names the setting, not its value."""


class Settings(BaseSettings):
    """All riskwatch configuration. See the README's configuration table."""

    # RISKWATCH_KAFKA_SASL_PASSWORD fills kafka.sasl_password: "_" splits once, into a group.
    model_config = SettingsConfigDict(
        env_prefix="RISKWATCH_",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

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
    ingest_batch_messages: Annotated[int, Field(ge=1, le=10_000)] = 50
    """The ingest agent handles up to this many waiting messages as one unit (one lock, one pass).
    A batch holds the event loop while it is handled (timers, web views and checkpoints wait):
    50 messages of 20 readings are ~50 ms of an idle core, and most of the per-message saving."""
    ingest_batch_within_ms: Annotated[float, Field(gt=0, le=1000)] = 5.0
    """How long the ingest agent waits at most for a batch to fill: the latency a batch may add."""

    # --- worker web server (metrics, readiness) -------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=1, le=65535)] = 6066
    data_dir: Path = Path("./riskwatch-data")
    public_url: str | None = Field(
        default=None,
        description="The workers' web address as operators and people's phones reach it: the base of "
        "the links in alerts and of acknowledgement links. RISKWATCH_ALERTMANAGER_CONSOLE_URL and "
        "RISKWATCH_NOTIFY_CONSOLE_URL override it for one of them.",
    )

    # --- input validation ------------------------------------------------------------------
    max_message_bytes: Annotated[int, Field(ge=256, le=16 * 1024 * 1024)] = 1024 * 1024
    max_batch_events: Annotated[int, Field(ge=1, le=100_000)] = 1000
    max_event_age_s: Annotated[float, Field(gt=0)] = 7 * 24 * 3600.0
    max_event_ahead_s: Annotated[float, Field(ge=0)] = 300.0

    # --- detection and assessment ----------------------------------------------------------
    detector_warmup: Annotated[int, Field(ge=1)] = 30
    detector_alpha: Annotated[float, Field(gt=0, lt=1)] = 0.02
    tick_interval_s: Annotated[float, Field(gt=0, le=3600)] = 5.0
    rebaseline_after_s: Annotated[float, Field(ge=0)] = 86_400.0
    """A series' baseline must have been frozen this long (its own event time) before an operator
    may accept its readings as a new normal (``riskwatch rebaseline``): a day, so a flood that
    lasts hours is held throughout, and a new normal is never accepted for a passing deviation."""
    hold_while_warned: bool = False
    """A series whose hazard has an open warning in its community learns nothing, in-band readings
    included, until the warning ends (issue 15, item 1: "or its hazard is warned in its
    community"). Off by default: it makes a model depend on the assessment's state when each
    reading is handled, and so on how the readings and reports topics interleave, which a
    restart's catch-up changes; with it on, a worker restarted after kill -9 can end with other
    models than a clean run of the same input (seen once in the crash comparison). A series'
    own deviation holds its baseline either way."""
    assessment: AssessmentConfig = Field(
        default_factory=AssessmentConfig,
        description="Tier ladder, fusion, episodes, routes, communities and districts "
        "([assessment] tables in the TOML file).",
    )

    # --- security and device ingress --------------------------------------------------------
    kafka: KafkaSecurity = Field(
        default_factory=KafkaSecurity,
        description="SASL/SCRAM and TLS of every Kafka client (RISKWATCH_KAFKA_*; [kafka] in TOML).",
    )
    ingest_tokens: list[IngestToken] = Field(
        default_factory=list,
        description="Bearer tokens of POST /ingest/{kind}, JSON: "
        '[{"name": "gw-1", "token": "...", "communities": ["c1"]}]. Empty: the endpoint refuses all.',
    )
    mqtt: MqttSettings = Field(
        default_factory=MqttSettings, description="The MQTT bridge (RISKWATCH_MQTT_*; [mqtt] in TOML)."
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings,
        description="riskwatch notify and acknowledgement links (RISKWATCH_NOTIFY_*; [notify] in TOML).",
    )

    alertmanager: AlertmanagerSettings = Field(
        default_factory=AlertmanagerSettings,
        description="Alertmanager(s) the worker pushes its warnings to (RISKWATCH_ALERTMANAGER_*; "
        "[alertmanager] in TOML). Unset URL: none.",
    )

    # --- state that survives restarts --------------------------------------------------------
    state_key: SecretStr | None = Field(
        default=None,
        description="HMAC key (>= 16 bytes) signing detector checkpoints. Unset: the worker makes one "
        "in <data_dir>/state.key (mode 0600) on first start; workers sharing partitions need one key.",
    )
    checkpoint_interval_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=10.0,
        description="Seconds between checkpoints. A crashed worker's successor resumes at the last one and "
        "processes what came after it again, so this bounds the replay; each checkpoint writes only "
        "what changed.",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else base_url(value)

    @field_validator("state_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("must be at least 16 bytes long")
        return value

    @property
    def alert_links_url(self) -> str:
        """Base of the console and CAP links in alerts: Alertmanager's own setting, else the public
        address, else this worker's web server."""
        return self.alertmanager.console_url or self.public_url or f"http://{self.web_host}:{self.web_port}"

    @property
    def ack_links_url(self) -> str:
        """Base of acknowledgement links: notify's own setting, else the public address, else a
        worker on this machine."""
        return self.notify.console_url or self.public_url or DEFAULT_CONSOLE_URL

    @property
    def decode_limits(self) -> DecodeLimits:
        """The bounds every entry point (Kafka, HTTP, MQTT) applies to a message."""
        return DecodeLimits(
            max_message_bytes=self.max_message_bytes,
            max_batch_events=self.max_batch_events,
            max_event_age=self.max_event_age,
            max_event_ahead=self.max_event_ahead,
        )

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
