"""Responders' side of the console: acknowledgement by link, and who was told of each warning.

* ``GET /ack/{token}`` — the warning the link is about, and a button to confirm;
* ``POST /ack/{token}`` — acknowledges it through ``riskwatch.feedback``, exactly as the
  console's button and ``riskwatch ack`` do, and records the answer on ``riskwatch.deliveries``;
* ``GET /api/warnings/{id}/response`` — per recipient: channel, outcome, attempts, acknowledgement.

Tokens are signed by ``riskwatch notify`` (:mod:`pipeline.notify.signing`) with the key of
:func:`pipeline.state.state_key.ack_link_key`. A forged, damaged or expired token, or one already
used (its acknowledgement is on ``riskwatch.deliveries``, which every worker follows whole), is
refused with a page that says which.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from pipeline.clock import Clock
from pipeline.console.board import WarningBoard
from pipeline.notify.deliveries import DeliveryBook, DeliveryRecord, Outcome
from pipeline.notify.signing import AckClaim, TokenRefused, read_token
from schemas.feedback import Feedback, FeedbackAction
from schemas.warning import RiskWarning


def page(title: str, body: str) -> str:
    """A small self-contained HTML page (phones open these links).

    >>> "<h1>Done</h1>" in page("Done", "<p>ok</p>")
    True
    """
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:36em;"
        "margin:2em auto;padding:0 1em}button{font-size:1.3em;padding:.5em 1.2em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def warning_summary(warning: RiskWarning, claim: AckClaim) -> str:
    """What the recipient is asked to acknowledge."""
    return (
        f"<p><strong>{html.escape(warning.tier.label)} {html.escape(warning.hazard.value)}</strong> warning "
        f"in community <strong>{html.escape(warning.community_id)}</strong>, now "
        f"{html.escape(warning.status.value)} (revision {warning.revision}; this link is for revision "
        f"{claim.revision}).</p><p>Opened {warning.opened_at:%Y-%m-%d %H:%M:%S %Z}; risk {warning.risk:.2f}. "
        f"Warning <code>{html.escape(warning.warning_id)}</code>, for "
        f"<code>{html.escape(claim.recipient_id)}</code>.</p>"
    )


def install_response(
    app: faust.App,
    board: WarningBoard,
    book: DeliveryBook,
    key: bytes,
    send_feedback: Callable[[Feedback], Awaitable[None]],
    record: Callable[[DeliveryRecord], Awaitable[None]],
    clock: Clock,
) -> None:
    """Register the acknowledgement link and the response view on ``app``'s web server;
    ``record`` writes to ``riskwatch.deliveries`` (and ``book`` learns it from there)."""
    used: dict[str, DeliveryRecord] = {}
    """Acknowledgements sent from here, before the follower reads them back."""

    def check(view: faust.web.View, token: str) -> tuple[AckClaim, RiskWarning] | Any:
        try:
            claim = read_token(key, token, clock.now())
        except TokenRefused as refused:
            return view.html(page("Link refused", f"<p>{html.escape(str(refused))}.</p>"), status=403)
        earlier = book.acknowledged.get(claim.purpose) or used.get(claim.purpose)
        if earlier is not None:
            said = f"This link was already used: acknowledged at {earlier.at:%Y-%m-%d %H:%M:%S %Z}."
            return view.html(page("Link already used", f"<p>{html.escape(said)}</p>"), status=409)
        warning = board.get(claim.warning_id)
        if warning is None:
            text = "<p>This worker does not know the warning (yet). Try again in a few seconds.</p>"
            return view.html(page("Warning not found", text), status=404)
        if not warning.is_open:
            text = f"<p>The warning is already {html.escape(warning.status.value)}: nothing to do.</p>"
            return view.html(page("Warning closed", text + warning_summary(warning, claim)), status=409)
        return claim, warning

    @app.page("/ack/{token}")
    class AckView(faust.web.View):
        async def get(self, request: Any, token: str) -> Any:
            checked = check(self, token)
            if not isinstance(checked, tuple):
                return checked
            claim, warning = checked
            form = (
                f'<form method="post" action="/ack/{html.escape(token)}">'
                '<button type="submit" id="confirm">Confirm: I have seen it and act</button></form>'
            )
            return self.html(page("Acknowledge warning", warning_summary(warning, claim) + form))

        async def post(self, request: Any, token: str) -> Any:
            checked = check(self, token)
            if not isinstance(checked, tuple):
                return checked
            claim, warning = checked
            now = clock.now()
            earlier = book.by_warning.get(claim.warning_id, [])
            told = next((r for r in earlier if r.recipient_id == claim.recipient_id), None)
            answer = DeliveryRecord(
                key=f"ack:{claim.purpose}",
                warning_id=claim.warning_id,
                revision=claim.revision,
                community_id=warning.community_id,
                kind="acknowledged",
                recipient_id=claim.recipient_id,
                recipient_name=claim.recipient_name or claim.recipient_id,
                channel=told.channel if told else None,
                outcome=Outcome.ACKNOWLEDGED,
                at=now,
            )
            used[claim.purpose] = answer
            await send_feedback(
                Feedback(
                    feedback_id=uuid.uuid4().hex,
                    warning_id=claim.warning_id,
                    community_id=warning.community_id,
                    action=FeedbackAction.ACKNOWLEDGE,
                    operator=f"{answer.recipient_name} (link)",
                    comment=f"acknowledged by link for revision {claim.revision}",
                    time=now,
                )
            )
            await record(answer)
            done = f"<p>Thank you: your acknowledgement was sent at {now:%H:%M:%S %Z}.</p>"
            return self.html(page("Acknowledged", done + warning_summary(warning, claim)))

    @app.page("/api/warnings/{warning_id}/response")
    async def response(web: Any, request: Any, warning_id: str) -> Any:
        return web.json({"warning_id": warning_id, "response": book.response(warning_id)})
