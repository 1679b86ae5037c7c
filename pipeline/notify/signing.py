"""HMAC signatures: of webhook bodies, and of acknowledgement-link tokens (pure).

A webhook body is signed ``X-Riskwatch-Signature: sha256=<hex HMAC-SHA256 of the
raw body>`` with the shared secret, as GitHub signs its webhooks; the receiver
recomputes it over the bytes it got and compares in constant time.

An acknowledgement token is ``<claims>.<mac>``, both base64url without padding:
the claims (warning id, revision, recipient id, expiry, recipient name) as compact JSON, the MAC
HMAC-SHA256 over the encoded claims with the acknowledgement key. One token
acknowledges one revision of one warning for one recipient, until it expires;
which tokens were used is the caller's to remember (:mod:`pipeline.notify.deliveries`).

>>> key = b"k" * 32
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> token = issue_token(key, AckClaim("w1", 3, "wang", at + timedelta(hours=1)))
>>> read_token(key, token, at).recipient_id
'wang'
>>> read_token(key, token, at + timedelta(hours=2))
Traceback (most recent call last):
...
pipeline.notify.signing.TokenRefused: this link expired at 2026-01-01 01:00:00+00:00
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SIGNATURE_HEADER = "X-Riskwatch-Signature"


def body_signature(secret: bytes, body: bytes) -> str:
    """The ``X-Riskwatch-Signature`` value of ``body``.

    >>> body_signature(b"s", b"{}")[:15]
    'sha256=143ca8d5'
    """
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_matches(secret: bytes, body: bytes, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` (for receivers and tests)."""
    return hmac.compare_digest(body_signature(secret, body), header)


class TokenRefused(ValueError):
    """A token that is malformed, forged or expired; the message says which, for the page."""


@dataclass(frozen=True)
class AckClaim:
    """What a token lets its holder do: acknowledge ``revision`` of ``warning_id`` as ``recipient_id``."""

    warning_id: str
    revision: int
    recipient_id: str
    expires_at: datetime
    recipient_name: str = ""
    """Shown to operators with the acknowledgement (the roster's name when the link was made)."""

    @property
    def purpose(self) -> str:
        """The one thing the token is for: a used one is remembered under this."""
        return f"{self.warning_id}:{self.revision}:{self.recipient_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, claims: str) -> str:
    return _b64(hmac.new(key, claims.encode(), hashlib.sha256).digest())


def issue_token(key: bytes, claim: AckClaim) -> str:
    """The token of ``claim``, for a link ``/ack/<token>``."""
    claims = _b64(
        json.dumps(
            [
                claim.warning_id,
                claim.revision,
                claim.recipient_id,
                int(claim.expires_at.timestamp()),
                claim.recipient_name,
            ],
            separators=(",", ":"),
        ).encode()
    )
    return f"{claims}.{_mac(key, claims)}"


def read_token(key: bytes, token: str, now: datetime) -> AckClaim:
    """The claim of a genuine, unexpired token; raises :class:`TokenRefused` otherwise."""
    claims, _, mac = token.partition(".")
    if not claims or not mac:
        raise TokenRefused("this link is not a riskwatch acknowledgement link")
    if not hmac.compare_digest(_mac(key, claims), mac):
        raise TokenRefused("this link was not issued by riskwatch (its signature does not match)")
    try:
        warning_id, revision, recipient_id, expires, name = json.loads(_unb64(claims))
        claim = AckClaim(
            str(warning_id), int(revision), str(recipient_id), datetime.fromtimestamp(expires, UTC), str(name)
        )
    except (ValueError, TypeError, binascii.Error):
        raise TokenRefused("this link is damaged") from None
    if now >= claim.expires_at:
        raise TokenRefused(f"this link expired at {claim.expires_at}")
    return claim


def expiry(now: datetime, ttl_s: float) -> datetime:
    """When a token issued ``now`` expires."""
    return now + timedelta(seconds=ttl_s)
