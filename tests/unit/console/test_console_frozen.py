"""The console's frozen baselines: its rows, and a rebaseline asked from a form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from pipeline.console.frozen_web import frozen_rows, rebaseline_from_request

NOW = datetime(2026, 8, 1, tzinfo=UTC)


def test_a_series_may_be_rebaselined_once_frozen_for_the_configured_time() -> None:
    rows = frozen_rows([("c1/wl-1/water_level", 90_000.0), ("c1/wl-2/water_level", 3_600.0)], 86_400.0)
    assert [(r["series"], r["may_rebaseline"]) for r in rows] == [
        ("c1/wl-1/water_level", True),
        ("c1/wl-2/water_level", False),
    ]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"operator": "li.wei", "reason": "weir raised"},
        {"series": "c1/wl-1/water_level", "operator": "li.wei", "reason": ""},
        {"series": "c1 wl-1", "operator": "li.wei", "reason": "weir raised"},
    ],
    ids=["not an object", "no series", "no reason", "not a series key"],
)
def test_a_form_without_a_series_or_a_reason_is_refused(body: object) -> None:
    with pytest.raises((ValueError, ValidationError)):
        rebaseline_from_request(body, NOW)


def test_a_form_becomes_a_rebaseline_of_its_series_community() -> None:
    asked = {"series": "c7/wl-1/water_level", "operator": "li.wei", "reason": "weir raised"}
    request = rebaseline_from_request(asked, NOW)
    assert (request.community_id, request.operator, request.reason, request.time) == (
        "c7",
        "li.wei",
        "weir raised",
        NOW,
    )
