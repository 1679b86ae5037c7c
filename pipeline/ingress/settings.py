"""The ingress settings types: HTTP ingest tokens and the MQTT bridge's connection.

They live here, apart from :mod:`pipeline.ingress.http_ingest` and
:mod:`pipeline.ingress.mqtt_bridge`, because :mod:`pipeline.config` holds them
while those modules read :class:`pipeline.kafka.topics.TopicNames`, which is made
from the settings: a settings type in a module that imports the settings closes
an import circle. This module imports no settings.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.secret_types import Secret
from schemas.types import Identifier


class IngestToken(BaseModel):
    """One client's bearer token and the communities it may publish for.

    ``name`` identifies the client in logs and metrics; the token itself never
    leaves this object except through :meth:`~pydantic.SecretStr.get_secret_value`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: Identifier
    token: Secret = Field(min_length=16)
    communities: list[Identifier] = Field(min_length=1)


class MqttSettings(BaseSettings):
    """Where the bridge connects and what it subscribes to (``RISKWATCH_MQTT_<NAME>``)."""

    model_config = SettingsConfigDict(
        env_prefix="RISKWATCH_MQTT_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    url: str = "mqtt://127.0.0.1:1883"
    topic_pattern: str = "riskwatch/{community}/{device}/{kind}"
    client_id: str = "riskwatch-mqtt-bridge"
    username: str | None = None
    password: Secret | None = None
