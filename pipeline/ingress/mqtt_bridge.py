"""MQTT to Kafka: devices publish to topics such as ``riskwatch/{community}/{device}/{kind}``.

The bridge subscribes with QoS 1 and acknowledges a message to the MQTT
broker only after Kafka has acknowledged what it produced (paho's manual
acks): a crash in between redelivers the message, so delivery is
at-least-once and duplicates carry the same event ids (SenML ids are
derived from community, device, type and time). The community and device
come from the topic; the message is validated by the pipeline's decoder
(JSON events, whose ``community_id`` must match the topic) or resolved as
SenML when the kind segment is ``senml``. Invalid messages become dead
letters whose source is ``mqtt:<topic>``.

>>> route = TopicRoute("riskwatch/{community}/{device}/{kind}")
>>> route.subscription
'riskwatch/+/+/+'
>>> route.match("riskwatch/c1/wl-1/senml")
('c1', 'wl-1', 'senml')
>>> route.match("riskwatch/c1/wl-1") is None
True
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pipeline.ingress.http_ingest import OutboundMessage, event_batches
from pipeline.ingress.senml import decode_senml
from pipeline.ingress.settings import MqttSettings
from pipeline.kafka.topics import TopicNames
from pipeline.processing.decoding import Decoded, DecodeLimits, MessageDecoder, Rejection, dead_letters
from schemas.deadletter import DeadLetter, RejectReason

logger = logging.getLogger(__name__)

SENML_KIND = "senml"
_FIELDS = ("community", "device", "kind")


class TopicRoute:
    """A topic pattern with ``{community}``, ``{device}`` and ``{kind}`` segments."""

    def __init__(self, pattern: str) -> None:
        self.segments = pattern.split("/")
        placeholders = [s for s in self.segments if s.startswith("{")]
        if sorted(placeholders) != sorted(f"{{{f}}}" for f in _FIELDS):
            raise ValueError("the MQTT topic pattern needs {community}, {device} and {kind}, each once")
        if any(c in s for s in self.segments for c in "+#"):
            raise ValueError("the MQTT topic pattern may not contain MQTT wildcards")

    @property
    def subscription(self) -> str:
        """The MQTT topic filter matching every device topic."""
        return "/".join("+" if s.startswith("{") else s for s in self.segments)

    def match(self, topic: str) -> tuple[str, str, str] | None:
        """``(community, device, kind)`` of ``topic``, or ``None`` when it does not fit the pattern."""
        parts = topic.split("/")
        if len(parts) != len(self.segments):
            return None
        found: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            if segment.startswith("{"):
                found[segment[1:-1]] = part
            elif segment != part:
                return None
        return found["community"], found["device"], found["kind"]


@dataclass
class Translation:
    """What one MQTT message becomes: Kafka messages per topic, and dead letters."""

    messages: list[tuple[str, OutboundMessage]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


class BridgeCore:
    """Pure translation of MQTT messages into Kafka messages; no sockets."""

    def __init__(self, route: TopicRoute, topics: TopicNames, limits: DecodeLimits) -> None:
        self.route = route
        self.limits = limits
        self._topic_of: dict[str, str] = {kind: name for name, kind in topics.input_kinds().items()}
        self._decoders: dict[str, MessageDecoder] = {
            kind: MessageDecoder(kind, limits) for kind in topics.input_kinds().values()
        }

    def translate(self, mqtt_topic: str, payload: bytes, now: datetime) -> Translation:
        """Validate ``payload`` and say what to produce (events to inputs, rejects to dead letters)."""
        where = self.route.match(mqtt_topic)
        community = where[0] if where else None
        kind = where[2] if where else None
        decoded = self._decode(where, payload, now)
        translation = Translation(
            dead_letters=dead_letters(
                payload,
                community.encode() if community else None,
                topic=f"mqtt:{mqtt_topic}"[:500],
                partition=0,
                offset=0,
                rejections=decoded.rejections,
                now=now,
                max_raw_bytes=self.limits.max_message_bytes,
            )
        )
        if decoded.events:
            target = self._topic_of["sensor_reading" if kind == SENML_KIND else str(kind)]
            translation.messages = [(target, m) for m in event_batches(decoded.events, self.limits)]
        return translation

    def _decode(self, where: tuple[str, str, str] | None, payload: bytes, now: datetime) -> Decoded:
        if where is None:
            problem = f"the MQTT topic does not match the pattern {'/'.join(self.route.segments)}"
            return Decoded(rejections=[Rejection(RejectReason.WRONG_TOPIC, problem)])
        community, device, kind = where
        if kind == SENML_KIND:
            return decode_senml(
                payload, self._decoders["sensor_reading"], community_id=community, now=now, device_id=device
            )
        if kind not in self._decoders:
            known = ", ".join([*self._decoders, SENML_KIND])
            return Decoded(
                rejections=[Rejection(RejectReason.UNKNOWN_KIND, f"unknown kind segment; use one of {known}")]
            )
        return self._decoders[kind].decode(payload, community.encode(), now)


Send = Callable[[str, bytes, bytes], None]
"""Produce one Kafka message and wait for the broker's acknowledgement (raises on failure)."""


def forward(core: BridgeCore, mqtt_topic: str, payload: bytes, send: Send, deadletter_topic: str) -> int:
    """Translate one MQTT message and produce everything it yields; return how many events went out."""
    translation = core.translate(mqtt_topic, payload, datetime.now(UTC))
    for topic, message in translation.messages:
        send(topic, message.key, message.value)
    for letter in translation.dead_letters:
        send(deadletter_topic, (letter.key or "").encode(), letter.model_dump_json().encode())
    if translation.dead_letters:
        logger.warning("%d item(s) from an MQTT message dead-lettered", len(translation.dead_letters))
    return sum(1 for _ in translation.messages)


def run_bridge(
    mqtt: MqttSettings,
    core: BridgeCore,
    send: Send,
    deadletter_topic: str,
    stop: Callable[[], bool],
    on_subscribed: Callable[[], None] = lambda: None,
) -> None:
    """Subscribe (QoS 1) and forward until ``stop()``; an MQTT message is acked after Kafka acks.

    ``on_subscribed`` is called once the broker has granted the subscription.
    """
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    address = urlsplit(mqtt.url)
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=mqtt.client_id, clean_session=False, manual_ack=True
    )
    if mqtt.username:
        password = mqtt.password.get_secret_value() if mqtt.password else None
        client.username_pw_set(mqtt.username, password)
    if address.scheme == "mqtts":
        client.tls_set()

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        client.subscribe(core.route.subscription, qos=1)
        logger.info("MQTT bridge subscribed to %s", core.route.subscription)

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        try:
            forward(core, message.topic, message.payload, send, deadletter_topic)
        except Exception:
            # Not acked: the MQTT broker redelivers after reconnecting (at-least-once).
            logger.exception("MQTT message on %s not forwarded; reconnecting for redelivery", message.topic)
            client.disconnect()
            return
        client.ack(message.mid, message.qos)

    def on_subscribe(client: Any, userdata: Any, mid: Any, reason_codes: Any, properties: Any) -> None:
        on_subscribed()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(address.hostname or "127.0.0.1", address.port or 1883)
    try:
        while not stop():
            client.loop(timeout=0.2)
            if not client.is_connected():
                client.reconnect()
    finally:
        client.disconnect()
