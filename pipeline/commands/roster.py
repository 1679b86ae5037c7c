"""``riskwatch roster import FILE.csv`` and ``riskwatch roster list``: the mobilisation roster.

``import`` checks the whole file first (:func:`pipeline.notify.roster.parse_roster`)
and writes nothing when any row is wrong; then it writes every row to
``riskwatch.roster`` (compacted by id: importing a row again replaces it) and
waits for the broker to take each one. ``remove ID`` takes a row off.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pipeline.config import Settings
from pipeline.notify.roster import RosterEntry


def _send_all(settings: Settings, records: list[tuple[str, RosterEntry | None]]) -> None:
    from pipeline.commands.operator import bootstrap_of
    from pipeline.notify.roster_store import write_roster

    write_roster(settings, bootstrap_of(settings), records)


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    """Check the file, then write every row."""
    from pipeline.notify.roster import RosterError, parse_roster

    try:
        entries = parse_roster(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        print(f"riskwatch: cannot read {args.file}: {error}", file=sys.stderr)
        return 1
    except RosterError as error:
        print(f"riskwatch: {args.file} was not imported (nothing changed):\n{error}", file=sys.stderr)
        return 1
    _send_all(settings, [(entry.id, entry) for entry in entries])
    communities = sorted({entry.community for entry in entries})
    print(f"imported {len(entries)} roster entries of {', '.join(communities)}")
    return 0


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    """Print the roster (of one community with ``--community``)."""
    from pipeline.commands.operator import bootstrap_of
    from pipeline.kafka.state_store import read_to_end
    from pipeline.kafka.topics import TopicNames
    from pipeline.notify.roster import Roster

    roster = Roster()
    topic = TopicNames.from_settings(settings).roster
    for record in asyncio.run(read_to_end(bootstrap_of(settings), topic, security=settings.kafka)):
        roster.apply(record.key, record.value)
    shown = sorted(
        (e for e in roster.entries.values() if args.community in (None, e.community)),
        key=lambda e: (e.community, e.role.value, e.id),
    )
    for e in shown:
        duty = ";".join(f"{s.start:%H:%M}-{s.end:%H:%M}" for s in e.duty) or "always"
        hazards = ";".join(sorted(h.value for h in e.hazards)) if e.hazards else "all"
        print(
            f"{e.community:<10} {e.role.value:<20} {e.id:<20} {e.name:<24} {e.channel.value:<8} "
            f"{e.address}  duty {duty} ({e.timezone})  hazards {hazards}  from {e.min_tier.name}"
            + (f"  skills {';'.join(e.skills)}" if e.skills else "")
        )
    if not shown:
        print("the roster is empty")
    return 0


def run_remove(settings: Settings, args: argparse.Namespace) -> int:
    """Take one entry off the roster."""
    _send_all(settings, [(args.entry_id, None)])
    print(f"{args.entry_id}: removed from the roster")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``roster import``, ``roster list`` and ``roster remove``."""
    roster = subparsers.add_parser("roster", help="the mobilisation roster: who is told, how and when")
    actions = roster.add_subparsers(dest="roster_command", required=True)
    load = actions.add_parser("import", help="check a roster CSV and write its rows (all or none)")
    load.add_argument("file")
    load.set_defaults(run=run_import)
    listing = actions.add_parser("list", help="print the roster")
    listing.add_argument("--community", default=None)
    listing.set_defaults(run=run_list)
    remove = actions.add_parser("remove", help="take one person or team off the roster")
    remove.add_argument("entry_id")
    remove.set_defaults(run=run_remove)
