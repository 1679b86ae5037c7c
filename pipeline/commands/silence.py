"""``riskwatch silence add|list|end``: maintenance windows operators set from the command line.

A silence goes to the compacted silences topic, keyed by its id; every worker
follows that topic whole and stops paging matching notifications until the
silence ends (the warning revisions are still recorded on the audit trail).
Ending one early writes a tombstone for its id.

    riskwatch silence add --community c001 --hazard flood --for 2h \\
        --author li.wei --comment "pump replacement at gauge wl-1"
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime, timedelta

from pipeline.config import Settings
from schemas.hazard import Hazard

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h`` or ``1d`` as a duration.

    >>> parse_duration("2h"), parse_duration("90s")
    (datetime.timedelta(seconds=7200), datetime.timedelta(seconds=90))
    """
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 30m, 2h or 1d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. 2026-11-23T22:00:00+08:00")
    return moment


def _send(settings: Settings, key: str, value: bytes | None) -> None:
    from pipeline.commands.operator import send_keyed
    from pipeline.kafka.topics import TopicNames

    send_keyed(settings, TopicNames.from_settings(settings).silences, [(key, value)])


def run_add(settings: Settings, args: argparse.Namespace) -> int:
    """Start a silence; print its id."""
    from pydantic import ValidationError

    from pipeline.assess.silences import Silence, new_silence_id, silence_problem

    starts_at = args.starts or datetime.now(UTC)
    try:
        silence = Silence(
            silence_id=new_silence_id(),
            community_id=args.community,
            hazard=args.hazard,
            device_id=args.device,
            starts_at=starts_at,
            ends_at=args.until or starts_at + args.duration,
            author=args.author,
            comment=args.comment,
        )
    except ValidationError as error:
        raise SystemExit(f"riskwatch: {silence_problem(error)}") from None
    _send(settings, silence.silence_id, silence.model_dump_json().encode())
    print(
        f"{silence.silence_id}: silenced {_matchers(silence)} "
        f"from {silence.starts_at.isoformat()} until {silence.ends_at.isoformat()}"
    )
    return 0


def _matchers(silence: object) -> str:
    names = ("community_id", "hazard", "device_id")
    return ", ".join(f"{n.removesuffix('_id')} {getattr(silence, n)}" for n in names if getattr(silence, n))


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    """Print the silences not yet ended."""
    from pipeline.assess.silences import Silence, silence_record
    from pipeline.commands.operator import bootstrap_of
    from pipeline.kafka.state_store import read_to_end
    from pipeline.kafka.topics import TopicNames

    topic = TopicNames.from_settings(settings).silences
    current: dict[str, Silence] = {}
    for record in asyncio.run(read_to_end(bootstrap_of(settings), topic, security=settings.kafka)):
        silence_id, silence = silence_record(record.key, record.value)
        if silence is None:
            current.pop(silence_id, None)
        else:
            current[silence_id] = silence
    now = datetime.now(UTC)
    shown = sorted((s for s in current.values() if s.ends_at > now), key=lambda s: s.ends_at)
    for silence in shown:
        print(
            f"{silence.silence_id}  {_matchers(silence)}  until {silence.ends_at.isoformat()}  "
            f"by {silence.author}: {silence.comment}"
        )
    if not shown:
        print("no active silences")
    return 0


def run_end(settings: Settings, args: argparse.Namespace) -> int:
    """End a silence now."""
    _send(settings, args.silence_id, None)
    print(f"{args.silence_id}: ended")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``silence add``, ``silence list`` and ``silence end``."""
    silence = subparsers.add_parser("silence", help="maintenance windows: stop paging matching notifications")
    actions = silence.add_subparsers(dest="silence_command", required=True)
    add = actions.add_parser("add", help="start a silence (at least one matcher)")
    add.add_argument("--community", default=None)
    add.add_argument("--hazard", type=Hazard, choices=list(Hazard), default=None)
    add.add_argument("--device", default=None)
    span = add.add_mutually_exclusive_group(required=True)
    span.add_argument("--for", dest="duration", type=parse_duration, help="e.g. 90m, 2h, 1d")
    span.add_argument("--until", type=_aware, help="ISO 8601 time with offset")
    add.add_argument("--starts", type=_aware, default=None, help="ISO 8601 time with offset (default now)")
    add.add_argument("--author", required=True)
    add.add_argument("--comment", required=True, help="why (shown on every silenced notification)")
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="print the active silences")
    listing.set_defaults(run=run_list)
    end = actions.add_parser("end", help="end a silence now")
    end.add_argument("silence_id")
    end.set_defaults(run=run_end)
