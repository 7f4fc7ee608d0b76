"""diagnose(): parse the message, then run the catalog (catalog.py, data)."""

from __future__ import annotations

from ..findings import Finding
from .catalog import explain_denial
from .context import DenialContext
from .messages import parse_denial


def diagnose(context: DenialContext) -> tuple[Finding, ...]:
    """The findings that explain this refusal (or lookalike); empty when no row matches."""
    return explain_denial(context, parse_denial(context.code, context.message))
