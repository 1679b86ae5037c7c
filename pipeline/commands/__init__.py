"""Subcommands of ``riskwatch``: one module each, found automatically.

A module here defines ``register(subparsers)``, which adds its parser and sets
``run=`` to a function ``(settings, args) -> int``. Adding a command means
adding a module; nothing else changes.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def register_all(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Call ``register`` of every module in this package, in name order."""
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        module.register(subparsers)
