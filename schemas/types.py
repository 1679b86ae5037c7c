"""Constrained field types shared by every schema.

One place defines what a safe identifier, a finite number or a bounded text
is, so every event kind enforces the same rules:

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Identifier).validate_python("community-07")
'community-07'
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

#: Letters, digits and ``_ . : -``; starts with a letter or digit; 1–64 chars.
#: Safe in Kafka keys, metric labels, file names and CAP identifiers.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
"""An id chosen by a producer: community, device, event, report."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False, strict=True)]
"""A JSON number (int or float, never a bool or a numeric string) that is finite."""

ShortText = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
"""A label or unit: at most 200 characters."""

LongText = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)]
"""Free text written by a person (a report's description): at most 2000 characters."""

Timestamp = AwareDatetime
"""A point in time with its UTC offset; naive datetimes are rejected."""
