"""Benchmark kit: a modelled S3 endpoint with AWS's cost shape, and part-size sweeps.

``ModelServer`` runs the model in-process (tests); ``ModelProcess`` runs it as its own
process (the harness); ``copy_lower_bound`` is the least time any client could take.
The server is imported on first use, so ``s3xcopy cp`` never pays for it at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .costs import ModelParams, bulk_copy_lower_bound, copy_lower_bound

if TYPE_CHECKING:
    from .server import ModelApp, ModelServer, client_kwargs

__all__ = [
    "ModelApp",
    "ModelParams",
    "ModelServer",
    "bulk_copy_lower_bound",
    "client_kwargs",
    "copy_lower_bound",
]

_LAZY = {"ModelApp", "ModelServer", "client_kwargs"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
