"""Frozen baselines on the console: which series hold through a deviation, and accepting a new normal.

* ``GET /api/frozen`` — this worker's series whose baseline is frozen, with how long (their own
  event time) and whether an operator may accept a new normal yet (``rebaseline_after_s``);
* ``POST /api/frozen`` — ``{"series", "operator", "reason"}`` asks for it, on the feedback topic,
  as ``riskwatch rebaseline`` does; the worker owning the series accepts or refuses it.

A worker knows only the series of its own partitions: with several workers, each console
lists its own (the metrics ``riskwatch_series_frozen`` sum them).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import faust
from pydantic import ValidationError

from pipeline.clock import Clock
from schemas.feedback import Rebaseline


def rebaseline_from_request(body: object, now: datetime) -> Rebaseline:
    """The rebaseline a console form asks for; ``ValueError`` (or ``ValidationError``) says what is wrong.

    >>> from datetime import UTC
    >>> r = rebaseline_from_request({"series": "c1/wl-1/water_level", "operator": "li.wei",
    ...                              "reason": "weir raised"}, datetime(2026, 1, 1, tzinfo=UTC))
    >>> r.community_id, r.series
    ('c1', 'c1/wl-1/water_level')
    """
    if not isinstance(body, dict) or not isinstance(body.get("series"), str):
        raise ValueError("the body must be a JSON object naming a series")
    series: str = body["series"]
    return Rebaseline(
        rebaseline_id=uuid.uuid4().hex,
        community_id=series.partition("/")[0],
        series=series,
        operator=body.get("operator") or "",
        reason=body.get("reason") or "",
        time=now,
    )


def frozen_rows(frozen: list[tuple[str, float]], after_s: float) -> list[dict[str, object]]:
    """The console's rows: series, seconds frozen, and whether a new normal may be accepted.

    >>> frozen_rows([("c1/wl-1/water_level", 90_000.0)], 86_400.0)[0]["may_rebaseline"]
    True
    """
    return [{"series": s, "frozen_s": seconds, "may_rebaseline": seconds >= after_s} for s, seconds in frozen]


def install_frozen(
    app: faust.App,
    frozen: Callable[[], list[tuple[str, float]]],
    send: Callable[[Rebaseline], Awaitable[None]],
    clock: Clock,
    after_s: float,
) -> None:
    """Register the frozen-baseline views on ``app``'s web server; ``send`` writes to the feedback topic."""

    @app.page("/api/frozen")
    class FrozenView(faust.web.View):
        async def get(self, request: Any) -> Any:
            return self.json({"series": frozen_rows(frozen(), after_s), "rebaseline_after_s": after_s})

        async def post(self, request: Any) -> Any:
            try:
                rebaseline = rebaseline_from_request(json.loads(await request.read()), clock.now())
            except (ValueError, ValidationError) as error:
                return self.json({"error": f"invalid rebaseline: {error}"}, status=400)
            await send(rebaseline)
            return self.json({"accepted": rebaseline.model_dump(mode="json")}, status=202)
