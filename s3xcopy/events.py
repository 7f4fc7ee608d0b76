"""Typed events the engine emits; the CLI turns them into text, JSON lines and progress.

The library never prints: a caller that wants to see a copy happen passes a
listener (any callable taking an event) and picks the events it cares about by type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from .findings import Finding
from .results import CopyResult, Strategy

if TYPE_CHECKING:
    from .errors import S3xCopyError
    from .planning import CopyPlan


@dataclass(frozen=True)
class CopyPlanned:
    """The plan is made: strategy, part size and parts are known."""

    plan: CopyPlan


@dataclass(frozen=True)
class BytesCopied:
    """A part (or the whole object, for a single copy) has been copied."""

    source: str
    dest: str
    part_number: int
    bytes: int


@dataclass(frozen=True)
class RequestRetried:
    """A request met throttling or a transient fault and will be sent again after ``delay``."""

    operation: str
    attempt: int
    code: str
    delay: float


@dataclass(frozen=True)
class StrategyChanged:
    """The engine left the planned strategy (e.g. multipart denied -> one CopyObject)."""

    source: str
    dest: str
    old: Strategy
    new: Strategy
    reason: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class CopySucceeded:
    result: CopyResult


@dataclass(frozen=True)
class CopyFailed:
    source: str
    dest: str
    error: S3xCopyError


Event = Union[CopyPlanned, BytesCopied, RequestRetried, StrategyChanged, CopySucceeded, CopyFailed]  # noqa: UP007
Listener = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The listener used when nobody listens."""
