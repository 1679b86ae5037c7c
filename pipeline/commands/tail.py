"""``riskwatch tail``: follow the warnings topic as readable lines (tier in colour) or JSON lines.

Operators and scripts watch the warning stream without a console::

    riskwatch tail                              # new warnings, as they come
    riskwatch tail --min-tier II --hazard flood # only orange and red floods
    riskwatch tail --from-beginning --json      # the whole audit trail, one JSON object a line

Every revision is shown (the topic is the audit trail), filtered by community,
hazard and minimum tier. Records that are not warnings are reported on stderr and
skipped, so one bad record never stops the tail.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from pydantic import ValidationError

from pipeline.config import Settings
from pipeline.console.warning_lines import warning_line
from schemas.hazard import Hazard, Tier
from schemas.warning import RiskWarning


@dataclass(frozen=True)
class WarningFilter:
    """Which warning revisions to show; an empty set means "any".

    ``min_tier`` is the least serious tier shown: ``Tier.II`` shows II orange and I red.

    >>> example = RiskWarning.model_validate({"warning_id": "w-c1-flood-1", "revision": 1,
    ...     "community_id": "c1", "hazard": "flood", "tier": 2, "status": "active", "change": "opened",
    ...     "opened_at": "2026-01-01T11:59:00Z", "updated_at": "2026-01-01T12:00:05Z", "risk": 0.9,
    ...     "caused_by": "riskwatch/assessment"})
    >>> WarningFilter(communities=frozenset({"c1"}), min_tier=Tier.II).matches(example)
    True
    >>> WarningFilter(min_tier=Tier.I).matches(example)     # the example is II orange
    False
    >>> WarningFilter(hazards=frozenset({Hazard.FIRE})).matches(example)
    False
    """

    communities: frozenset[str] = frozenset()
    hazards: frozenset[Hazard] = frozenset()
    min_tier: Tier = Tier.IV

    def matches(self, warning: RiskWarning) -> bool:
        """True when ``warning`` passes every filter."""
        return (
            (not self.communities or warning.community_id in self.communities)
            and (not self.hazards or warning.hazard in self.hazards)
            and warning.tier.severity >= self.min_tier.severity
        )


def follow(
    records: Iterable[bytes],
    wanted: WarningFilter,
    out: TextIO,
    err: TextIO,
    as_json: bool = False,
    colour: bool = False,
    limit: int | None = None,
) -> int:
    """Write each wanted warning of ``records`` to ``out``; return how many were written.

    >>> example = RiskWarning.model_validate({"warning_id": "w-c1-flood-1", "revision": 1,
    ...     "community_id": "c1", "hazard": "flood", "tier": 2, "status": "active", "change": "opened",
    ...     "opened_at": "2026-01-01T11:59:00Z", "updated_at": "2026-01-01T12:00:05Z", "risk": 0.9,
    ...     "caused_by": "riskwatch/assessment"})
    >>> import io, sys
    >>> err = io.StringIO()
    >>> follow([b"not json", example.model_dump_json().encode()], WarningFilter(), sys.stdout, err)
    12:00:05  opened        II orange   flood           c1           risk 0.900  w-c1-flood-1 r1
    1
    >>> err.getvalue().startswith("riskwatch tail: skipped a record that is not a warning")
    True
    """
    shown = 0
    for value in records:
        try:
            warning = RiskWarning.model_validate_json(value)
        except ValidationError as error:
            count = error.error_count()
            print(
                f"riskwatch tail: skipped a record that is not a warning "
                f"({count} validation error{'s' if count != 1 else ''})",
                file=err,
                flush=True,
            )
            continue
        if not wanted.matches(warning):
            continue
        print(
            warning.model_dump_json() if as_json else warning_line(warning, colour=colour),
            file=out,
            flush=True,
        )
        shown += 1
        if limit is not None and shown >= limit:
            break
    return shown


def _record_values(
    bootstrap_servers: str, topic: str, from_beginning: bool, settings: Settings
) -> Iterable[bytes]:
    """Values of ``topic`` as they arrive, on every partition, without joining a consumer group."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        client_id=f"{settings.app_id}-tail",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        for record in consumer:
            yield record.value
    finally:
        consumer.close()


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Tail until Ctrl-C (or ``--limit`` warnings)."""
    from pipeline.kafka.topics import TopicNames

    bootstrap = args.bootstrap or settings.bootstrap_servers
    if not bootstrap:
        print(
            "riskwatch tail: no Kafka to read from; set RISKWATCH_BOOTSTRAP_SERVERS or pass --bootstrap "
            "(`riskwatch demo` prints the address of its embedded broker)",
            file=sys.stderr,
        )
        return 2
    wanted = WarningFilter(
        communities=frozenset(args.community), hazards=frozenset(args.hazard), min_tier=args.min_tier
    )
    colour = not args.no_colour and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    topic = TopicNames.from_settings(settings).warnings
    with contextlib.suppress(KeyboardInterrupt):
        follow(
            _record_values(bootstrap, topic, args.from_beginning, settings),
            wanted,
            sys.stdout,
            sys.stderr,
            as_json=args.json,
            colour=colour,
            limit=args.limit,
        )
    return 0


def _tier(name: str) -> Tier:
    """``--min-tier`` value: a tier's name."""
    try:
        return Tier[name.upper()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"{name!r} is not a tier; use I, II, III or IV") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tail``."""
    parser = subparsers.add_parser(
        "tail",
        help="follow the warnings topic: readable lines with tier colour, or JSON",
        description="Every warning revision (opened, escalated, acknowledged, resolved, ...) as it arrives.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--community", action="append", default=[], metavar="ID", help="only this community (repeatable)"
    )
    parser.add_argument(
        "--hazard",
        action="append",
        default=[],
        type=Hazard,
        choices=list(Hazard),
        metavar="HAZARD",
        help=f"only this hazard (repeatable): {', '.join(Hazard)}",
    )
    parser.add_argument(
        "--min-tier",
        type=_tier,
        default=Tier.IV,
        metavar="TIER",
        help="least serious tier shown: I (red only), II, III or IV (all, default)",
    )
    parser.add_argument("--from-beginning", action="store_true", help="start at the oldest warning kept")
    parser.add_argument("--bootstrap", help="Kafka host:port,... (default: RISKWATCH_BOOTSTRAP_SERVERS)")
    parser.add_argument("--limit", type=int, default=None, help="stop after this many warnings")
    parser.add_argument("--no-colour", action="store_true", help="plain text even on a terminal")
    parser.set_defaults(run=run)
