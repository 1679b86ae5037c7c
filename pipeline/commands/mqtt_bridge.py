"""``riskwatch mqtt-bridge``: forward device messages from an MQTT broker to Kafka."""

from __future__ import annotations

import argparse

from pipeline.config import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the bridge until Ctrl-C."""
    from kafka import KafkaProducer

    from pipeline.ingress.mqtt_bridge import BridgeCore, TopicRoute, run_bridge
    from pipeline.ingress.settings import MqttSettings
    from pipeline.kafka.kafka_security import load_kafka_security
    from pipeline.kafka.topics import TopicNames

    if not settings.bootstrap_servers:
        print("mqtt-bridge needs RISKWATCH_BOOTSTRAP_SERVERS (the Kafka it forwards to)")
        return 2
    overrides = {k: v for k, v in {"url": args.mqtt_url, "topic_pattern": args.topic_pattern}.items() if v}
    mqtt = MqttSettings(**overrides)
    topics = TopicNames.from_settings(settings)
    limits = settings.decode_limits
    core = BridgeCore(TopicRoute(mqtt.topic_pattern), topics, limits)
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        max_request_size=settings.max_record_bytes,
        **load_kafka_security().kafka_python_kwargs(),
    )

    def send(topic: str, key: bytes, value: bytes) -> None:
        producer.send(topic, key=key, value=value).get(timeout=30)

    print(f"forwarding {core.route.subscription} from {mqtt.url} to Kafka", flush=True)
    try:
        run_bridge(mqtt, core, send, topics.deadletter, stop=lambda: False)
    except KeyboardInterrupt:
        print("stopped")
    finally:
        producer.close()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mqtt-bridge``."""
    parser = subparsers.add_parser("mqtt-bridge", help="forward device topics from an MQTT broker to Kafka")
    parser.add_argument("--mqtt-url", default=None, help="mqtt://host:port (default RISKWATCH_MQTT_URL)")
    parser.add_argument("--topic-pattern", default=None, help="e.g. riskwatch/{community}/{device}/{kind}")
    parser.set_defaults(run=run)
