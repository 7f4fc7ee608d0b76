"""Would one CopyObject succeed where the multipart copy was refused?"""

from __future__ import annotations

import re

from .context import DenialContext

#: Operations only the multipart path sends; a denial there may be a grant CopyObject
#: does not need (the classic one: kms:Decrypt on the destination key for UploadPartCopy).
MULTIPART_ONLY_OPERATIONS = frozenset({"UploadPartCopy", "CompleteMultipartUpload", "ListParts"})
_ACTION = re.compile(r"to perform: (\S+)")
_RESOURCE = re.compile(r'on resource: "?([^"\s]+)"?')


def fallback_may_help(context: DenialContext) -> bool:
    """True when the denied grant may be one the single CopyObject path does not need.

    A bare ``Access Denied`` on UploadPartCopy cannot tell which grant is missing,
    and CreateMultipartUpload (s3:PutObject, kms:GenerateDataKey) already succeeded,
    so trying CopyObject is cheap and often works. When AWS names the action, only
    kms:Decrypt on the destination key is multipart-only.
    """
    if context.operation not in MULTIPART_ONLY_OPERATIONS:
        return False
    action = _ACTION.search(context.message)
    if action is None:
        return True
    if action.group(1).rstrip(".") != "kms:Decrypt":
        return False
    resource = _RESOURCE.search(context.message)
    if resource is None or context.dest_key_arn is None:
        return True
    named = resource.group(1).rstrip(".")
    return (
        named == context.dest_key_arn or named.split("/")[-1] == context.dest_key_arn.split("/")[-1]
    )
