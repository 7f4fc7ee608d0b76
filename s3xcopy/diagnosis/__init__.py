"""Diagnosis: an AccessDenied plus what we know of the copy -> Findings and a fallback verdict.

``DenialContext`` is everything the engine knows when a request is refused. The
catalog of known causes (data, one row per cause) fills ``diagnose``; the
engine only depends on the two functions exported here.
"""

from __future__ import annotations

from .context import DenialContext
from .fallback import fallback_may_help
from .findings import diagnose

__all__ = ["DenialContext", "diagnose", "fallback_may_help"]
