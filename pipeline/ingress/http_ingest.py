"""``POST /ingest/{kind}``: devices and apps that speak HTTP, authenticated and bounded.

Pure request handling (no sockets, no Kafka): :class:`HttpIngest` takes the
request's parts and returns the HTTP answer, the messages to produce to the
input topic and the dead letters to produce. Validation is the pipeline's own
:class:`~pipeline.processing.decoding.MessageDecoder` (JSON) or
:func:`~pipeline.ingress.senml.decode_senml` (SenML), so HTTP accepts exactly what
Kafka producers may send.

Authentication: ``Authorization: Bearer <token>``; each configured token is
scoped to the communities it may publish for. Every token is compared (as a
SHA-256 digest, with :func:`hmac.compare_digest`) whatever matched first, so
the time taken says nothing about which token, or how much of it, was right.
Refused requests (401, 403, 404, 415) produce nothing; an authenticated body
that fails validation yields dead letters, one per rejected item. The status
says what became of the body: 202 when at least one event was accepted (the
others' reasons are in the answer), 400 when it is not JSON, not events or an
empty batch, 413 when it is too large, and 422 when it held events but every one
was rejected (nothing will reach the pipeline).

>>> from datetime import UTC, datetime
>>> token = IngestToken(name="gw-1", token="device-token-0123456789", communities=["c1"])
>>> ingest = HttpIngest([token], DecodeLimits())
>>> answer = ingest.handle(IngestRequest(kind="sensor_reading", authorization="Bearer nope",
...                        content_type="application/json", body=b"{}"), datetime(2026, 1, 1, tzinfo=UTC))
>>> answer.status, answer.body["error"]
(401, 'missing or unknown bearer token')
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

from pydantic import BaseModel

from pipeline.ingress.senml import SENML_CONTENT_TYPE, decode_senml
from pipeline.ingress.settings import IngestToken
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import Decoded, DecodeLimits, MessageDecoder, Rejection, dead_letters
from schemas.deadletter import DeadLetter, RejectReason
from schemas.events import EventKind

JSON_CONTENT_TYPE = "application/json"
INGEST_KINDS: tuple[EventKind, ...] = get_args(EventKind)
#: Rejections of the body as a whole, and the HTTP status each earns when nothing was accepted.
_BODY_STATUS = {
    RejectReason.TOO_LARGE: 413,
    RejectReason.BATCH_TOO_LARGE: 413,
    RejectReason.NOT_JSON: 400,
    RejectReason.WRONG_SHAPE: 400,
}


NOTHING_ACCEPTED = 422
"""The status of a well-formed body of events of which none was valid."""


@dataclass(frozen=True)
class IngestRequest:
    """What the handler needs from an HTTP request."""

    kind: str
    authorization: str | None
    content_type: str | None
    body: bytes
    community: str | None = None
    device: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A Kafka message to produce: topic chosen by the caller from the event kind."""

    key: bytes
    value: bytes


@dataclass
class IngestAnswer:
    """The HTTP answer and what to produce: accepted events and dead letters."""

    status: int
    body: dict[str, Any]
    client: str | None = None
    messages: list[OutboundMessage] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _error(status: int, message: str, **headers: str) -> IngestAnswer:
    return IngestAnswer(status=status, body={"error": message}, headers=dict(headers))


class HttpIngest:
    """Authenticates, validates and answers ingest requests; produces nothing itself."""

    def __init__(self, tokens: Sequence[IngestToken], limits: DecodeLimits) -> None:
        self.limits = limits
        self._tokens = [(_digest(t.token.get_secret_value()), t) for t in tokens]
        self._decoders = {kind: MessageDecoder(kind, limits) for kind in INGEST_KINDS}

    def authenticate(self, authorization: str | None) -> IngestToken | None:
        """The token presented in ``authorization``, compared against every token in constant time."""
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        offered = _digest(presented.strip())
        found: IngestToken | None = None
        for digest, token in self._tokens:
            if hmac.compare_digest(offered, digest):
                found = token
        return found

    def handle(self, request: IngestRequest, now: datetime) -> IngestAnswer:
        """Answer one request; see the module docstring for the rules."""
        client = self.authenticate(request.authorization)
        if client is None:
            return _error(401, "missing or unknown bearer token", **{"WWW-Authenticate": "Bearer"})
        if request.kind not in self._decoders:
            return _error(404, f"unknown event kind; use one of {', '.join(INGEST_KINDS)}")
        media_type = (request.content_type or JSON_CONTENT_TYPE).split(";")[0].strip().lower()
        if media_type not in (JSON_CONTENT_TYPE, SENML_CONTENT_TYPE):
            return _error(415, f"send {JSON_CONTENT_TYPE} or {SENML_CONTENT_TYPE}")
        decoder = self._decoders[request.kind]
        if media_type == SENML_CONTENT_TYPE:
            if request.community is None or request.community not in client.communities:
                return _error(403, "SenML needs a 'community' query parameter this token may publish for")
            decoded = decode_senml(
                request.body, decoder, community_id=request.community, now=now, device_id=request.device
            )
        else:
            decoded = decoder.decode(request.body, None, now)
            outside = {e.community_id for e in decoded.events} - set(client.communities)
            if outside:
                return _error(403, "this token may not publish for the community of these events")
        answer = self._answer(request, decoded, now)
        answer.client = client.name
        return answer

    def _answer(self, request: IngestRequest, decoded: Decoded, now: datetime) -> IngestAnswer:
        body_problems = [
            r for r in decoded.rejections if r.item_index is None and r.reason_class in _BODY_STATUS
        ]
        key = (request.community or _community(decoded) or "").encode() or None
        letters = dead_letters(
            request.body,
            key,
            topic=f"http:/ingest/{request.kind}",
            partition=0,
            offset=0,
            rejections=decoded.rejections,
            now=now,
            max_raw_bytes=self.limits.max_message_bytes,
        )
        if not decoded.events:
            status = _BODY_STATUS[body_problems[0].reason_class] if body_problems else NOTHING_ACCEPTED
            return IngestAnswer(status=status, body=_summary([], decoded.rejections), dead_letters=letters)
        return IngestAnswer(
            status=202,
            body=_summary(decoded.events, decoded.rejections),
            messages=event_batches(decoded.events, self.limits),
            dead_letters=letters,
        )


def event_batches(events: Sequence[BaseModel], limits: DecodeLimits) -> list[OutboundMessage]:
    """Accepted events as JSON-array messages within the size and batch limits, keyed by community.

    Every event of ``events`` belongs to one community (the decoder enforces it).
    """
    messages: list[OutboundMessage] = []
    chunk: list[bytes] = []
    size = 2
    for event in events:
        encoded = event.model_dump_json(exclude={"received_time"}).encode()
        full = size + len(encoded) + 1 > limits.max_message_bytes or len(chunk) >= limits.max_batch_events
        if chunk and full:
            messages.append(_message(events[0], chunk))
            chunk, size = [], 2
        chunk.append(encoded)
        size += len(encoded) + 1
    if chunk:
        messages.append(_message(events[0], chunk))
    return messages


def _message(event: BaseModel, chunk: list[bytes]) -> OutboundMessage:
    community: str = event.community_id  # type: ignore[attr-defined]
    return OutboundMessage(key=community.encode(), value=b"[" + b",".join(chunk) + b"]")


def _community(decoded: Decoded) -> str | None:
    return decoded.events[0].community_id if decoded.events else None


def _summary(events: Sequence[BaseModel], rejections: Sequence[Rejection]) -> dict[str, Any]:
    """Per-item results in item order; ``index`` null means the whole body."""
    rejected = {r.item_index for r in rejections if r.item_index is not None}
    accepted_indices = (i for i in range(len(events) + len(rejected)) if i not in rejected)
    items: list[dict[str, Any]] = [
        {"index": index, "status": "accepted", "event_id": event.event_id}  # type: ignore[attr-defined]
        for index, event in zip(accepted_indices, events, strict=False)
    ]
    items += [
        {
            "index": r.item_index,
            "status": "rejected",
            "reason_class": r.reason_class.value,
            "reason": r.reason,
        }
        for r in rejections
    ]
    items.sort(key=lambda item: -1 if item["index"] is None else item["index"])
    return {"accepted": len(events), "rejected": len(rejections), "items": items}


def response_bytes(answer: IngestAnswer) -> bytes:
    """The JSON body of ``answer``."""
    return json.dumps(answer.body).encode()


AsyncSend = Callable[[str, bytes, bytes], Awaitable[None]]
"""Produce one Kafka message (topic, key, value), waiting for the broker's acknowledgement."""


def request_from(
    kind: str, headers: Mapping[str, str], query: Mapping[str, str], body: bytes
) -> IngestRequest:
    """The handler's view of an HTTP request (any web framework's headers and query mappings)."""
    return IngestRequest(
        kind=kind,
        authorization=headers.get("Authorization"),
        content_type=headers.get("Content-Type"),
        body=body,
        community=query.get("community"),
        device=query.get("device"),
    )


async def produce_answer(answer: IngestAnswer, kind: str, topics: TopicNames, send: AsyncSend) -> None:
    """Send an answer's accepted events to the kind's input topic and its dead letters to the
    dead-letter topic; the web route awaits this before it replies, so a 202 means "in Kafka"."""
    by_kind = {event_kind: name for name, event_kind in topics.input_kinds().items()}
    for message in answer.messages:
        await send(by_kind[kind], message.key, message.value)  # type: ignore[index]
    for letter in answer.dead_letters:
        await send(topics.deadletter, (letter.key or "").encode(), letter.model_dump_json().encode())
