"""Sending one message over its channel: HTTP POST for webhooks and chat robots, SMTP for e-mail.

Each call is one attempt; it returns when the channel took the message and raises
:class:`DeliveryFailed` otherwise, saying whether trying again can help.
"""

from __future__ import annotations

import asyncio
import smtplib

import aiohttp

from pipeline.notify.messages import Message, email_message, http_request, robot_refusal
from pipeline.notify.roster import Channel
from pipeline.notify.settings import NotifySettings

RETRYABLE_HTTP = frozenset({408, 425, 429})
"""Client errors worth retrying (timeout, too early, too many requests); other 4xx are final."""


class DeliveryFailed(Exception):
    """One attempt failed; ``permanent``: no retry will help (a 4xx, a refused address)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class ChannelTransport:
    """Sends over HTTP (one shared connection pool) and SMTP (stdlib, in a thread)."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        secret = settings.webhook_secret
        self.webhook_secret = secret.get_secret_value().encode() if secret else None
        self._session: aiohttp.ClientSession | None = None

    async def send(self, message: Message) -> None:
        """One attempt to deliver ``message``."""
        if message.recipient.channel is Channel.EMAIL:
            await asyncio.to_thread(self._send_mail, message)
        else:
            await self._post(message)

    async def _post(self, message: Message) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s)
            )
        body, headers = http_request(message, self.webhook_secret)
        try:
            async with self._session.post(message.recipient.address, data=body, headers=headers) as answer:
                content = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}".rstrip(": ")) from None
        if status >= 300:
            permanent = 400 <= status < 500 and status not in RETRYABLE_HTTP
            raise DeliveryFailed(f"HTTP {status}: {content[:200].decode(errors='replace')}", permanent)
        refusal = robot_refusal(message.recipient.channel, content)
        if refusal is not None:
            raise DeliveryFailed(refusal)

    def _send_mail(self, message: Message) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_s) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username and s.smtp_password:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                smtp.send_message(email_message(message, s.smtp_from))
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryFailed(f"SMTP refused the address: {error.recipients}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP {type(error).__name__}: {error}") from None

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._session is not None:
            await self._session.close()
