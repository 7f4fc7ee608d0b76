"""Copying many objects: ``cp --recursive`` and ``sync`` as a library and for the CLI.

Prefixes are listed as streams, filtered with ``aws s3``'s include/exclude rules,
compared (sync), and copied by a pool of workers sharing one engine, one budget of
requests in flight and one adaptive throttle; an optional journal makes a killed
run resumable.
"""

from __future__ import annotations

from .api import copy_prefix, plan_job, sync_prefix
from .compare import SYNC_MODES, SyncMode
from .filters import Filters, Rule
from .listing import ListedObject
from .results import BulkSummary, ObjectOutcome
from .runner import BulkJob, BulkRun

__all__ = [
    "SYNC_MODES",
    "BulkJob",
    "BulkRun",
    "BulkSummary",
    "Filters",
    "ListedObject",
    "ObjectOutcome",
    "Rule",
    "SyncMode",
    "copy_prefix",
    "plan_job",
    "sync_prefix",
]
