"""Warning events as Alertmanager alerts, and the alerts a worker keeps open (pure: no I/O).

One open warning is one firing alert, ``alertname="RiskwatchWarning"``, with labels
``community``, ``district`` (when known), ``hazard``, ``tier`` (``I`` … ``IV``),
``severity`` (CAP: Minor … Extreme), ``warning_id`` and ``team="operations"`` (the label
deploy/alertmanager/alertmanager.yml routes the tier ladder on), and annotations
``summary``, ``description`` (the evidence, as in the CAP alert), ``status``, ``cap_url``
and ``console_url``.

**The tier is a label, on purpose.** Alertmanager identifies an alert by its whole label
set, so a warning whose tier changes becomes a *different* alert. Keeping the tier out of
the labels would keep one alert, but then routing by tier (the tier ladder's receivers,
group and repeat intervals) and the inhibition of lower tiers could not see it, and
Alertmanager would not notify again on an escalation (only annotations would change,
which never triggers a notification). So a tier change *ends* the alert of the old tier
(``endsAt`` now: receivers with ``send_resolved`` hear that it is over) and starts the
alert of the new tier: the receivers of the new tier are paged at once.
:class:`AlertBook` remembers the label set last pushed per warning to know what to end.
``severity`` (the impact) is a label too: a revision that changes the impact but not the
tier also ends one alert and starts another, under the same tier's route.

**Alerts end by themselves.** A firing alert is pushed with ``endsAt`` four re-push
intervals ahead, as Prometheus does with its own alerts; the worker re-pushes every open
warning each interval (:meth:`AlertBook.refresh`). So Alertmanager's ``resolve_timeout``
never decides, and a worker that died, or a resolution that was never delivered, stops
paging after four intervals at most. A resolved or false-alarm warning is pushed once
more with ``endsAt`` now.

Times: ``startsAt`` is the warning's opening (event time), never later than now;
``endsAt`` is the wall clock (what Alertmanager compares it with).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pipeline.assess.cap import cap_description, cap_headline, cap_severity
from pipeline.assess.config import AssessmentConfig
from pipeline.assess.episodes import WarningEvent

ALERT_NAME = "RiskwatchWarning"
TEAM = "operations"
"""The team label of alerts about warnings (``team="platform"`` is riskwatch's own health)."""
LIFETIME_RESENDS = 4
"""A firing alert ends this many re-push intervals after it was last pushed (Prometheus: 4)."""

Identity = tuple[tuple[str, str], ...]
"""An alert's label set, sorted: what Alertmanager deduplicates on (its fingerprint)."""


@dataclass(frozen=True)
class Alert:
    """One alert as Alertmanager's API v2 takes it (``POST /api/v2/alerts``, a list of these).

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> alert = Alert({"alertname": "X", "a": "1"}, {"summary": "s"}, at, at, "http://w/api/warnings/1")
    >>> alert.identity
    (('a', '1'), ('alertname', 'X'))
    >>> alert.payload()["startsAt"]
    '2026-01-01T12:00:00Z'
    """

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    generator_url: str

    @property
    def identity(self) -> Identity:
        """The label set, sorted."""
        return tuple(sorted(self.labels.items()))

    def ended(self, at: datetime) -> Alert:
        """This alert ending at ``at`` (never before it started)."""
        return replace(self, ends_at=max(at, self.starts_at))

    def payload(self) -> dict[str, object]:
        """The JSON object of Alertmanager's ``postableAlert``."""
        return {
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": _rfc3339(self.starts_at),
            "endsAt": _rfc3339(self.ends_at),
            "generatorURL": self.generator_url,
        }


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class AlertLinks:
    """Links from an alert back to the worker, under ``base_url`` (e.g. ``http://worker-1:6066``)."""

    base_url: str

    def console(self) -> str:
        """The live console, where operators acknowledge and resolve."""
        return f"{self.base_url}/console"

    def cap(self, warning_id: str) -> str:
        """The warning's latest revision as a CAP 1.2 alert."""
        return f"{self.base_url}/api/cap/{warning_id}"

    def record(self, warning_id: str) -> str:
        """The warning's record (its ``generatorURL``: the entity that caused the alert)."""
        return f"{self.base_url}/api/warnings/{warning_id}"


def alert_labels(config: AssessmentConfig, event: WarningEvent) -> dict[str, str]:
    """The labels of ``event``'s warning: what routes it and what identifies it."""
    warning = event.warning
    district = event.district_id or (
        warning.community_id if event.scope == "district" else config.district_of(warning.community_id)
    )
    labels = {
        "alertname": ALERT_NAME,
        "team": TEAM,
        "community": warning.community_id,
        "hazard": warning.hazard.value,
        "tier": warning.tier.name,
        "severity": cap_severity(event),
        "warning_id": warning.warning_id,
    }
    if district:
        labels["district"] = district
    return labels


class AlertBook:
    """The alert last pushed for each open warning of this worker.

    ``lifetime`` is how long a firing alert lasts without being pushed again (four
    re-push intervals, :data:`LIFETIME_RESENDS`).
    """

    def __init__(self, config: AssessmentConfig, links: AlertLinks, lifetime: timedelta) -> None:
        self._config = config
        self._links = links
        self._lifetime = lifetime
        self._open: dict[str, Alert] = {}
        """warning id -> its firing alert as last pushed."""

    def __len__(self) -> int:
        return len(self._open)

    def alert_of(self, event: WarningEvent, now: datetime) -> Alert:
        """``event``'s warning as a firing alert, lasting :attr:`lifetime` from ``now``."""
        warning = event.warning
        return Alert(
            labels=alert_labels(self._config, event),
            annotations={
                "summary": cap_headline(self._config, event),
                "description": cap_description(event),
                "status": warning.status.value,
                "cap_url": self._links.cap(warning.warning_id),
                "console_url": self._links.console(),
            },
            starts_at=min(warning.opened_at, now),
            ends_at=now + self._lifetime,
            generator_url=self._links.record(warning.warning_id),
        )

    def revise(self, event: WarningEvent, now: datetime) -> list[Alert]:
        """The alerts to push for a new revision: the old tier's alert ended if the labels changed,
        then the warning's alert, firing while the warning is open, ended when it closed."""
        alert = self.alert_of(event, now)
        pushes = _ended_if_relabelled(self._open.get(event.warning.warning_id), alert, now)
        self._remember(event, alert)
        pushes.append(alert if event.warning.is_open else alert.ended(now))
        return pushes

    def replayed(self, event: WarningEvent, now: datetime) -> None:
        """A revision re-derived after a crash that is already on the warnings topic: the worker
        before pushed its alert, so remember it (a later tier change must end it) and push nothing."""
        self._remember(event, self.alert_of(event, now))

    def _remember(self, event: WarningEvent, alert: Alert) -> None:
        if event.warning.is_open:
            self._open[event.warning.warning_id] = alert
        else:
            self._open.pop(event.warning.warning_id, None)

    def refresh(self, open_warnings: Iterable[WarningEvent], now: datetime) -> list[Alert]:
        """Every open warning's alert again, with a new ``endsAt``.

        ``open_warnings`` is what this worker owns now: a warning whose partition moved to
        another worker is forgotten here without being ended (its new owner pushes it).
        """
        before, self._open = self._open, {}
        pushes: list[Alert] = []
        for event in open_warnings:
            alert = self.alert_of(event, now)
            pushes.extend(_ended_if_relabelled(before.get(event.warning.warning_id), alert, now))
            self._open[event.warning.warning_id] = alert
            pushes.append(alert)
        return pushes


def _ended_if_relabelled(previous: Alert | None, alert: Alert, now: datetime) -> list[Alert]:
    """``previous`` ended now when ``alert`` replaces it under other labels (a tier change)."""
    if previous is not None and previous.identity != alert.identity:
        return [previous.ended(now)]
    return []
