"""CopyResult: what one copy did, returned by ``copy_object()`` and printed by the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .findings import Finding

Strategy = Literal["single", "multipart", "stream"]


@dataclass(frozen=True)
class CopyResult:
    """The outcome of one successful copy."""

    source: str
    dest: str
    strategy: Strategy
    size: int
    #: Bytes per part; None for a single CopyObject.
    part_size: int | None
    parts: int
    etag: str
    version_id: str | None
    seconds: float
    #: One-line reason when the engine changed strategy (e.g. fell back to CopyObject).
    fallback: str | None = None
    #: Diagnosed permission problems met on the way, even when the copy succeeded.
    findings: tuple[Finding, ...] = ()
    #: Nothing was copied: a journal showed this copy made by an earlier run and the
    #: destination still holds it (the other fields are that run's; ``seconds`` is 0).
    skipped: bool = False
    #: What the caller should know that did not stop the copy (with a journal: an upload a
    #: killed run may have left that could not be aborted, a recorded copy found gone).
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same field names."""
        return {
            "source": self.source,
            "dest": self.dest,
            "strategy": self.strategy,
            "size": self.size,
            "part_size": self.part_size,
            "parts": self.parts,
            "etag": self.etag,
            "version_id": self.version_id,
            "seconds": round(self.seconds, 6),
            "fallback": self.fallback,
            "findings": [f.to_dict() for f in self.findings],
            "skipped": self.skipped,
            "warning": self.warning,
        }
