"""CAP 1.2 rendering of warning events, and the CAP rules the XML schema does not enforce.

Every :class:`~pipeline.assess.episodes.WarningEvent` becomes one CAP alert:

* ``msgType`` **Alert** for the opening revision, **Update** for every later
  change, **Cancel** when the warning is resolved or marked a false alarm;
  Update and Cancel carry ``references`` to every earlier message of the
  episode (``sender,identifier,sent`` triples), and ``incidents`` is the
  warning id, so a client groups the messages of one episode;
* the two axes the tier came from, as CAP 1.2 §3.2.2 keeps them apart:
  ``severity`` from the **impact** (minor → Minor … extreme → Extreme; a
  district roll-up, which has no impact of its own, from its tier),
  ``certainty`` from the **likelihood** (a live limit exceedance, or a risk at
  tier I's near-certain threshold, is Observed; a risk above 0.5 Likely, CAP's
  "p > ~50 %"; else Possible; a false alarm Unlikely), ``urgency`` from the
  **trend and onset** (a live limit exceedance or a rising trend is Immediate,
  otherwise Expected; a cancelled warning Past);
* the tier stays the level: ``parameter`` ``CN_WARNING_LEVEL`` = ``III;yellow``,
  beside ``RISKWATCH_IMPACT`` and ``RISKWATCH_TIER_SET_BY``;
* ``area``: the community's (or district's) description and geocode.

Times are written as CAP 1.2 §3.3.2 asks: seconds, no fraction, a numeric
offset, UTC as ``-00:00``.

>>> from datetime import UTC, datetime
>>> cap_time(datetime(2026, 1, 1, 12, 0, 5, 250000, tzinfo=UTC))
'2026-01-01T12:00:05-00:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from pipeline.assess.config import Area, AssessmentConfig
from pipeline.assess.episodes import WarningEvent
from schemas.hazard import Hazard, Impact, Tier
from schemas.warning import RiskWarning, WarningChange

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
LEVEL_PARAMETER = "CN_WARNING_LEVEL"

SEVERITY: dict[Impact, str] = {
    Impact.MINOR: "Minor",
    Impact.MODERATE: "Moderate",
    Impact.SEVERE: "Severe",
    Impact.EXTREME: "Extreme",
}
"""CAP ``severity`` of each impact step (CAP 1.2 §3.2.2: the four severities name the same harms)."""

CATEGORY: dict[Hazard, str] = {
    Hazard.FLOOD: "Met",
    Hazard.FIRE: "Fire",
    Hazard.GAS_LEAK: "CBRNE",
    Hazard.AIR_POLLUTION: "Env",
    Hazard.STRUCTURAL: "Safety",
    Hazard.POWER_OUTAGE: "Infra",
    Hazard.PUBLIC_SECURITY: "Security",
    Hazard.PUBLIC_HEALTH: "Health",
    Hazard.DEVICE_FAULT: "Infra",
    Hazard.OTHER: "Other",
}
"""CAP ``category`` of each hazard (CAP 1.2 §3.2.2)."""

_CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
_FORBIDDEN = re.compile(r"[\s,<&]")


def cap_time(moment: datetime) -> str:
    """A CAP dateTime: whole seconds, numeric offset, UTC written ``-00:00``."""
    utc = moment.astimezone(UTC).replace(microsecond=0)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def cap_identifier(warning: RiskWarning) -> str:
    """The CAP identifier of one revision: ``<warning id>.r<revision>`` (no spaces, commas, ``<``, ``&``)."""
    return f"{warning.warning_id}.r{warning.revision}"


def _msg_type(change: WarningChange) -> str:
    if change is WarningChange.OPENED:
        return "Alert"
    if change in (WarningChange.RESOLVED, WarningChange.FALSE_ALARM):
        return "Cancel"
    return "Update"


def _urgency_certainty(config: AssessmentConfig, event: WarningEvent) -> tuple[str, str]:
    warning = event.warning
    if warning.change is WarningChange.FALSE_ALARM:
        return "Past", "Unlikely"
    if event.basis == "limit" or warning.risk >= config.tiers.enter_of(Tier.I):
        certainty = "Observed"
    else:
        certainty = "Likely" if warning.risk > 0.5 else "Possible"
    if warning.change is WarningChange.RESOLVED:
        return "Past", certainty
    return ("Immediate" if event.basis == "limit" or event.trend == "rising" else "Expected"), certainty


def _impact(event: WarningEvent) -> Impact:
    return event.warning.impact or Impact.of(event.warning.tier)


def cap_severity(event: WarningEvent) -> str:
    """CAP ``severity`` of the event: its impact (a district roll-up's from its tier)."""
    return SEVERITY[_impact(event)]


def cap_headline(config: AssessmentConfig, event: WarningEvent) -> str:
    """One line for people: ``'II orange flood warning: Riverside'``."""
    warning = event.warning
    area_name = config.area_of(warning.community_id).description
    return f"{warning.tier.label} {warning.hazard.value.replace('_', ' ')} warning: {area_name}"


def _response(warning: RiskWarning) -> str:
    if warning.change in (WarningChange.RESOLVED, WarningChange.FALSE_ALARM):
        return "AllClear"
    return {Tier.IV: "Monitor", Tier.III: "Prepare", Tier.II: "Prepare", Tier.I: "Execute"}[warning.tier]


def _sub(parent: ElementTree.Element, tag: str, text: str | None = None) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _pair(parent: ElementTree.Element, tag: str, name: str, value: str) -> None:
    pair = _sub(parent, tag)
    _sub(pair, "valueName", name)
    _sub(pair, "value", value)


def cap_description(event: WarningEvent) -> str:
    """What changed, on which axes, and the evidence (at most ten items): CAP ``description``."""
    warning = event.warning
    lines = [
        f"{warning.change.value.replace('_', ' ')} by {warning.caused_by}; likelihood (fused risk) "
        f"{warning.risk:.3f}, impact {_impact(event).value}, trend {event.trend}"
        f"{f'; the tier is set by {warning.tier_set_by}' if warning.tier_set_by else ''}"
        f"{' (flapping: tier held)' if event.flapping else ''}."
    ]
    if event.witnesses:
        lines.append(f"Independent sources: {', '.join(event.witnesses)}.")
    if warning.comment:
        lines.append(f"Comment: {warning.comment}")
    if event.linked_warning_ids:
        lines.append(f"Rolls up community warnings: {' '.join(event.linked_warning_ids)}")
    for evidence in warning.evidence[:10]:
        shown = "" if evidence.value is None else f" value {evidence.value:g}"
        expected = "" if evidence.expected is None else f" (expected {evidence.expected:g})"
        report = f" report {evidence.report_id}" if evidence.report_id else ""
        lines.append(
            f"- {evidence.source} {evidence.series}{report}{shown}{expected} score {evidence.score:.3f} "
            f"at {cap_time(evidence.observed_at)} [{evidence.model}]"
        )
    return "\n".join(lines)


def _areas(config: AssessmentConfig, event: WarningEvent) -> list[Area]:
    own = config.area_of(event.warning.community_id)
    if event.scope == "community":
        return [own]
    return [own, *(config.area_of(c) for c in event.covers)]


def render_cap(config: AssessmentConfig, event: WarningEvent, expires_after: timedelta | None = None) -> str:
    """The CAP 1.2 alert XML of one warning event.

    ``expires_after`` (from the revision's time) sets ``info/expires``, e.g. the
    tier's repeat interval for a feed that must drop stale alerts.
    """
    warning = event.warning
    ElementTree.register_namespace("", CAP_NAMESPACE)
    alert = ElementTree.Element(f"{{{CAP_NAMESPACE}}}alert")
    _sub(alert, "identifier", cap_identifier(warning))
    _sub(alert, "sender", config.cap_sender)
    _sub(alert, "sent", cap_time(warning.updated_at))
    _sub(alert, "status", "Actual")
    msg_type = _msg_type(warning.change)
    _sub(alert, "msgType", msg_type)
    _sub(alert, "scope", "Public")
    if msg_type != "Alert":
        references = " ".join(
            f"{config.cap_sender},{warning.warning_id}.r{revision},{cap_time(sent)}"
            for revision, sent in enumerate(event.earlier_sent, start=1)
        )
        _sub(alert, "references", references)
    _sub(alert, "incidents", warning.warning_id)
    info = _sub(alert, "info")
    _sub(info, "category", CATEGORY[warning.hazard])
    hazard_name = warning.hazard.value.replace("_", " ")
    _sub(info, "event", hazard_name)
    _sub(info, "responseType", _response(warning))
    urgency, certainty = _urgency_certainty(config, event)
    _sub(info, "urgency", urgency)
    _sub(info, "severity", cap_severity(event))
    _sub(info, "certainty", certainty)
    if expires_after is not None:
        _sub(info, "expires", cap_time(warning.updated_at + expires_after))
    _sub(info, "senderName", "riskwatch assessment")
    _sub(info, "headline", cap_headline(config, event))
    _sub(info, "description", cap_description(event))
    _pair(info, "parameter", LEVEL_PARAMETER, f"{warning.tier.name};{warning.tier.colour}")
    _pair(info, "parameter", "RISKWATCH_STATUS", warning.status.value)
    _pair(info, "parameter", "RISKWATCH_RISK", f"{warning.risk:.3f}")
    _pair(info, "parameter", "RISKWATCH_IMPACT", _impact(event).value)
    if warning.tier_set_by:
        _pair(info, "parameter", "RISKWATCH_TIER_SET_BY", warning.tier_set_by)
    for area in _areas(config, event):
        area_element = _sub(info, "area")
        _sub(area_element, "areaDesc", area.description)
        if area.geocode:
            _pair(area_element, "geocode", config.geocode_name, area.geocode)
    body = ElementTree.tostring(alert, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def cap_rule_problems(xml: str) -> list[str]:
    """CAP 1.2 rules the XSD does not check; an empty list means the alert follows them.

    Checked: every dateTime has whole seconds and a numeric offset; identifier
    and sender contain no whitespace, comma, ``<`` or ``&``; ``references`` is a
    space-separated list of ``sender,identifier,sent`` triples obeying the same
    rules; Update and Cancel messages reference something.
    """
    ns = {"cap": CAP_NAMESPACE}
    root = ElementTree.fromstring(xml)
    problems: list[str] = []
    for tag in ("sent", "info/cap:effective", "info/cap:onset", "info/cap:expires"):
        for element in root.findall(f"cap:{tag}", ns):
            if not _CAP_TIME.match(element.text or ""):
                problems.append(f"{tag} {element.text!r} is not YYYY-MM-DDThh:mm:ss±hh:mm")
    for tag in ("identifier", "sender"):
        text = root.findtext(f"cap:{tag}", default="", namespaces=ns)
        if not text or _FORBIDDEN.search(text):
            problems.append(f"{tag} {text!r} is empty or has a space, comma, '<' or '&'")
    references = root.findtext("cap:references", default=None, namespaces=ns)
    if root.findtext("cap:msgType", namespaces=ns) in ("Update", "Cancel") and not references:
        problems.append("an Update or Cancel must reference the messages it updates")
    for triple in references.split(" ") if references else []:
        parts = triple.split(",")
        if len(parts) != 3 or any(not p or re.search(r"[\s<&]", p) for p in parts):
            problems.append(f"reference {triple!r} is not sender,identifier,sent")
        elif not _CAP_TIME.match(parts[2]):
            problems.append(f"reference {triple!r} has a malformed sent time")
    return problems
