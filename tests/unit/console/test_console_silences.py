"""A console form becomes a silence, or a clear reason why not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.console.silences_web import silence_from_request
from schemas.hazard import Hazard

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
FORM = {"hazard": "flood", "minutes": 45, "author": "li.wei", "comment": "pump replacement"}


def test_a_form_starts_a_silence_now_for_its_minutes() -> None:
    silence = silence_from_request({**FORM, "community_id": "c1", "device_id": ""}, NOW)
    assert (silence.community_id, silence.hazard, silence.device_id) == ("c1", Hazard.FLOOD, None)
    assert (silence.starts_at, silence.ends_at) == (NOW, NOW + timedelta(minutes=45))
    assert silence.silence_id.startswith("silence-")
    assert silence.silence_id != silence_from_request(FORM, NOW).silence_id


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "JSON object"),
        ({**FORM, "minutes": 0}, "minutes"),
        ({**FORM, "minutes": True}, "minutes"),
        ({**FORM, "minutes": "45"}, "minutes"),
        ({**FORM, "minutes": 8 * 24 * 60}, "minutes"),
        ({**FORM, "hazard": ""}, "at least one of community, hazard, device"),
        ({**FORM, "hazard": "tsunami"}, "hazard"),
        ({**FORM, "comment": " "}, "author and a comment"),
    ],
)
def test_a_bad_form_is_refused_with_the_reason(body: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        silence_from_request(body, NOW)
