"""diagnose(): the catalog entry point (the catalog itself is data in catalog.py)."""

from __future__ import annotations

from ..findings import Finding
from .context import DenialContext


def diagnose(context: DenialContext) -> tuple[Finding, ...]:
    """The findings that explain this denial; empty when no catalog row matches."""
    del context
    return ()
