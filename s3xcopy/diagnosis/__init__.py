"""Diagnosis: an AccessDenied plus what we know of the copy -> Findings and a fallback verdict.

``DenialContext`` is everything the engine knows when a request is refused. The
catalog of known causes (data, one row per cause) fills ``diagnose``; the
engine only depends on the two functions exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .context import DenialContext
from .fallback import fallback_may_help

if TYPE_CHECKING:
    from ..findings import Finding

__all__ = ["DenialContext", "diagnose", "fallback_may_help"]


def diagnose(context: DenialContext) -> tuple[Finding, ...]:
    """The findings that explain this refusal (or lookalike); empty when no row matches.

    The catalog and the policy engine behind it load on the first refusal, not with the
    engine: most runs never need them, and importing them is ~50 ms of every start.
    """
    from .findings import diagnose as explain

    return explain(context)
