"""What each channel is sent for one notification to one recipient (pure).

Chat robots take JSON bodies of their own shapes; each builder cites the public
documentation of the shape it sends. A robot answers HTTP 200 with an error code
in the body when it refuses a message, so :func:`robot_refusal` reads that too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage

from pipeline.assess.episodes import Notification
from pipeline.notify.roster import Channel, RosterEntry
from pipeline.notify.signing import SIGNATURE_HEADER, body_signature


@dataclass(frozen=True)
class Message:
    """One notification for one recipient, with its idempotency key and acknowledgement link."""

    notification: Notification
    recipient: RosterEntry
    key: str
    ack_url: str | None

    @property
    def title(self) -> str:
        """The subject line: tier, hazard, community, what happened."""
        n = self.notification
        return f"[riskwatch] {n.tier.label} {n.hazard.value} in {n.community_id}: {n.kind.value}"

    @property
    def text(self) -> str:
        """The plain-text body every channel carries."""
        n = self.notification
        lines = [n.text or self.title, f"community {n.community_id} · {n.at.isoformat()}"]
        if n.warning_id:
            lines.append(f"warning {n.warning_id} revision {n.revision}")
        if n.devices:
            lines.append("devices: " + ", ".join(n.devices))
        if self.ack_url:
            lines.append(f"Acknowledge: {self.ack_url}")
        return "\n".join(lines)


def webhook_body(message: Message) -> bytes:
    """The generic webhook's JSON: the notification as the worker wrote it, plus who it is for."""
    r = message.recipient
    return json.dumps(
        {
            "idempotency_key": message.key,
            "recipient": {"id": r.id, "name": r.name, "role": r.role.value, "community": r.community},
            "title": message.title,
            "text": message.text,
            "ack_url": message.ack_url,
            "notification": message.notification.model_dump(mode="json"),
        },
        ensure_ascii=False,
    ).encode()


def _markdown(message: Message) -> str:
    link = f"\n\n[Acknowledge]({message.ack_url})" if message.ack_url else ""
    body = message.text.replace("\n", "\n\n").split("\n\nAcknowledge:")[0]
    return f"### {message.title}\n\n{body}{link}"


def wecom_body(message: Message) -> bytes:
    """WeCom group robot, ``msgtype`` markdown (content at most 4096 bytes).

    https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明; the same page as
    https://work.weixin.qq.com/api/doc/90000/90136/91770, where the markdown type is shown)
    """
    return json.dumps(
        {"msgtype": "markdown", "markdown": {"content": _markdown(message)[:1300]}}, ensure_ascii=False
    ).encode()


def dingtalk_body(message: Message) -> bytes:
    """DingTalk custom robot, ``msgtype`` markdown with ``title`` and ``text``.

    https://open.dingtalk.com/document/development/robot-message-type (消息类型和数据格式)
    """
    return json.dumps(
        {"msgtype": "markdown", "markdown": {"title": message.title, "text": _markdown(message)}},
        ensure_ascii=False,
    ).encode()


def feishu_body(message: Message) -> bytes:
    """Feishu custom bot, ``msg_type`` text with ``content.text``.

    https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (自定义机器人使用指南);
    the webhook address form (``open-apis/bot/v2/hook/…``) also in Feishu's help centre,
    https://www.feishu.cn/hc/en-US/articles/360024984973
    """
    return json.dumps(
        {"msg_type": "text", "content": {"text": f"{message.title}\n{message.text}"}}, ensure_ascii=False
    ).encode()


ROBOT_BODIES = {Channel.WECOM: wecom_body, Channel.DINGTALK: dingtalk_body, Channel.FEISHU: feishu_body}


def http_request(message: Message, webhook_secret: bytes | None) -> tuple[bytes, dict[str, str]]:
    """Body and headers of an HTTP channel's POST.

    >>> from datetime import UTC, datetime
    >>> from pipeline.notify.roster import parse_roster
    >>> from schemas.hazard import Hazard, Tier
    >>> n = Notification(kind="opened", community_id="c1", hazard=Hazard.FLOOD, tier=Tier.III, level=0,
    ...                  at=datetime(2026, 1, 1, tzinfo=UTC), warning_id="w1", revision=1)
    >>> (r,) = parse_roster("id,name,community,role,channel,address\\nd,D,c1,police,dingtalk,http://h/\\n")
    >>> body, headers = http_request(Message(n, r, "w1:1:opened:0:d", None), None)
    >>> json.loads(body)["msgtype"], headers["Idempotency-Key"]
    ('markdown', 'w1:1:opened:0:d')
    """
    channel = message.recipient.channel
    body = webhook_body(message) if channel is Channel.WEBHOOK else ROBOT_BODIES[channel](message)
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.key}
    if channel is Channel.WEBHOOK and webhook_secret is not None:
        headers[SIGNATURE_HEADER] = body_signature(webhook_secret, body)
    return body, headers


def robot_refusal(channel: Channel, response_body: bytes) -> str | None:
    """The error a chat robot reported in an HTTP 200 answer, or ``None`` when it took the message.

    WeCom and DingTalk answer ``{"errcode": 0, "errmsg": "ok"}``; Feishu ``{"code": 0, ...}``
    (older bots ``{"StatusCode": 0}``).

    >>> robot_refusal(Channel.DINGTALK, b'{"errcode": 310000, "errmsg": "keywords not in content"}')
    'errcode 310000: keywords not in content'
    >>> robot_refusal(Channel.FEISHU, b'{"code": 0, "msg": "success"}') is None
    True
    """
    if channel not in ROBOT_BODIES:
        return None
    try:
        answer = json.loads(response_body)
    except ValueError:
        return f"unreadable answer: {response_body[:200]!r}"
    if not isinstance(answer, dict):
        return f"unexpected answer: {response_body[:200]!r}"
    for code, text in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        if code in answer:
            return None if answer[code] == 0 else f"{code} {answer[code]}: {answer.get(text, '')}"
    return f"unexpected answer: {response_body[:200]!r}"


def email_message(message: Message, sender: str) -> EmailMessage:
    """The e-mail of a message."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient.address
    mail["Subject"] = message.title
    mail["X-Riskwatch-Idempotency-Key"] = message.key
    mail.set_content(message.text)
    return mail
