"""Silences from the console: operators start and end maintenance windows in the browser.

* ``GET /api/silences`` — the silences this worker applies (and the hazards a form offers);
* ``POST /api/silences`` — ``{"community_id", "hazard", "device_id", "minutes", "author",
  "comment"}`` (at least one matcher) starts a silence now, on ``riskwatch.silences``;
* ``DELETE /api/silences/{id}`` — ends it now (a tombstone).

Every worker follows the silences topic whole, so a silence started on one worker's
console applies on all of them once they have read it, as ``riskwatch silence add`` does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import faust
from pydantic import ValidationError

from pipeline.assess.silences import Silence, new_silence_id, silence_problem
from pipeline.clock import Clock
from schemas.hazard import Hazard


def silence_from_request(body: object, now: datetime) -> Silence:
    """The silence a console form asks for, starting at ``now``.

    Raises ``ValueError`` (a ``ValidationError`` among them) saying what is wrong.

    >>> from datetime import UTC
    >>> s = silence_from_request({"community_id": "c1", "minutes": 90, "author": "li.wei",
    ...                           "comment": "pump replacement"}, datetime(2026, 1, 1, tzinfo=UTC))
    >>> (s.community_id, s.ends_at.isoformat())
    ('c1', '2026-01-01T01:30:00+00:00')
    """
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    minutes = body.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= 7 * 24 * 60:
        raise ValueError("minutes must be a number between 0 and one week")
    return Silence.model_validate(
        {
            "silence_id": new_silence_id(),
            "community_id": body.get("community_id") or None,
            "hazard": body.get("hazard") or None,
            "device_id": body.get("device_id") or None,
            "starts_at": now,
            "ends_at": now + timedelta(minutes=minutes),
            "author": body.get("author") or "",
            "comment": body.get("comment") or "",
        }
    )


def _problem(error: ValueError) -> str:
    return silence_problem(error) if isinstance(error, ValidationError) else str(error)


def install_silences(
    app: faust.App,
    active: Callable[[], list[Silence]],
    send: Callable[[str, bytes | None], Awaitable[None]],
    clock: Clock,
) -> None:
    """Register the silence views on ``app``'s web server; ``send(id, value)`` writes to the
    silences topic (``None``: a tombstone)."""

    @app.page("/api/silences")
    class SilencesView(faust.web.View):
        async def get(self, request: Any) -> Any:
            silences = [s.model_dump(mode="json") for s in active()]
            return self.json({"silences": silences, "hazards": [h.value for h in Hazard]})

        async def post(self, request: Any) -> Any:
            try:
                silence = silence_from_request(json.loads(await request.read()), clock.now())
            except ValueError as error:
                return self.json({"error": f"invalid silence: {_problem(error)}"}, status=400)
            await send(silence.silence_id, silence.model_dump_json().encode())
            return self.json({"accepted": silence.model_dump(mode="json")}, status=202)

    @app.page("/api/silences/{silence_id}")
    class SilenceView(faust.web.View):
        async def delete(self, request: Any, silence_id: str) -> Any:
            if not any(s.silence_id == silence_id for s in active()):
                return self.json({"error": f"no active silence {silence_id!r}"}, status=404)
            await send(silence_id, None)
            return self.json({"ended": silence_id}, status=202)
