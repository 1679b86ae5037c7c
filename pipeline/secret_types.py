"""Secret settings that stay masked everywhere except when deliberately handed to a child process.

A :data:`Secret` is a :class:`~pydantic.SecretStr`: ``repr``, ``str``, logs and
``model_dump`` show ``**********``. Only a JSON dump with the context
``{"reveal_secrets": True}`` writes the value, which is how a parent passes
its configuration to a worker process through the environment.

>>> from pydantic import BaseModel
>>> class Login(BaseModel):
...     password: Secret
>>> login = Login(password="hunter2hunter2")
>>> login.model_dump_json()
'{"password":"**********"}'
>>> login.model_dump_json(context={"reveal_secrets": True})
'{"password":"hunter2hunter2"}'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import PlainSerializer, SecretStr, SerializationInfo


def _serialize(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    return value.get_secret_value() if context.get("reveal_secrets") else str(value)


Secret = Annotated[SecretStr, PlainSerializer(_serialize, return_type=str, when_used="json")]
"""A secret string, masked unless dumped to JSON with ``context={"reveal_secrets": True}``."""
