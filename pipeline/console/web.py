"""The console's web views on the worker's own web server (no build step, no extra server).

* ``GET /console`` — the page;
* ``GET /api/warnings`` — open warnings, most serious first;
* ``GET /api/warnings/{id}`` — one warning's revisions;
* ``GET /api/stream`` — server-sent events: a ``snapshot``, then every newer revision;
* ``POST /api/warnings/{id}/feedback`` — ``{"action", "operator", "comment"}`` → ``riskwatch.feedback``;
* ``GET /api/cap`` — the open warnings as a CAP feed index (links), for residents' apps;
* ``GET /api/cap/{id}`` — the latest revision of a warning as a CAP 1.2 alert.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

import faust
from aiohttp import web as aiohttp_web
from pydantic import ValidationError

from pipeline.assess.cap import render_cap
from pipeline.assess.config import AssessmentConfig
from pipeline.assess.episodes import WarningEvent
from pipeline.clock import Clock
from pipeline.console.feed import BoardFeed
from schemas.feedback import Feedback
from schemas.warning import RiskWarning

KEEP_ALIVE_S = 15.0


def server_sent_event(event: str, data: Any) -> bytes:
    """One SSE frame.

    >>> server_sent_event("warning", {"a": 1})
    b'event: warning\\ndata: {"a": 1}\\n\\n'
    """
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _as_json(warnings: list[RiskWarning]) -> list[dict[str, Any]]:
    return [w.model_dump(mode="json") for w in warnings]


def cap_alert(config: AssessmentConfig, history: list[RiskWarning]) -> str:
    """CAP 1.2 XML of the latest of ``history`` (a warning's revisions, oldest first), whose
    ``references`` name the earlier revisions."""
    latest = history[-1]
    event = WarningEvent(
        warning=latest,
        covers=(latest.community_id,),
        earlier_sent=tuple(w.updated_at for w in history[:-1]),
    )
    return render_cap(config, event, expires_after=config.episodes.repeat_after(latest.tier))


def install_console(
    app: faust.App,
    feed: BoardFeed,
    send_feedback: Callable[[Feedback], Awaitable[None]],
    clock: Clock,
    assessment: AssessmentConfig,
) -> None:
    """Register the console's views on ``app``'s web server."""
    page = files("pipeline.console").joinpath("static/console.html").read_bytes()

    @app.page("/console")
    async def console_page(web: Any, request: Any) -> Any:
        return web.bytes(page, headers={"Content-Type": "text/html; charset=utf-8"})

    @app.page("/api/warnings")
    async def open_warnings(web: Any, request: Any) -> Any:
        return web.json({"warnings": _as_json(feed.board.open())})

    @app.page("/api/warnings/{warning_id}")
    async def warning_history(web: Any, request: Any, warning_id: str) -> Any:
        history = feed.board.history(warning_id)
        if not history:
            return web.json({"error": f"no warning {warning_id!r}"}, status=404)
        return web.json({"revisions": _as_json(history)})

    @app.page("/api/stream")
    async def stream(web: Any, request: Any) -> Any:
        response = aiohttp_web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue = feed.subscribe()
        try:
            await response.write(server_sent_event("snapshot", _as_json(feed.board.open())))
            closing = asyncio.ensure_future(feed.closed.wait())
            while not feed.closed.is_set():
                news = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {news, closing}, timeout=KEEP_ALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if news not in done:
                    news.cancel()
                    await response.write(b": keep-alive\n\n")
                    continue
                await response.write(server_sent_event("warning", news.result().model_dump(mode="json")))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            closing.cancel()
            feed.unsubscribe(queue)
        return response

    @app.page("/api/cap")
    async def cap_feed(web: Any, request: Any) -> Any:
        alerts = [
            {
                "warning_id": w.warning_id,
                "tier": w.tier.label,
                "hazard": w.hazard.value,
                "community_id": w.community_id,
                "updated_at": w.updated_at.isoformat(),
                "cap": f"/api/cap/{w.warning_id}",
            }
            for w in feed.board.open()
        ]
        return web.json({"alerts": alerts})

    @app.page("/api/cap/{warning_id}")
    async def cap_view(web: Any, request: Any, warning_id: str) -> Any:
        history = feed.board.history(warning_id)
        if not history:
            return web.json({"error": f"no warning {warning_id!r}"}, status=404)
        xml = cap_alert(assessment, history).encode()
        return web.bytes(xml, headers={"Content-Type": "application/cap+xml; charset=utf-8"})

    @app.page("/api/warnings/{warning_id}/feedback")
    class FeedbackView(faust.web.View):
        async def post(self, request: Any, warning_id: str) -> Any:
            warning = feed.board.get(warning_id)
            if warning is None:
                return self.json({"error": f"no warning {warning_id!r}"}, status=404)
            try:
                body = json.loads(await request.read())
                feedback = Feedback(
                    feedback_id=uuid.uuid4().hex,
                    warning_id=warning_id,
                    community_id=warning.community_id,
                    action=body.get("action"),
                    operator=body.get("operator"),
                    comment=body.get("comment") or None,
                    time=clock.now(),
                )
            except (ValueError, AttributeError, ValidationError) as error:
                return self.json({"error": f"invalid feedback: {error}"}, status=400)
            await send_feedback(feedback)
            return self.json({"accepted": feedback.model_dump(mode="json")}, status=202)
