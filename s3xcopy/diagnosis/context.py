"""DenialContext: the refused request and what the engine knew about the copy at that moment."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    source_bucket_key_enabled: bool = False
    #: KMS key of the destination (from the request, CreateMultipartUpload's answer or the
    #: bucket's default encryption), if known.
    dest_key_arn: str | None = None
    dest_bucket_key_enabled: bool = False
    region: str | None = None
    partition: str = "aws"
    #: Request features that need extra grants, as the permission table names them:
    #: ``tagging``, ``copy-tags``, ``acl``, ``retention``, ``legal-hold``, ``checksum-mode``,
    #: ``additional-checksums``.
    flags: frozenset[str] = field(default_factory=frozenset)
    #: Operations of this copy that succeeded with the same identity: their grants are proven.
    proven: frozenset[str] = field(default_factory=frozenset)
    sent_acl: str | None = None
    request_payer: bool = False
    #: Who manages each key ("AWS" for aws/s3), when a direct DescribeKey could tell.
    source_key_manager: str | None = None
    dest_key_manager: str | None = None
    #: The code STS GetCallerIdentity answered for the same credentials when it refused them
    #: (``ExpiredToken``, ``InvalidClientTokenId``, ``SignatureDoesNotMatch``): then the
    #: refusal is the credentials', whatever the policies say.
    credentials_refused: str | None = None

    @property
    def sent_tagging(self) -> bool:
        return "tagging" in self.flags or "copy-tags" in self.flags
