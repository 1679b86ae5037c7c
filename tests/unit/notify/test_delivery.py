"""Delivery without a broker: retries and give-up per attempt, a dead recipient not holding up
another, offsets committable only once outcomes are recorded, payload shapes, token refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.assess.episodes import NoticeKind, Notification
from pipeline.notify.deliverer import Deliverer, Job
from pipeline.notify.deliveries import DeliveryBook, DeliveryRecord, Outcome
from pipeline.notify.messages import Message, http_request, robot_refusal
from pipeline.notify.offsets import PendingOffsets
from pipeline.notify.roster import Channel, parse_roster
from pipeline.notify.settings import NotifySettings
from pipeline.notify.signing import SIGNATURE_HEADER, AckClaim, TokenRefused, issue_token, read_token
from pipeline.notify.transport import DeliveryFailed
from schemas.hazard import Hazard, Tier

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)
ROSTER = parse_roster(
    "id,name,community,role,channel,address\n"
    "dead,Dead,c1,community_office,webhook,http://dead/\n"
    "live,Live,c1,community_office,webhook,http://live/\n"
    "ding,Ding,c1,community_office,dingtalk,http://ding/\n"
    "wecom,WeCom,c1,community_office,wecom,http://wecom/\n"
    "feishu,Feishu,c1,community_office,feishu,http://feishu/\n"
)
BY_ID = {entry.id: entry for entry in ROSTER}


def message(recipient: str, warning: str = "w1") -> Message:
    notice = Notification(
        kind=NoticeKind.OPENED,
        community_id="c1",
        hazard=Hazard.FIRE,
        tier=Tier.II,
        level=0,
        at=AT,
        warning_id=warning,
        revision=2,
        text="II orange fire warning",
    )
    return Message(notice, BY_ID[recipient], f"{warning}:2:opened:0:{recipient}", "http://console/ack/t")


class FakeTransport:
    """``dead`` never answers in time; everything else is taken."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: Message) -> None:
        if message.recipient.id == "dead":
            raise DeliveryFailed("timeout")
        self.sent.append(message.key)


async def test_a_dead_recipient_is_retried_and_given_up_while_the_live_one_is_served() -> None:
    settings = NotifySettings(max_attempts=3, backoff_s=0.01, rate_per_minute=6000)
    recorded: list[DeliveryRecord] = []
    finished: list[str] = []

    async def record(r: DeliveryRecord) -> None:
        recorded.append(r)

    transport = FakeTransport()
    deliverer = Deliverer(settings, transport, record, lambda: AT)
    for recipient in ("dead", "live"):
        for warning in ("w1", "w2"):
            m = message(recipient, warning)
            deliverer.submit(Job(m, lambda key=m.key: finished.append(key)))
    assert deliverer.queued == 4
    async with asyncio.timeout(5):
        while len(finished) < 4:
            await asyncio.sleep(0.01)
    await deliverer.close()
    assert transport.sent == ["w1:2:opened:0:live", "w2:2:opened:0:live"]
    dead = [(r.warning_id, r.attempt, r.outcome) for r in recorded if r.recipient_id == "dead"]
    assert dead == [
        (w, a, Outcome.GAVE_UP if a == 3 else Outcome.FAILED) for w in ("w1", "w2") for a in (1, 2, 3)
    ]
    assert deliverer.queued == 0


async def test_a_permanent_failure_is_not_retried() -> None:
    class Refusing:
        async def send(self, message: Message) -> None:
            raise DeliveryFailed("HTTP 404", permanent=True)

    recorded: list[DeliveryRecord] = []

    async def record(r: DeliveryRecord) -> None:
        recorded.append(r)

    done = asyncio.Event()
    deliverer = Deliverer(NotifySettings(max_attempts=5), Refusing(), record, lambda: AT)
    deliverer.submit(Job(message("live"), done.set))
    async with asyncio.timeout(5):
        await done.wait()
    await deliverer.close()
    assert [(r.attempt, r.outcome) for r in recorded] == [(1, Outcome.GAVE_UP)]


def test_offsets_wait_for_the_slowest_delivery_of_a_partition() -> None:
    offsets = PendingOffsets()
    offsets.add("t", 0, 5, 1)
    offsets.add("t", 0, 6, 0)
    offsets.add("t", 1, 9, 1)
    offsets.finish("t", 1, 9)
    assert offsets.committable() == {("t", 1): 10}
    offsets.forget([("t", 0)])
    offsets.finish("t", 0, 5)  # finished after a rebalance took the partition: ignored
    assert offsets.committable() == {}


def test_the_book_knows_delivered_keys_and_used_links() -> None:
    book = DeliveryBook()
    base = {
        "warning_id": "w1",
        "revision": 2,
        "community_id": "c1",
        "kind": "opened",
        "recipient_id": "live",
        "recipient_name": "Live",
        "channel": "webhook",
        "at": AT,
    }
    book.apply(b"w1", DeliveryRecord(key="k1", outcome="failed", **base).model_dump_json().encode())
    assert book.delivered == set()
    book.add(DeliveryRecord(key="k1", outcome="delivered", attempt=2, **base))
    book.add(DeliveryRecord(key="ack", outcome="acknowledged", **base))
    assert book.delivered == {"k1"} and set(book.acknowledged) == {"w1:2:live"}
    (row,) = book.response("w1")
    assert (row["outcome"], row["attempts"], row["acknowledged_at"]) == ("delivered", 2, AT.isoformat())


def test_each_channel_gets_its_documented_shape() -> None:
    secret = b"s3cret"
    body, headers = http_request(message("live"), secret)
    assert json.loads(body)["ack_url"] == "http://console/ack/t" and SIGNATURE_HEADER in headers
    ding = json.loads(http_request(message("ding"), secret)[0])
    assert set(ding) == {"msgtype", "markdown"} and set(ding["markdown"]) == {"title", "text"}
    wecom = json.loads(http_request(message("wecom"), secret)[0])
    assert wecom["msgtype"] == "markdown" and "(http://console/ack/t)" in wecom["markdown"]["content"]
    feishu = json.loads(http_request(message("feishu"), secret)[0])
    assert feishu["msg_type"] == "text" and "II orange fire" in feishu["content"]["text"]
    assert SIGNATURE_HEADER not in http_request(message("ding"), secret)[1], "robots are not HMAC-signed"
    assert robot_refusal(Channel.WECOM, b'{"errcode": 93000, "errmsg": "invalid webhook url"}')
    assert robot_refusal(Channel.WEBHOOK, b"anything") is None


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("garbage", "not a riskwatch acknowledgement link"),
        ("e30.AAAA", "not issued by riskwatch"),
    ],
)
def test_a_bad_token_is_refused_with_a_reason(token: str, reason: str) -> None:
    with pytest.raises(TokenRefused, match=reason):
        read_token(b"k" * 32, token, AT)


def test_a_token_from_another_key_or_altered_is_refused() -> None:
    token = issue_token(b"k" * 32, AckClaim("w1", 2, "live", AT + timedelta(hours=1)))
    with pytest.raises(TokenRefused, match="not issued"):
        read_token(b"x" * 32, token, AT)
    mac = token.split(".")[1]
    forged = issue_token(b"x" * 32, AckClaim("w1", 2, "mallory", AT + timedelta(hours=1))).split(".")[0]
    with pytest.raises(TokenRefused, match="not issued"):
        read_token(b"k" * 32, f"{forged}.{mac}", AT)
    assert read_token(b"k" * 32, token, AT).purpose == "w1:2:live"
