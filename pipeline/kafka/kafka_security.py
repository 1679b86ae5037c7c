"""Kafka connection security from configuration: SASL/SCRAM and TLS for every client we create.

One typed settings group, read once, turned into the keyword arguments each
client library wants: kafka-python (producers, consumers, admin), aiokafka,
and Faust (``broker_credentials``). Secrets are :class:`~pydantic.SecretStr`:
they never appear in a ``repr``, a log line or an error; errors name the
setting (``RISKWATCH_KAFKA_SASL_PASSWORD``), never its value.

>>> KafkaSecurity().kafka_python_kwargs()
{'security_protocol': 'PLAINTEXT'}
>>> sasl = KafkaSecurity(security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
...                      sasl_username="gateway-7", sasl_password="s3cret")
>>> "s3cret" in repr(sasl)
False
>>> sasl.kafka_python_kwargs()["sasl_mechanism"]
'SCRAM-SHA-512'
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import FilePath, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.secret_types import Secret

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
"""Kafka's ``security.protocol`` values."""

ScramMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]
"""The SASL mechanisms riskwatch supports: salted challenge-response, no password on the wire."""

ENV_PREFIX = "RISKWATCH_KAFKA_"


class KafkaSecurityError(ValueError):
    """Kafka security settings are missing or inconsistent; names settings, never values."""


class KafkaSecurity(BaseSettings):
    """How every Kafka client authenticates (SASL/SCRAM) and encrypts (TLS).

    Environment variables ``RISKWATCH_KAFKA_<NAME>``. With ``SSL``/``SASL_SSL``
    the broker certificate is verified against ``ssl_cafile`` (or the system
    store) and its host name checked; ``ssl_certfile``/``ssl_keyfile`` add a
    client certificate for brokers that require mutual TLS.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, hide_input_in_errors=True
    )

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: ScramMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: Secret | None = None
    ssl_cafile: FilePath | None = None
    ssl_certfile: FilePath | None = None
    ssl_keyfile: FilePath | None = None
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecurity:
        missing = []
        if self.uses_sasl:
            if not self.sasl_username:
                missing.append(f"{ENV_PREFIX}SASL_USERNAME")
            if self.sasl_password is None or not self.sasl_password.get_secret_value():
                missing.append(f"{ENV_PREFIX}SASL_PASSWORD")
        if missing:
            raise ValueError(f"security_protocol {self.security_protocol} needs {' and '.join(missing)}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError(
                f"a client certificate needs both {ENV_PREFIX}SSL_CERTFILE and {ENV_PREFIX}SSL_KEYFILE"
            )
        return self

    @property
    def uses_sasl(self) -> bool:
        """True when clients authenticate with SASL."""
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def uses_tls(self) -> bool:
        """True when connections are encrypted."""
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context (verifying the broker), or ``None`` without TLS."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None,
        )
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile and self.ssl_keyfile:
            context.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile))
        return context

    def _sasl_kwargs(self) -> dict[str, Any]:
        if not self.uses_sasl or self.sasl_password is None:
            return {}
        return {
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password.get_secret_value(),
        }

    def kafka_python_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``KafkaProducer``/``KafkaConsumer``/``KafkaAdminClient``."""
        kwargs: dict[str, Any] = {"security_protocol": self.security_protocol, **self._sasl_kwargs()}
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def aiokafka_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``AIOKafkaProducer``/``AIOKafkaConsumer`` (same names as kafka-python)."""
        return self.kafka_python_kwargs()

    def faust_credentials(self) -> Any:
        """Faust's ``broker_credentials`` (``None`` for plaintext): SASL, TLS, or both."""
        if self.security_protocol == "PLAINTEXT":
            return None
        import faust  # Faust is heavy; only the worker needs this.

        context = self.ssl_context()
        if not self.uses_sasl:
            return faust.SSLCredentials(context)
        assert self.sasl_password is not None
        return faust.SASLCredentials(
            username=self.sasl_username,
            password=self.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=self.sasl_mechanism,
        )


def load_kafka_security(**overrides: object) -> KafkaSecurity:
    """Read the Kafka security settings; raise :class:`KafkaSecurityError` naming each bad setting.

    >>> load_kafka_security(security_protocol="SASL_SSL", sasl_username="u", ssl_cafile="/nowhere.pem")
    Traceback (most recent call last):
    ...
    pipeline.kafka.kafka_security.KafkaSecurityError: invalid Kafka security configuration: \
RISKWATCH_KAFKA_SSL_CAFILE: Path does not point to a file
    """
    try:
        return KafkaSecurity(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise KafkaSecurityError(f"invalid Kafka security configuration: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors(include_input=False, include_url=False, include_context=False):
        field = "_".join(str(p) for p in detail["loc"]).upper()
        where = f"{ENV_PREFIX}{field}" if field else "settings"
        problems.append(f"{where}: {detail['msg']}")
    return "; ".join(problems)
