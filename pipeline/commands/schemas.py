"""``riskwatch schemas export DIR``: write the JSON Schema of every record."""

from __future__ import annotations

import argparse

from pipeline.config import Settings


def run_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write the schema files and list them."""
    from schemas.export import export_json_schemas

    for path in export_json_schemas(args.directory):
        print(path)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``schemas export``."""
    from pathlib import Path

    parser = subparsers.add_parser("schemas", help="JSON Schemas of every record")
    sub = parser.add_subparsers(dest="schemas_command", required=True)
    export = sub.add_parser("export", help="write <kind>.schema.json files into DIR")
    export.add_argument("directory", type=Path)
    export.set_defaults(run=run_export)
