"""The policy lab: a local S3 endpoint that authorizes like AWS (accounts, IAM, bucket, key).

- :mod:`.scenario`: scenario files (JSON), validated strictly; :func:`load_scenario`.
- :mod:`.server`: :class:`LabServer`, in-process (tests) or behind ``s3xcopy lab serve``.
- :mod:`.protocol`: request classification and AWS-shaped answers (pure).

A lab, not a security boundary: it reads access key ids and never verifies signatures.
"""

from __future__ import annotations

from .scenario import LabPrincipal, Scenario, ScenarioError, load_scenario, shipped_scenarios
from .server import LabError, LabRequestRecord, LabServer

__all__ = [
    "LabError",
    "LabPrincipal",
    "LabRequestRecord",
    "LabServer",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "shipped_scenarios",
]
