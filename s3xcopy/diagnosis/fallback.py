"""Would one CopyObject succeed where the multipart copy was refused?"""

from __future__ import annotations

from .context import DenialContext
from .messages import CREDENTIAL_CODES, parse_denial

#: Operations only the multipart path sends; a denial there may be a grant CopyObject
#: does not need (the classic one: kms:Decrypt on the destination key for UploadPartCopy).
MULTIPART_ONLY_OPERATIONS = frozenset({"UploadPartCopy", "CompleteMultipartUpload", "ListParts"})


def fallback_may_help(context: DenialContext) -> bool:
    """True when the refused grant may be one the single CopyObject path does not need.

    A bare ``Access Denied`` on UploadPartCopy cannot tell which grant is missing,
    and CreateMultipartUpload (s3:PutObject, kms:GenerateDataKey) already succeeded,
    so trying CopyObject is cheap and often works. When AWS names the action, only
    kms:Decrypt on the destination key is multipart-only.
    """
    if context.operation not in MULTIPART_ONLY_OPERATIONS:
        return False
    if context.code in CREDENTIAL_CODES or context.credentials_refused:
        return False  # refused credentials: CopyObject would send the same ones
    parsed = parse_denial(context.code, context.message)
    if parsed.shape != "explicit" or parsed.action is None:
        return parsed.shape in ("bare", "ciphertext", "other")
    if parsed.action != "kms:Decrypt":
        return False
    if parsed.resource is None or context.dest_key_arn is None:
        return True
    return parsed.resource.split("/")[-1] == context.dest_key_arn.split("/")[-1]
