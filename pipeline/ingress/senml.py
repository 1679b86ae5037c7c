"""SenML (RFC 8428) packs from devices, normalised to our sensor readings.

Many off-the-shelf devices speak SenML JSON: an array of records, each with
a name, a unit, a value and a time, with ``b*`` base fields carried forward.
This module resolves a pack (RFC 8428 §4.6) and maps each record onto a
``sensor_reading`` event: the name's last segment is the sensor type
(``…/water_level``), the rest of the resolved name the device; the unit is
converted to the sensor type's canonical unit, and an unknown unit is
refused with the units that would be accepted. The resulting events then go
through the same :class:`~pipeline.processing.decoding.MessageDecoder` as any JSON event,
so there is one set of validation rules.

>>> from datetime import UTC, datetime
>>> from pipeline.processing.decoding import DecodeLimits, MessageDecoder
>>> pack = b'[{"bn": "wl-1/", "bt": 1767225600, "n": "temperature", "u": "K", "v": 293.15},'
>>> pack += b' {"n": "water_level", "u": "cm", "v": 125}, {"n": "water_level", "u": "ft", "v": 1}]'
>>> decoded = decode_senml(pack, MessageDecoder("sensor_reading", DecodeLimits()),
...                        community_id="c1", now=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
>>> [(e.device_id, e.sensor_type.value, round(e.value, 2), e.unit) for e in decoded.events]
[('wl-1', 'temperature', 20.0, 'degC'), ('wl-1', 'water_level', 1.25, 'm')]
>>> [(r.item_index, r.reason_class.value) for r in decoded.rejections]
[(2, 'invalid_field')]
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.processing.decoding import Decoded, MessageDecoder, Rejection
from schemas.deadletter import RejectReason
from schemas.events import CANONICAL_UNITS, SensorType

SENML_CONTENT_TYPE = "application/senml+json"
"""The media type of SenML JSON (RFC 8428 §12.3)."""

#: Times below 2**28 are relative to now (RFC 8428 §4.5.3).
_RELATIVE_TIME_LIMIT = 2**28

_Convert = Callable[[float], float]


def _scale(factor: float) -> _Convert:
    return lambda value: value * factor


def _identity(value: float) -> float:
    return value


#: Accepted units per sensor type and how to convert them to the canonical unit:
#: SenML's registered units (RFC 8428 §12.1, RFC 8798) plus the canonical unit itself.
UNIT_CONVERSIONS: dict[SensorType, dict[str, _Convert]] = {
    SensorType.WATER_LEVEL: {"m": _identity, "cm": _scale(0.01), "mm": _scale(0.001)},
    SensorType.SMOKE: {"%obs/m": _identity},
    SensorType.GAS_CH4: {"%LEL": _identity},
    SensorType.GAS_CO: {"ppm": _identity},
    SensorType.TEMPERATURE: {"degC": _identity, "Cel": _identity, "K": lambda k: k - 273.15},
    SensorType.PM25: {"ug/m3": _identity, "kg/m3": _scale(1e9)},
    SensorType.VIBRATION: {"mm/s": _identity, "m/s": _scale(1000.0)},
    SensorType.POWER: {"V": _identity, "mV": _scale(0.001)},
}
assert all(CANONICAL_UNITS[t] in units for t, units in UNIT_CONVERSIONS.items())

_KNOWN_FIELDS = frozenset({"bn", "bt", "bu", "bv", "bver", "n", "u", "v", "t"})
_NON_NUMERIC_VALUES = frozenset({"vs", "vb", "vd", "s"})


@dataclass
class SenmlPack:
    """A resolved pack: our event dicts, the record index each came from, and refused records."""

    events: list[dict[str, Any]] = field(default_factory=list)
    source_index: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class _RecordError(ValueError):
    """A record cannot become a reading; the message says why."""

    def __init__(self, message: str, reason_class: RejectReason = RejectReason.INVALID_FIELD) -> None:
        super().__init__(message)
        self.reason_class = reason_class


def _number(record: dict[str, Any], key: str, default: float) -> float:
    value = record.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _RecordError(f"SenML field '{key}' must be a finite number")
    return float(value)


def _text(record: dict[str, Any], key: str, default: str) -> str:
    value = record.get(key, default)
    if not isinstance(value, str):
        raise _RecordError(f"SenML field '{key}' must be a string")
    return value


def _split_name(name: str, device_id: str | None) -> tuple[str, SensorType]:
    head, _, last = name.rpartition("/")
    try:
        sensor_type = SensorType(last)
    except ValueError:
        raise _RecordError(
            f"SenML name {name!r:.80} does not end in a sensor type; "
            f"expected '<device>/<type>' with type one of {', '.join(t.value for t in SensorType)}"
        ) from None
    device = device_id or head.strip("/:")
    if not device:
        raise _RecordError(f"SenML name {name!r:.80} names no device; use base name '<device>/'")
    return device, sensor_type


def _convert(sensor_type: SensorType, unit: str, value: float) -> float:
    conversions = UNIT_CONVERSIONS[sensor_type]
    if not unit:
        raise _RecordError(
            f"SenML record has no unit ('u' or base 'bu'); send one of {', '.join(conversions)}"
        )
    if unit not in conversions:
        raise _RecordError(
            f"unit {unit!r:.40} is not accepted for {sensor_type.value}; send one of {', '.join(conversions)}"
        )
    converted = conversions[unit](value)
    if not math.isfinite(converted):
        raise _RecordError(f"value {value} {unit} overflows when converted to {CANONICAL_UNITS[sensor_type]}")
    return converted


def _event_id(community_id: str, device: str, sensor_type: SensorType, when: datetime) -> str:
    """Deterministic, so a redelivered pack (MQTT QoS 1) yields the same event ids."""
    digest = hashlib.sha256(f"{community_id}|{device}|{sensor_type.value}|{when.isoformat()}".encode())
    return f"senml-{digest.hexdigest()[:32]}"


def _when(seconds: float, now: datetime) -> datetime:
    if abs(seconds) < _RELATIVE_TIME_LIMIT:
        return now + timedelta(seconds=seconds)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _RecordError(f"SenML time {seconds} is not a representable point in time") from None


def resolve_pack(
    records: list[Any], *, community_id: str, now: datetime, device_id: str | None = None
) -> SenmlPack:
    """Turn SenML records into ``sensor_reading`` dicts (not yet validated).

    ``device_id`` (from an MQTT topic, say) overrides the device named in the
    record names. Base fields carry forward to later records as RFC 8428 says.
    """
    pack = SenmlPack()
    base: dict[str, Any] = {"bn": "", "bt": 0.0, "bu": "", "bv": 0.0}
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise _RecordError(f"a SenML record must be a JSON object, got {type(record).__name__}")
            for key in ("bn", "bu"):
                if key in record:
                    base[key] = _text(record, key, "")
            for key in ("bt", "bv"):
                if key in record:
                    base[key] = _number(record, key, 0.0)
            pack.events.append(_reading(record, base, community_id, now, device_id))
            pack.source_index.append(index)
        except _RecordError as error:
            pack.rejections.append(Rejection(error.reason_class, str(error), index))
    return pack


def _reading(
    record: dict[str, Any], base: dict[str, Any], community_id: str, now: datetime, device_id: str | None
) -> dict[str, Any]:
    if non_numeric := _NON_NUMERIC_VALUES & record.keys():
        raise _RecordError(f"only numeric SenML values ('v') are readings; got {sorted(non_numeric)}")
    if unknown := record.keys() - _KNOWN_FIELDS:
        shown = ", ".join(repr(k)[:40] for k in sorted(unknown)[:5])
        raise _RecordError(f"unknown SenML field(s) {shown}", RejectReason.UNKNOWN_FIELD)
    if "v" not in record and "bv" not in record:
        raise _RecordError("SenML record has no value 'v'")
    device, sensor_type = _split_name(base["bn"] + _text(record, "n", ""), device_id)
    value = base["bv"] + _number(record, "v", 0.0)
    unit = _text(record, "u", base["bu"])
    when = _when(base["bt"] + _number(record, "t", 0.0), now)
    return {
        "kind": "sensor_reading",
        "event_id": _event_id(community_id, device, sensor_type, when),
        "community_id": community_id,
        "event_time": when.isoformat(),
        "device_id": device,
        "sensor_type": sensor_type.value,
        "value": _convert(sensor_type, unit, value),
        "unit": CANONICAL_UNITS[sensor_type],
    }


def _pack_problem(shape: Any, decoder: MessageDecoder) -> Rejection | None:
    if not isinstance(shape, list) or not shape:
        return Rejection(RejectReason.WRONG_SHAPE, "a SenML pack is a non-empty JSON array of records")
    if decoder.expected_kind != "sensor_reading":
        return Rejection(
            RejectReason.WRONG_TOPIC, f"SenML carries sensor readings, not {decoder.expected_kind} events"
        )
    if len(shape) > decoder.limits.max_batch_events:
        return Rejection(
            RejectReason.BATCH_TOO_LARGE,
            f"SenML pack holds {len(shape)} records; at most {decoder.limits.max_batch_events} are allowed",
        )
    return None


def decode_senml(
    raw: bytes, decoder: MessageDecoder, *, community_id: str, now: datetime, device_id: str | None = None
) -> Decoded:
    """Decode a SenML pack into validated readings; rejections carry the SenML record index.

    Size, JSON and shape checks are the decoder's own (the raw pack goes
    through them first); resolved readings are validated by the decoder too.
    """
    result = Decoded()
    shape = decoder._parse(raw, result)  # the decoder's size and JSON checks
    if shape is None:
        return result
    problem = _pack_problem(shape, decoder)
    if problem is not None:
        result.rejections.append(problem)
        return result
    pack = resolve_pack(shape, community_id=community_id, now=now, device_id=device_id)
    result.rejections.extend(pack.rejections)
    if pack.events:
        # The raw pack passed the size check; resolved readings are larger than records.
        resolved = MessageDecoder(decoder.expected_kind, replace(decoder.limits, max_message_bytes=2**62))
        decoded = resolved.decode(json.dumps(pack.events).encode(), community_id.encode(), now)
        result.events.extend(decoded.events)
        for rejection in decoded.rejections:
            index = None if rejection.item_index is None else pack.source_index[rejection.item_index]
            result.rejections.append(Rejection(rejection.reason_class, rejection.reason, index))
    result.rejections.sort(key=lambda r: -1 if r.item_index is None else r.item_index)
    return result
