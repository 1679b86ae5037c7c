"""Turn the bytes of one Kafka message into validated events, or say exactly why not.

A message value is one JSON event object or a JSON array of events of one
kind from one community (gateways batch readings; batching is how the
pipeline keeps up, since Faust costs ~80 µs per message). Every problem
becomes a :class:`Rejection` with a bounded reason class and a sentence a
producer's developer can act on; valid items of a batch still go through.

>>> from datetime import UTC, datetime, timedelta
>>> decoder = MessageDecoder("sensor_reading", DecodeLimits())
>>> result = decoder.decode(b'[{"kind": "sensor_reading"}, 7]', key=b"c1",
...                         now=datetime(2026, 1, 1, tzinfo=UTC))
>>> [(r.item_index, r.reason_class.value) for r in result.rejections]
[(0, 'missing_field'), (1, 'wrong_shape')]
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, get_args

from pydantic import ValidationError
from pydantic_core import SchemaValidator, core_schema

from schemas.deadletter import DeadLetter, RejectReason
from schemas.envelope import Envelope, ValidationClock
from schemas.events import (
    CANONICAL_UNITS,
    AnyEvent,
    DeviceTelemetry,
    EventKind,
    ResidentReport,
    SensorReading,
)

EVENT_MODELS: dict[str, type[AnyEvent]] = {
    "sensor_reading": SensorReading,
    "device_telemetry": DeviceTelemetry,
    "resident_report": ResidentReport,
}
assert set(EVENT_MODELS) == set(get_args(EventKind))

_ERROR_CLASSES: dict[str, RejectReason] = {
    "missing": RejectReason.MISSING_FIELD,
    "extra_forbidden": RejectReason.UNKNOWN_FIELD,
    "finite_number": RejectReason.NON_FINITE,
    "clock_skew": RejectReason.CLOCK_SKEW,
}
_MAX_ERRORS_IN_REASON = 5
_JSON_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class DecodeLimits:
    """Bounds on what one message may hold."""

    max_message_bytes: int = 1024 * 1024
    max_batch_events: int = 1000
    max_event_age: timedelta = timedelta(days=7)
    max_event_ahead: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Rejection:
    """Why a message, or one item of a batch (``item_index``), was refused."""

    reason_class: RejectReason
    reason: str
    item_index: int | None = None


@dataclass
class Decoded:
    """What one message yielded: the valid events and the rejections."""

    events: list[AnyEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def describe_validation_error(error: ValidationError) -> tuple[RejectReason, str]:
    """Classify a pydantic error and say what was wrong, field by field."""
    details = error.errors(include_url=False)
    reason_class = _ERROR_CLASSES.get(details[0]["type"], RejectReason.INVALID_FIELD)
    parts = []
    for detail in details[:_MAX_ERRORS_IN_REASON]:
        where = ".".join(str(p) for p in detail["loc"]) or "event"
        got = detail.get("input")
        shown = "" if isinstance(got, dict | list) or detail["type"] == "missing" else f" (got {got!r:.60})"
        parts.append(f"field '{where}': {detail['msg']}{shown}")
    if len(details) > _MAX_ERRORS_IN_REASON:
        parts.append(f"and {len(details) - _MAX_ERRORS_IN_REASON} more problems")
    return reason_class, "; ".join(parts)


def _without_validators(schema: Any, functions: frozenset[object]) -> Any:
    """A copy of a core ``schema`` with every after-validator calling one of ``functions`` removed
    (its inner schema kept); classes, enums and other leaves are shared, not copied."""
    if isinstance(schema, list):
        return [_without_validators(item, functions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-after":
        function = schema["function"]["function"]
        if getattr(function, "__func__", function) in functions:
            return _without_validators(schema["schema"], functions)
    return {name: _without_validators(value, functions) for name, value in schema.items()}


_JUDGED_BY_THE_DECODER: frozenset[object] = frozenset(
    {vars(Envelope)["_inside_skew_window"].__func__, SensorReading._unit_matches_sensor}
)
"""The models' Python validators the fast path leaves out (see :class:`CoreValidators`)."""


def _units_are_canonical(events: list[AnyEvent]) -> bool:
    """Whether :meth:`SensorReading._unit_matches_sensor` accepts every event (other kinds pass),
    as a test instead of an exception."""
    return all(not isinstance(e, SensorReading) or e.unit == CANONICAL_UNITS[e.sensor_type] for e in events)


class CoreValidators:
    """The model of one event kind validated by pydantic's Rust core alone: no Python call per event.

    Of the model's Python validators, the envelope's skew window is a no-op without a validation
    context; the core checks a window instead (:func:`_inner_window`), comparing each event time
    in Rust (~0.05 µs; a Python comparison of pydantic's ``TzInfo`` with ``UTC`` calls back into
    Python for the offset, ~0.45 µs, twice an event). A sensor reading's unit rule is
    :func:`_units_are_canonical`, a test made after the core (the core's call of a Python validator
    costs ~0.3 µs an event, the test ~0.06). Every other validator stays. One event or a batch
    is told by the message's first byte instead of a union of both, which tries each in strict
    then lax mode. Accepts only what the model accepts, with equal results, and when
    :attr:`judges_time` only what the clock accepts too (``tests/unit/pipeline/test_decoding_core.py``);
    what it refuses the decoder validates again item by item, for the model's own reasons.
    """

    def __init__(self, model: type[AnyEvent]) -> None:
        self._schema = _without_validators(model.__pydantic_core_schema__, _JUDGED_BY_THE_DECODER)
        self._built: tuple[tuple[datetime, datetime], SchemaValidator, SchemaValidator] | None = None
        """The window and the validators of one event and of a batch for it, replaced as one
        (:meth:`_for`): a call never pairs one window's validator with another's."""
        self.judges_time = "Prebuilt" not in repr(SchemaValidator(self._schema))
        """Whether the core checks the window. For a model without model validators it reuses
        the class's own validator (its repr says ``Prebuilt``), which knows no window and no
        changed field: the decoder checks event times itself then (device telemetry)."""

    def validate(self, raw: bytes, clock: ValidationClock) -> tuple[list[AnyEvent], bool] | None:
        """The events of ``raw`` and whether it is a batch; None when the model would refuse any
        or (:attr:`judges_time`) an event time may lie outside ``clock``'s window."""
        _, one, many = self._for(_inner_window(clock))
        first = raw[:1]
        if first in _JSON_WHITESPACE:
            first = raw.lstrip(_JSON_WHITESPACE)[:1]
        batch = first == b"["
        try:
            found = many.validate_json(raw) if batch else [one.validate_json(raw)]
        except ValidationError:
            return None
        if not _units_are_canonical(found):
            return None
        return found, batch

    def _for(
        self, window: tuple[datetime, datetime]
    ) -> tuple[tuple[datetime, datetime], SchemaValidator, SchemaValidator]:
        """The validators for ``window``, built when it moved (~40 µs, once a second at most on
        a worker whose clock is the wall clock)."""
        built = self._built
        if built is None or built[0] != window:
            schema = _event_time_within(self._schema, *window)
            built = self._built = (
                window,
                SchemaValidator(schema),
                SchemaValidator(core_schema.list_schema(schema)),
            )
        return built


@cache
def core_validators(kind: EventKind) -> CoreValidators:
    """The :class:`CoreValidators` of ``kind``, one shared by all its decoders: a decoder made for
    one message (SenML's resolved readings) would otherwise build three validators (~0.5 ms)."""
    return CoreValidators(EVENT_MODELS[kind])


def _inner_window(clock: ValidationClock) -> tuple[datetime, datetime]:
    """``clock``'s window narrowed to whole seconds, so it moves once a second, not every message.

    Narrower, never wider: an event time the core accepts is inside the clock's window; one
    within a second of an end takes the item-by-item path, which judges it exactly.
    """
    earliest = clock.earliest.replace(microsecond=0)
    if earliest < clock.earliest:
        earliest += timedelta(seconds=1)
    return earliest, clock.latest.replace(microsecond=0)


def _event_time_within(schema: Any, earliest: datetime, latest: datetime) -> Any:
    """A copy of a core ``schema`` whose models' ``event_time`` must lie from ``earliest`` to
    ``latest``; the field must be a plain datetime there (its validators removed)."""
    if isinstance(schema, list):
        return [_event_time_within(item, earliest, latest) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {name: _event_time_within(value, earliest, latest) for name, value in schema.items()}
    if schema.get("type") == "model-fields" and "event_time" in schema["fields"]:
        field = schema["fields"]["event_time"]
        if field["schema"]["type"] != "datetime":
            raise TypeError(f"event_time has a {field['schema']['type']} schema; a datetime was expected")
        bounded = {**field["schema"], "ge": earliest, "le": latest}
        copied["fields"] = {**copied["fields"], "event_time": {**field, "schema": bounded}}
    return copied


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


class MessageDecoder:
    """Decodes messages from the topic that carries ``expected_kind`` events."""

    def __init__(self, expected_kind: EventKind, limits: DecodeLimits) -> None:
        self.expected_kind = expected_kind
        self.limits = limits
        self._model = EVENT_MODELS[expected_kind]
        self._core = core_validators(expected_kind)

    def decode(self, raw: bytes | None, key: bytes | None, now: datetime) -> Decoded:
        """Validate every event in ``raw``; ``key`` (the community id) must match each event.

        Fast path: the whole message is validated in one call of pydantic's Rust core
        (:class:`CoreValidators`, ~1.7 µs per event). Only when that fails is each item
        validated on its own, so valid items of a bad batch still go through and each bad
        one is named.
        """
        result = Decoded()
        raw = raw or b""
        if len(raw) > self.limits.max_message_bytes:
            result.rejections.append(
                Rejection(
                    RejectReason.TOO_LARGE,
                    f"message is {len(raw)} bytes; at most {self.limits.max_message_bytes} are allowed",
                )
            )
            return result
        clock = ValidationClock(now, self.limits.max_event_age, self.limits.max_event_ahead)
        community = key.decode("utf-8", "replace") if key else None
        validated = self._core.validate(raw, clock)
        if validated is None:
            return self._decode_items(raw, community, clock)
        items, batch = validated
        if (problem := self._batch_problem(len(items))) is not None:
            result.rejections.append(problem)
            return result
        unjudged = None if self._core.judges_time else clock
        first = community or items[0].community_id
        if unjudged is None and all(event.community_id == first for event in items):
            # The common message, in one pass: every time is inside the window (the core judged
            # it), so the first event is accepted and fixes the community when there is no key.
            result.events.extend(items)
            return result
        for index, event in enumerate(items):
            rejection = self._event_problem(event, community, unjudged)
            if rejection is None:
                community = community or event.community_id
                result.events.append(event)
            else:
                result.rejections.append(replace(rejection, item_index=index if batch else None))
        return result

    def _decode_items(self, raw: bytes, community: str | None, clock: ValidationClock) -> Decoded:
        """The slow path: parse, then validate item by item to say which ones are wrong."""
        result = Decoded()
        payload = self._parse(raw, result)
        if payload is None:
            return result
        batch = isinstance(payload, list)
        items: Sequence[Any] = payload if batch else [payload]
        if (problem := self._batch_problem(len(items))) is not None:
            result.rejections.append(problem)
            return result
        for index, item in enumerate(items):
            rejection = self._kind_problem(item)
            if rejection is None:
                try:
                    event = self._model.model_validate(item)
                except ValidationError as error:
                    rejection = Rejection(*describe_validation_error(error))
                else:
                    rejection = self._event_problem(event, community, clock)
                    if rejection is None:
                        community = community or event.community_id
                        result.events.append(event)
                        continue
            result.rejections.append(replace(rejection, item_index=index if batch else None))
        return result

    def _batch_problem(self, count: int) -> Rejection | None:
        if count > self.limits.max_batch_events:
            return Rejection(
                RejectReason.BATCH_TOO_LARGE,
                f"batch holds {count} events; at most {self.limits.max_batch_events} are allowed",
            )
        if count == 0:
            return Rejection(RejectReason.WRONG_SHAPE, "the batch is an empty array")
        return None

    @staticmethod
    def _event_problem(
        event: AnyEvent, community: str | None, clock: ValidationClock | None
    ) -> Rejection | None:
        """Checks that depend on the message, not the event alone: clock skew (unless the core
        judged it: ``clock`` None) and community."""
        if clock is not None and (problem := clock.problem(event.event_time)) is not None:
            return Rejection(RejectReason.CLOCK_SKEW, f"field 'event_time': {problem}")
        if community is not None and event.community_id != community:
            return Rejection(
                RejectReason.COMMUNITY_MISMATCH,
                f"community_id {event.community_id!r} differs from the message key "
                f"{community!r}; one message carries events of one community",
            )
        return None

    def _parse(self, raw: bytes, result: Decoded) -> Any:
        try:
            payload = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            result.rejections.append(Rejection(RejectReason.NOT_JSON, f"not valid UTF-8 JSON: {error}"))
            return None
        if not isinstance(payload, dict | list):
            result.rejections.append(
                Rejection(
                    RejectReason.WRONG_SHAPE,
                    f"expected a JSON object (one event) or array (a batch), got {type(payload).__name__}",
                )
            )
            return None
        return payload

    def _kind_problem(self, item: Any) -> Rejection | None:
        if not isinstance(item, dict):
            return Rejection(
                RejectReason.WRONG_SHAPE, f"a batch item must be a JSON object, got {type(item).__name__}"
            )
        kind = item.get("kind")
        if kind is None:
            return Rejection(
                RejectReason.MISSING_FIELD, f"field 'kind' is required; expected {self.expected_kind!r}"
            )
        if not isinstance(kind, str) or kind not in EVENT_MODELS:
            return Rejection(
                RejectReason.UNKNOWN_KIND,
                f"unknown event kind {kind!r:.60}; known kinds: {', '.join(EVENT_MODELS)}",
            )
        if kind != self.expected_kind:
            return Rejection(
                RejectReason.WRONG_TOPIC,
                f"a {kind} event does not belong on this topic, which carries {self.expected_kind} events",
            )
        return None


def dead_letters(
    raw: bytes | None,
    key: bytes | None,
    *,
    topic: str,
    partition: int,
    offset: int,
    rejections: Sequence[Rejection],
    now: datetime,
    max_raw_bytes: int,
) -> list[DeadLetter]:
    """One dead letter per rejection, each carrying the raw message (its first ``max_raw_bytes``)."""
    whole = raw or b""
    encoded = base64.b64encode(whole[:max_raw_bytes]).decode("ascii")
    digest = hashlib.sha256(whole).hexdigest()
    key_text = key.decode("utf-8", "replace") if key is not None else None
    return [
        DeadLetter(
            raw_base64=encoded,
            raw_size=len(whole),
            raw_sha256=digest,
            raw_truncated=len(whole) > max_raw_bytes,
            key=key_text,
            source_topic=topic,
            partition=partition,
            offset=offset,
            item_index=r.item_index,
            reason_class=r.reason_class,
            reason=r.reason,
            rejected_at=now,
        )
        for r in rejections
    ]
