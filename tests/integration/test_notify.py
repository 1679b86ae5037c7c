"""``riskwatch notify`` against the real broker: notifications published on the responder topics
reach a webhook (signature checked here), a chat robot and an SMTP server run by the test; a dead
endpoint is retried while others are served; kill -9 mid-batch loses nothing and sends nothing
twice per idempotency key."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import pytest
from kafka import KafkaProducer

from pipeline.assess.episodes import NoticeKind, Notification
from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.notify.deliveries import DeliveryRecord
from pipeline.notify.process import NotifyProcess
from pipeline.notify.signing import SIGNATURE_HEADER, signature_matches
from schemas.deadletter import DeadLetter
from schemas.hazard import Hazard, Tier
from tests.integration.conftest import (
    ARTIFACTS,
    await_condition,
    isolated_settings,
    read_records,
    read_until,
)
from tests.integration.notify_receivers import HttpReceiver, SmtpSink

SECRET = "webhook-shared-secret"
HEADER = "id,name,community,role,channel,address\n"


def notify_settings(
    broker: EmbeddedBroker, tmp_path: Path, smtp_port: int = 25, **notify: object
) -> Settings:
    settings = isolated_settings(
        broker,
        tmp_path,
        notify={
            "port": free_port(),
            "webhook_secret": SECRET,
            "smtp_port": smtp_port,
            "ack_key": "a" * 32,
            "rate_per_minute": 6000,
            "backoff_s": 0.2,
            "max_attempts": 3,
            **notify,
        },
    )
    ensure_topics(settings, broker.bootstrap_servers)
    return settings


def riskwatch(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """A ``riskwatch`` command as a user runs it, against this test's broker and topics."""
    env = {
        "RISKWATCH_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "RISKWATCH_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def import_roster(settings: Settings, tmp_path: Path, rows: str) -> None:
    """``riskwatch roster import``, which must succeed."""
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + rows)
    done = riskwatch(settings, "roster", "import", str(path))
    assert done.returncode == 0, done.stderr


def test_a_bad_roster_file_changes_nothing(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = notify_settings(broker, tmp_path)
    import_roster(settings, tmp_path, "wang,Wang Fang,c1,grid_worker,email,wang@c1.example\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "li,Li Na,c1,police,email,li@c1.example\nzhao,Zhao,c1,astronaut,email,z@c1.example\n"
    )
    refused = riskwatch(settings, "roster", "import", str(bad))
    assert refused.returncode == 1
    assert (
        "nothing changed" in refused.stderr
        and "row 3, column role: 'astronaut' is not a role" in refused.stderr
    )
    listed = riskwatch(settings, "roster", "list")
    assert listed.returncode == 0, listed.stderr
    assert "wang@c1.example" in listed.stdout and "li@c1.example" not in listed.stdout


def publish_notices(settings: Settings, route: str, count: int, community: str = "c1") -> list[str]:
    """``count`` opened notices of new warnings on ``route``; their warning ids."""
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    ids = [f"w-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    try:
        for warning_id in ids:
            notice = Notification(
                kind=NoticeKind.OPENED,
                community_id=community,
                hazard=Hazard.FLOOD,
                tier=Tier.III,
                level=0,
                at=datetime.now(UTC),
                warning_id=warning_id,
                revision=1,
                text=f"III yellow flood warning {warning_id}",
                topics=(route,),
            )
            producer.send(
                settings.topic_prefix + route, key=community.encode(), value=notice.model_dump_json().encode()
            ).get(10)
    finally:
        producer.close()
    return ids


def publish_raw(settings: Settings, topic: str, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    try:
        producer.send(topic, key=b"c1", value=value).get(10)
    finally:
        producer.close()


def deliveries(broker: EmbeddedBroker, settings: Settings, count: int) -> list[DeliveryRecord]:
    topic = TopicNames.from_settings(settings).deliveries
    records = read_records(broker, topic, lambda rs: len(rs) >= count, timeout_s=60)
    return [DeliveryRecord.model_validate_json(r.value) for r in records]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


def test_webhook_robot_and_email_are_delivered_and_recorded(
    broker: EmbeddedBroker, tmp_path: Path, receiver: HttpReceiver
) -> None:
    with SmtpSink() as smtp:
        settings = notify_settings(broker, tmp_path, smtp_port=smtp.port)
        import_roster(
            settings,
            tmp_path,
            f"hook,Grid phone,c1,community_office,webhook,{receiver.url('/ok/hook')}\n"
            f"ding,C1 DingTalk group,c1,community_office,dingtalk,{receiver.url('/robot/ding')}\n"
            "mail,Office mailbox,c1,community_office,email,office@c1.example\n"
            f"other,Other community,c2,community_office,webhook,{receiver.url('/ok/other')}\n",
        )
        with NotifyProcess(settings, ARTIFACTS / f"notify-{settings.app_id}.log") as notify:
            notify.wait_ready()
            route = settings.topic_prefix + "responders.community_office"
            publish_raw(settings, route, b"not a notification")
            (warning_id,) = publish_notices(settings, "responders.community_office", 1)
            records = deliveries(broker, settings, 3)
            deadletter = TopicNames.from_settings(settings).deadletter
            (letter,) = [
                DeadLetter.model_validate_json(r.value) for r in read_until(broker, deadletter, bool)
            ]
            await_condition(lambda: len(smtp.messages) == 1, 30, "the e-mail reached the SMTP server")

    assert (letter.raw, letter.source_topic) == (b"not a notification", route)
    assert letter.reason.startswith("not a notification")
    assert sorted((r.recipient_id, r.outcome.value) for r in records) == [
        ("ding", "delivered"),
        ("hook", "delivered"),
        ("mail", "delivered"),
    ]
    assert not receiver.received("/ok/other"), "c2's office is not told of c1's warning"
    (hook,) = receiver.received("/ok/hook")
    assert signature_matches(SECRET.encode(), hook.body, hook.headers[SIGNATURE_HEADER])
    body = json.loads(hook.body)
    assert body["idempotency_key"] == f"{warning_id}:1:opened:0:hook" == hook.headers["Idempotency-Key"]
    assert body["notification"]["warning_id"] == warning_id
    assert body["ack_url"].startswith(f"{settings.ack_links_url}/ack/")
    (ding,) = receiver.received("/robot/ding")
    payload = json.loads(ding.body)
    assert payload["msgtype"] == "markdown" and warning_id in payload["markdown"]["text"]
    mail = message_from_bytes(smtp.messages[0])
    assert "III yellow flood" in mail["Subject"] and mail["To"] == "office@c1.example"
    assert "/ack/" in mail.get_payload()


def test_a_dead_endpoint_is_retried_while_others_are_delivered(
    broker: EmbeddedBroker, tmp_path: Path, receiver: HttpReceiver
) -> None:
    settings = notify_settings(broker, tmp_path, backoff_s=1.0)
    import_roster(
        settings,
        tmp_path,
        f"dead,Dead phone,c1,community_office,webhook,{receiver.url('/dead/x')}\n"
        f"live,Live phone,c1,community_office,webhook,{receiver.url('/ok/live')}\n",
    )
    with NotifyProcess(settings, ARTIFACTS / f"notify-{settings.app_id}.log") as notify:
        notify.wait_ready()
        ids = publish_notices(settings, "responders.community_office", 3)
        await_condition(lambda: len(receiver.received("/ok/live")) == 3, 30, "the live phone got all three")
        dead_so_far = len(receiver.received("/dead/", status=503))
        assert dead_so_far < 9, "the live phone was served while the dead one was still being retried"
        records = deliveries(broker, settings, 3 + 9)
        counted = {
            f'riskwatch_notify_attempts_total{{channel="webhook",outcome="{outcome}"}} {n}.0'
            for outcome, n in (("delivered", 3), ("failed", 6), ("gave_up", 3))
        }
        await_condition(lambda: counted <= set(notify.metrics().splitlines()), 10, f"metrics count {counted}")
    dead = [r for r in records if r.recipient_id == "dead"]
    assert sorted((r.warning_id, r.attempt, r.outcome.value) for r in dead) == sorted(
        (w, a, "gave_up" if a == 3 else "failed") for w in ids for a in (1, 2, 3)
    )
    assert all(r.error == "HTTP 503: down" for r in dead)


def test_kill_9_mid_batch_loses_nothing_and_sends_nothing_twice(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """What a restart may resend is only a message whose outcome was not recorded yet: at most the
    one in flight per recipient at the kill, with the same ``Idempotency-Key``, so a receiver that
    drops repeated keys (as this one counts them) takes each message exactly once."""
    with HttpReceiver(delay_s=0.03) as receiver:
        settings = notify_settings(broker, tmp_path)
        phones = 3
        import_roster(
            settings,
            tmp_path,
            "".join(
                f"p{n},Phone {n},c1,community_office,webhook,{receiver.url(f'/ok/p{n}')}\n"
                for n in range(phones)
            ),
        )
        log = ARTIFACTS / f"notify-{settings.app_id}.log"
        ids = publish_notices(settings, "responders.community_office", 40)
        expected = {f"{w}:1:opened:0:p{n}" for w in ids for n in range(phones)}
        with NotifyProcess(settings, log) as notify:
            await_condition(lambda: len(receiver.received()) >= 30, 60, "notify delivered some")
            notify.process.send_signal(signal.SIGKILL)
            notify.process.wait(10)
        assert len(receiver.received()) < len(expected), "killed mid-batch"
        topic = TopicNames.from_settings(settings).deliveries
        recorded_before = {
            DeliveryRecord.model_validate_json(r.value).key
            for r in read_records(broker, topic, lambda rs: False, timeout_s=3)
        }
        with NotifyProcess(settings, log):
            await_condition(
                lambda: {r.headers["Idempotency-Key"] for r in receiver.received()} >= expected,
                60,
                "every message arrived after the restart",
            )
        records = deliveries(broker, settings, len(expected))
    keys = Counter(r.headers["Idempotency-Key"] for r in receiver.received())
    assert set(keys) == expected, "nothing lost"
    again = [k for k, n in keys.items() if n > 1]
    assert not set(again) & recorded_before, "nothing recorded as delivered was sent again"
    assert len(again) <= phones and all(keys[k] == 2 for k in again), "at most the message in flight"
    delivered = Counter(r.key for r in records if r.outcome.value == "delivered")
    assert set(delivered) == expected and set(delivered.values()) == {1}, "one delivered record per key"
