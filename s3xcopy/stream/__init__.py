"""The stream strategy: copy through the client when no single identity or service can.

Two clients (two credentials, possibly two endpoints): ranged GetObject on the
source, UploadPart (or PutObject for small objects) on the destination, parts in
parallel, memory bounded by part size x concurrency, and a full-object CRC computed
while streaming, sent to S3 and checked against the source's before completion.
"""

from __future__ import annotations

from .copier import StreamCaller, StreamCopier

__all__ = ["StreamCaller", "StreamCopier"]
