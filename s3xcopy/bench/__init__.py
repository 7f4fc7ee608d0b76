"""Benchmark kit: a modelled S3 endpoint with AWS's cost shape, and part-size sweeps.

``ModelServer`` runs the model in-process (tests); ``ModelProcess`` runs it as its own
process (the harness); ``copy_lower_bound`` is the least time any client could take.
"""

from __future__ import annotations

from .costs import ModelParams, bulk_copy_lower_bound, copy_lower_bound
from .server import ModelApp, ModelServer, client_kwargs

__all__ = [
    "ModelApp",
    "ModelParams",
    "ModelServer",
    "bulk_copy_lower_bound",
    "client_kwargs",
    "copy_lower_bound",
]
