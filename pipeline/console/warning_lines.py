"""One readable line per warning revision, for the demo and ``riskwatch tail``."""

from __future__ import annotations

from schemas.warning import RiskWarning

_ANSI = {"red": "\033[41;97m", "orange": "\033[48;5;208;30m", "yellow": "\033[43;30m", "blue": "\033[44;97m"}
_RESET = "\033[0m"


def warning_line(warning: RiskWarning, colour: bool = True) -> str:
    """E.g. ``12:00:05  opened        II orange   flood          demo-c1  risk 1.000  <id> r1``.

    The tier is always written as text, so the line reads the same without colour.
    """
    tier = f"{warning.tier.label:<10}"
    if colour:
        tier = f"{_ANSI[warning.tier.colour]}{tier}{_RESET}"
    top = max(warning.evidence, key=lambda e: e.score, default=None)
    shown = (
        f"  {top.series}={top.value:g} (expected {top.expected:.3g})"
        if top and top.value is not None and top.expected is not None
        else ""
    )
    return (
        f"{warning.updated_at:%H:%M:%S}  {warning.change.value:<12}  {tier}  "
        f"{warning.hazard.value:<15} {warning.community_id:<12} risk {warning.risk:.3f}  "
        f"{warning.warning_id} r{warning.revision}{shown}"
    )
