"""Options shared by the commands that copy (cp, sync, preflight, policy, bench, ...).

Flag names follow ``aws s3 cp`` wherever the meaning is the same, so scripts can
swap ``aws s3 cp`` for ``s3xcopy cp``.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from urllib3.exceptions import InsecureRequestWarning

from ..config import CopyConfig
from ..errors import InvalidInputError
from ..planning import validate_extra_args
from ..units import parse_size
from .grants import GRANT_PERMISSIONS, grant_arg

STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
)
ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)


def size_arg(text: str) -> int:
    """argparse type for sizes (``8MB``, ``64MiB``, bytes)."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def metadata_arg(text: str) -> dict[str, str]:
    """``--metadata`` as ``aws s3 cp`` takes it: ``k1=v1,k2=v2`` or a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"invalid JSON for --metadata: {exc}") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise argparse.ArgumentTypeError("--metadata JSON must map strings to strings")
        return value
    result = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(
                f"invalid --metadata item {item!r}: expected key=value"
            )
        result[key.strip()] = value
    return result


def timeout_arg(text: str) -> int:
    """argparse type for ``--cli-*-timeout``: whole seconds, 0 for no limit (as aws)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected whole seconds (0 = no limit), not {text!r}")
    return value


def add_endpoint_trust_options(group: argparse._ArgumentGroup) -> None:
    """``--no-verify-ssl``, ``--ca-bundle`` and ``--cli-*-timeout`` (see :func:`client_flags`)."""
    group.add_argument(
        "--no-verify-ssl", action="store_true",
        help="do not verify the endpoints' TLS certificates (as aws; a self-signed test server)",
    )  # fmt: skip
    group.add_argument(
        "--ca-bundle", metavar="FILE",
        help="CA certificates (PEM) to verify the endpoints' TLS with (as aws; AWS_CA_BUNDLE)",
    )  # fmt: skip
    group.add_argument(
        "--cli-connect-timeout", type=timeout_arg, metavar="SECONDS",
        help="seconds to wait for a connection (default 60; 0 waits without limit, as aws)",
    )  # fmt: skip
    group.add_argument(
        "--cli-read-timeout", type=timeout_arg, metavar="SECONDS",
        help="seconds to wait for an answer (default 60; 0 waits without limit, as aws)",
    )  # fmt: skip


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--profile", help="AWS profile for the copy (default: boto3's chain)")
    group.add_argument("--region", help="region of the destination bucket / the copy requests")
    group.add_argument("--source-region", help="region of the source bucket, when it differs")
    group.add_argument("--endpoint-url", help="S3-compatible endpoint (e.g. http://127.0.0.1:8333)")
    group.add_argument(
        "--source-profile", metavar="PROFILE",
        help="AWS profile that reads the source (a second identity: lets s3xcopy stream a "
        "copy the destination's identity may not read)",
    )  # fmt: skip
    group.add_argument(
        "--source-endpoint-url", metavar="URL",
        help="S3-compatible endpoint of the source, when it differs (the copy then streams)",
    )  # fmt: skip
    add_endpoint_trust_options(group)


def add_transfer_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("transfer")
    group.add_argument(
        "--multipart-threshold", type=size_arg, metavar="SIZE",
        help="objects at least this big are copied in parts (default 8MB, as aws s3 cp)",
    )  # fmt: skip
    group.add_argument(
        "--part-size", type=size_arg, metavar="SIZE",
        help="bytes per part, 5MiB..5GiB (default: automatic, see README)",
    )  # fmt: skip
    group.add_argument(
        "--max-concurrency",
        type=int,
        metavar="N",
        help="requests in flight (default: 64 for server-side copies, 10 for streams)",
    )
    group.add_argument(
        "--max-attempts", type=int, metavar="N",
        help="tries per request on throttling and transient faults (default 8)",
    )  # fmt: skip
    group.add_argument(
        "--no-verify", action="store_true",
        help="skip the size/checksum comparison after the copy (and a stream's ETag check)",
    )  # fmt: skip
    group.add_argument(
        "--no-fallback", action="store_true",
        help="when a multipart copy is denied, stop instead of trying one CopyObject",
    )  # fmt: skip
    group.add_argument(
        "--wait-for-permissions", type=float, metavar="SECONDS", default=0.0,
        help="after a policy change, retry AccessDenied with backoff up to this long",
    )  # fmt: skip
    group.add_argument(
        "--preflight", action="store_true",
        help="probe the permissions through S3 (a canary upload, aborted) before copying",
    )  # fmt: skip
    streaming = group.add_mutually_exclusive_group()
    streaming.add_argument(
        "--stream", dest="stream", action="store_const", const="always",
        help="stream the bytes through this machine (ranged GET with the source's credentials, "
        "upload with the destination's) even when a server-side copy could do it",
    )  # fmt: skip
    streaming.add_argument(
        "--no-stream", dest="stream", action="store_const", const="never",
        help="never stream through this machine: fail when no server-side copy can serve both "
        "sides (default: stream only then)",
    )  # fmt: skip


def add_destination_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("destination object (as aws s3 cp)")
    group.add_argument(
        "--sse", nargs="?", const="AES256", choices=("AES256", "aws:kms", "aws:kms:dsse")
    )
    group.add_argument(
        "--sse-kms-key-id", metavar="KEY", help="KMS key id or ARN (implies --sse aws:kms)"
    )
    group.add_argument("--sse-c", nargs="?", const="AES256", choices=("AES256",))
    group.add_argument("--sse-c-key", metavar="KEY", help="the destination's SSE-C key")
    group.add_argument("--sse-c-copy-source", nargs="?", const="AES256", choices=("AES256",))
    group.add_argument("--sse-c-copy-source-key", metavar="KEY", help="the source's SSE-C key")
    group.add_argument("--acl", choices=ACLS)
    group.add_argument(
        "--grants", nargs="+", type=grant_arg, metavar="GRANT",
        help="Permission=Grantee_Type=Grantee_ID, e.g. full=id=CANONICAL_ID or "
        "read=uri=http://acs.amazonaws.com/groups/global/AllUsers (as aws s3 cp)",
    )  # fmt: skip
    group.add_argument("--storage-class", choices=STORAGE_CLASSES)
    group.add_argument("--metadata", type=metadata_arg, metavar="MAP", help="k1=v1,k2=v2 or JSON")
    group.add_argument("--metadata-directive", choices=("COPY", "REPLACE"))
    group.add_argument("--tagging", metavar="TAGS", help="URL-encoded tags, e.g. 'k1=v1&k2=v2'")
    group.add_argument("--tagging-directive", choices=("COPY", "REPLACE"))
    group.add_argument("--content-type")
    group.add_argument("--content-encoding")
    group.add_argument("--content-disposition")
    group.add_argument("--content-language")
    group.add_argument("--cache-control")
    group.add_argument("--expires", help="an ISO 8601 timestamp")
    group.add_argument("--website-redirect", metavar="URL")
    group.add_argument(
        "--checksum-algorithm", choices=("CRC64NVME", "CRC32", "CRC32C", "SHA1", "SHA256")
    )
    group.add_argument("--request-payer", nargs="?", const="requester", choices=("requester",))
    group.add_argument(
        "--expected-bucket-owner", metavar="ACCOUNT", help="owner of the destination bucket"
    )
    group.add_argument(
        "--expected-source-bucket-owner", metavar="ACCOUNT", help="owner of the source bucket"
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "--dryrun", action="store_true", help="show what would be copied, copy nothing"
    )
    group.add_argument("--quiet", action="store_true", help="print nothing but errors' exit code")
    group.add_argument("--only-show-errors", action="store_true", help="print only failures")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    group.add_argument("--json", action="store_true", help="one JSON object per line on stdout")


def add_copy_options(parser: argparse.ArgumentParser) -> None:
    """Everything ``cp`` takes besides SRC and DST."""
    add_destination_options(parser)
    add_transfer_options(parser)
    add_connection_options(parser)
    add_output_options(parser)


def copy_config(args: argparse.Namespace) -> CopyConfig:
    """CopyConfig from the flags; unset flags keep CopyConfig's defaults."""
    given: dict[str, Any] = {
        "multipart_threshold": getattr(args, "multipart_threshold", None),
        "part_size": getattr(args, "part_size", None),
        "max_concurrency": getattr(args, "max_concurrency", None),
        "max_attempts": getattr(args, "max_attempts", None),
    }
    kwargs = {k: v for k, v in given.items() if v is not None}
    if "max_concurrency" in kwargs:  # the flag caps every kind of request, as in aws s3 cp
        kwargs["copy_concurrency"] = kwargs["max_concurrency"]
    if getattr(args, "no_verify", False):
        kwargs["verify"] = False
    if getattr(args, "no_fallback", False):
        kwargs["fallback"] = False
    if getattr(args, "wait_for_permissions", 0.0):
        kwargs["wait_for_permissions"] = args.wait_for_permissions
    if getattr(args, "preflight", False):
        kwargs["preflight"] = True
    if getattr(args, "stream", None):
        kwargs["stream"] = args.stream
    return CopyConfig(**kwargs)


_SIMPLE_ARGS = {
    "acl": "ACL",
    "storage_class": "StorageClass",
    "metadata": "Metadata",
    "metadata_directive": "MetadataDirective",
    "tagging": "Tagging",
    "tagging_directive": "TaggingDirective",
    "content_type": "ContentType",
    "content_encoding": "ContentEncoding",
    "content_disposition": "ContentDisposition",
    "content_language": "ContentLanguage",
    "cache_control": "CacheControl",
    "expires": "Expires",
    "website_redirect": "WebsiteRedirectLocation",
    "checksum_algorithm": "ChecksumAlgorithm",
    "request_payer": "RequestPayer",
    "expected_bucket_owner": "ExpectedBucketOwner",
    "expected_source_bucket_owner": "ExpectedSourceBucketOwner",
}


def extra_args(args: argparse.Namespace) -> dict[str, Any]:
    """The destination settings in boto3's ExtraArgs form, checked for impossible combinations."""
    result: dict[str, Any] = {}
    for name, key in _SIMPLE_ARGS.items():
        value = getattr(args, name, None)
        if value is not None:
            result[key] = value
    for field_name, grantees in getattr(args, "grants", None) or ():
        # The same permission twice grants both (S3 takes a comma-separated list).
        kept = result.get(field_name)
        result[field_name] = f"{kept},{grantees}" if kept else grantees
    if "ACL" in result and any(name in result for name in GRANT_PERMISSIONS.values()):
        raise InvalidInputError("--acl cannot be combined with --grants: S3 takes one or the other")
    sse, kms_key = getattr(args, "sse", None), getattr(args, "sse_kms_key_id", None)
    if kms_key and sse not in (None, "aws:kms", "aws:kms:dsse"):
        raise InvalidInputError("--sse-kms-key-id needs --sse aws:kms (or no --sse)")
    if kms_key:
        result["ServerSideEncryption"] = sse or "aws:kms"
        result["SSEKMSKeyId"] = kms_key
    elif sse:
        result["ServerSideEncryption"] = sse
    for algo, key_name, prefix in (
        ("sse_c", "sse_c_key", ""),
        ("sse_c_copy_source", "sse_c_copy_source_key", "CopySource"),
    ):
        algorithm, customer_key = getattr(args, algo, None), getattr(args, key_name, None)
        if bool(algorithm) != bool(customer_key):
            flag = "--" + algo.replace("_", "-")
            raise InvalidInputError(f"{flag} and {flag}-key must be given together")
        if algorithm:
            result[f"{prefix}SSECustomerAlgorithm"] = algorithm
            result[f"{prefix}SSECustomerKey"] = customer_key
    if "SSECustomerAlgorithm" in result and "ServerSideEncryption" in result:
        raise InvalidInputError("--sse-c cannot be combined with --sse / --sse-kms-key-id")
    return validate_extra_args(result)  # tags, Expires: one line before anything is sent


@dataclass(frozen=True)
class ClientFlags:
    """The connection flags every client of a command takes, as aws's global options do.

    ``verify``: False (``--no-verify-ssl``), a CA bundle's path (``--ca-bundle``), or None
    for botocore's own trust (certifi, or AWS_CA_BUNDLE / the profile's ca_bundle).
    ``timeouts``: botocore Config timeouts given on the command line (None = no limit).
    """

    verify: bool | str | None = None
    timeouts: dict[str, int | None] = field(default_factory=dict)


def client_flags(args: argparse.Namespace) -> ClientFlags:
    """``--no-verify-ssl``, ``--ca-bundle`` and ``--cli-*-timeout``, checked."""
    verify: bool | str | None = None
    ca_bundle = getattr(args, "ca_bundle", None)
    if getattr(args, "no_verify_ssl", False):
        if ca_bundle:
            raise InvalidInputError("--no-verify-ssl and --ca-bundle cannot be combined")
        verify = False
    elif ca_bundle:
        if not os.path.isfile(ca_bundle):
            raise InvalidInputError(f"--ca-bundle {ca_bundle}: no such file")
        verify = ca_bundle
    timeouts: dict[str, int | None] = {}
    for flag, name in (("cli_connect_timeout", "connect_timeout"),
                       ("cli_read_timeout", "read_timeout")):  # fmt: skip
        value = getattr(args, flag, None)
        if value is not None:
            timeouts[name] = value or None  # 0: wait without limit, as aws
    return ClientFlags(verify, timeouts)


class FlaggedSession(boto3.session.Session):
    """A boto3 session whose clients (S3, STS, KMS alike) take the command's ClientFlags."""

    def __init__(self, flags: ClientFlags, **kwargs: Any) -> None:
        core = botocore.session.Session()
        if flags.timeouts:  # merged under each client's own Config (botocore's default config)
            timeouts: dict[str, Any] = dict(flags.timeouts)
            core.set_default_client_config(Config(**timeouts))
        super().__init__(botocore_session=core, **kwargs)
        self.flags = flags
        if flags.verify is False:  # asked for: urllib3 would warn on every request
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)

    def client(self, *args: Any, **kwargs: Any) -> Any:
        if self.flags.verify is not None and kwargs.get("verify") is None:
            kwargs["verify"] = self.flags.verify
        return super().client(*args, **kwargs)


def source_session_from(
    args: argparse.Namespace, session: boto3.session.Session
) -> boto3.session.Session | None:
    """The session of ``--source-profile`` (None without it; ``session`` for the same profile)."""
    profile = getattr(args, "source_profile", None)
    if not profile:
        return None
    if profile == getattr(args, "profile", None):
        return session
    region = getattr(args, "source_region", None) or args.region
    return session_from(profile, region, client_flags(args))


def session_from(
    profile: str | None, region: str | None, flags: ClientFlags | None = None
) -> boto3.session.Session:
    """A boto3 session for ``--profile`` / ``--region`` whose clients take ``flags``;
    a missing profile is bad input."""
    try:
        if flags is None or flags == ClientFlags():
            return boto3.session.Session(profile_name=profile, region_name=region)
        return FlaggedSession(flags, profile_name=profile, region_name=region)
    except BotoCoreError as exc:
        raise InvalidInputError(str(exc)) from exc
