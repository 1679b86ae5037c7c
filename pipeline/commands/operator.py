"""Operator actions from the command line: ``riskwatch ack|resolve|false-alarm ID``, ``review ID``,
``rebaseline SERIES``.

The actions go to the feedback topic like the console's buttons; the worker that
owns the warning's community applies them and records the change on the warnings
topic. ``review`` prints an episode's timeline for the post-incident review, and who was
notified of it, how, and who acknowledged (from ``riskwatch.deliveries``).
``rebaseline`` asks the worker owning a series to accept its readings as a new
normal; the worker refuses unless the series' baseline has been frozen for
``rebaseline_after_s`` (its log says why), and records an accepted one on every
open warning resting on the series.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import ValidationError

from pipeline.config import Settings
from schemas.feedback import Feedback, FeedbackAction, OperatorAction, Rebaseline
from schemas.warning import RiskWarning

ACTIONS = {
    "ack": FeedbackAction.ACKNOWLEDGE,
    "resolve": FeedbackAction.RESOLVE,
    "false-alarm": FeedbackAction.FALSE_ALARM,
}


def revisions_of(settings: Settings, bootstrap: str, warning_id: str) -> list[RiskWarning]:
    """Every revision of ``warning_id`` on the warnings topic, oldest first (duplicates dropped)."""
    from pipeline.kafka.state_store import read_to_end
    from pipeline.kafka.topics import TopicNames

    found: dict[int, RiskWarning] = {}
    topic = TopicNames.from_settings(settings).warnings
    for record in asyncio.run(read_to_end(bootstrap, topic, security=settings.kafka)):
        try:
            warning = RiskWarning.model_validate_json(record.value or b"")
        except ValidationError:
            continue
        if warning.warning_id == warning_id:
            found[warning.revision] = warning
    return [found[r] for r in sorted(found)]


def bootstrap_of(settings: Settings) -> str:
    if settings.bootstrap_servers is None:
        raise SystemExit("riskwatch: set RISKWATCH_BOOTSTRAP_SERVERS to the broker the workers use")
    return settings.bootstrap_servers


def send_keyed(settings: Settings, topic: str, records: Iterable[tuple[str, bytes | None]]) -> None:
    """Send ``(key, value)`` records to ``topic`` (``None`` value: a tombstone) and wait until the
    broker has taken every one; the operator commands that write compacted topics use this."""
    from kafka import KafkaProducer

    from pipeline.ingress.publish import deliver_keyed

    producer = KafkaProducer(bootstrap_servers=bootstrap_of(settings), **settings.kafka.kafka_python_kwargs())
    try:
        deliver_keyed(producer, topic, records)
    finally:
        producer.close()


def run_action(settings: Settings, args: argparse.Namespace) -> int:
    """Send one operator action for a warning."""

    bootstrap = bootstrap_of(settings)
    revisions = revisions_of(settings, bootstrap, args.warning_id)
    if not revisions:
        print(f"riskwatch: no warning {args.warning_id} on the warnings topic", file=sys.stderr)
        return 1
    latest = revisions[-1]
    feedback = Feedback(
        feedback_id=uuid.uuid4().hex,
        warning_id=latest.warning_id,
        community_id=latest.community_id,
        action=ACTIONS[args.command],
        operator=args.operator,
        comment=args.comment,
        time=datetime.now(UTC),
    )
    send_action(settings, bootstrap, feedback)
    print(
        f"sent {feedback.action.value} for {latest.warning_id}: {latest.tier.label} {latest.hazard.value} "
        f"in {latest.community_id} (now {latest.status.value})"
    )
    return 0


def send_action(settings: Settings, bootstrap: str, action: OperatorAction) -> None:
    """Send one operator action to the feedback topic, keyed by its community."""
    from kafka import KafkaProducer

    from pipeline.kafka.topics import TopicNames

    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        producer.send(
            TopicNames.from_settings(settings).feedback,
            key=action.community_id.encode(),
            value=action.model_dump_json().encode(),
        ).get(timeout=10)
    finally:
        producer.close()


def rebaseline_request(series: str, operator: str, reason: str) -> Rebaseline:
    """The request to accept ``series``' new normal (``community/device/sensor_type``).

    >>> rebaseline_request("c1/wl-1/water_level", "wang.fang", "levee raised").community_id
    'c1'
    """
    return Rebaseline(
        rebaseline_id=uuid.uuid4().hex,
        community_id=series.partition("/")[0],
        series=series,
        operator=operator,
        reason=reason,
        time=datetime.now(UTC),
    )


def run_rebaseline(settings: Settings, args: argparse.Namespace) -> int:
    """Ask the series' worker to accept its new normal."""
    try:
        request = rebaseline_request(args.series, args.operator, args.reason)
    except ValidationError as error:
        print(f"riskwatch: {args.series!r} is not a series to rebaseline: {error}", file=sys.stderr)
        return 2
    send_action(settings, bootstrap_of(settings), request)
    hours = settings.rebaseline_after_s / 3600
    print(
        f"sent rebaseline of {request.series} by {request.operator}: the worker accepts it if the series' "
        f"baseline has been frozen for {hours:g} h or more (riskwatch_rebaselines_total counts the outcome, "
        "its log says why it refused; an accepted one is recorded on the warnings resting on the series)"
    )
    return 0


def run_review(settings: Settings, args: argparse.Namespace) -> int:
    """Print an episode's timeline."""
    from pipeline.assess.review import episode_review
    from pipeline.notify.deliveries import response_text

    revisions = revisions_of(settings, bootstrap_of(settings), args.warning_id)
    if not revisions:
        print(f"riskwatch: no warning {args.warning_id} on the warnings topic", file=sys.stderr)
        return 1
    print(episode_review(revisions).text())
    print(response_text(response_of(settings, args.warning_id)))
    return 0


def response_of(settings: Settings, warning_id: str) -> list[dict[str, object]]:
    """Who ``riskwatch notify`` told of ``warning_id``, how it went, who acknowledged."""
    from pipeline.kafka.state_store import read_to_end
    from pipeline.kafka.topics import TopicNames
    from pipeline.notify.deliveries import DeliveryBook

    book = DeliveryBook()
    topic = TopicNames.from_settings(settings).deliveries
    for record in asyncio.run(read_to_end(bootstrap_of(settings), topic, security=settings.kafka)):
        if record.key == warning_id.encode():
            book.apply(record.key, record.value)
    return book.response(warning_id)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ack``, ``resolve``, ``false-alarm`` and ``review``."""
    for command, help_text in (
        ("ack", "acknowledge a warning (stops repeats at its tier)"),
        ("resolve", "resolve a warning"),
        ("false-alarm", "mark a warning a false alarm (detectors raise that series' threshold)"),
    ):
        parser = subparsers.add_parser(command, help=help_text)
        parser.add_argument("warning_id")
        parser.add_argument("--operator", required=True, help="who acts (recorded in the audit trail)")
        parser.add_argument("--comment", default=None)
        parser.set_defaults(run=run_action)
    rebaseline = subparsers.add_parser(
        "rebaseline", help="accept a frozen series' readings as its new normal (recorded in the audit trail)"
    )
    rebaseline.add_argument("series", help="community/device/sensor_type, e.g. c1/wl-1/water_level")
    rebaseline.add_argument("--operator", required=True, help="who decides (recorded in the audit trail)")
    rebaseline.add_argument("--reason", required=True, help="why this is the new normal")
    rebaseline.set_defaults(run=run_rebaseline)
    review = subparsers.add_parser("review", help="print an episode's timeline for the post-incident review")
    review.add_argument("warning_id")
    review.set_defaults(run=run_review)
