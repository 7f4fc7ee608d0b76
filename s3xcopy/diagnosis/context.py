"""DenialContext: the refused request and what the engine knew about the copy at that moment."""

from __future__ import annotations

from dataclasses import dataclass

from ..location import S3Location
from ..results import Strategy


@dataclass(frozen=True)
class DenialContext:
    """Everything diagnosis may use; unknown facts are None, never guessed."""

    operation: str
    code: str
    message: str
    strategy: Strategy
    size: int | None
    source: S3Location
    dest: S3Location
    #: The ARN of the caller (STS GetCallerIdentity), when it could be learned.
    caller_arn: str | None = None
    source_bucket_owner: str | None = None
    dest_bucket_owner: str | None = None
    #: KMS key of the source object (HeadObject's SSEKMSKeyId), if KMS-encrypted.
    source_key_arn: str | None = None
    #: KMS key of the destination (from the request, CreateMultipartUpload's answer or the
    #: bucket's default encryption), if known.
    dest_key_arn: str | None = None
    dest_bucket_key_enabled: bool = False
    region: str | None = None
    partition: str = "aws"
    #: Headers the request carried that need extra grants (tagging, ACL, object lock).
    sent_tagging: bool = False
    sent_acl: str | None = None
    request_payer: bool = False
