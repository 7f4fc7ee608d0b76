"""Request contexts: the condition keys AWS sets for an S3 request and for a KMS call.

Three shapes, because they differ in exactly the ways that make a probe lie:

- :func:`s3_context`: the caller's own S3 request (principal keys, aws:SourceIp or
  aws:SourceVpce, s3: keys taken from request headers and query parameters).
- :func:`kms_context_via_s3`: S3 calling KMS for the caller: kms:ViaService =
  ``s3.<region>.amazonaws.com``, aws:ViaAWSService = true, kms:CallerAccount, and
  the encryption context ``aws:s3:arn`` (the object ARN, or the bucket ARN with
  S3 Bucket Keys); aws:SourceIp / aws:SourceVpce are absent.
- :func:`kms_context_direct`: the caller calling KMS itself (DescribeKey, a probe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote_plus

from .conditions import Context, ContextValue, make_context
from .principals import Caller

__all__ = ["Network", "kms_context_direct", "kms_context_via_s3", "s3_context"]

# Request headers IAM exposes as s3:<header> condition keys.
_S3_HEADER_KEYS = (
    "x-amz-acl", "x-amz-copy-source", "x-amz-metadata-directive",
    "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm", "x-amz-storage-class",
    "x-amz-website-redirect-location", "x-amz-content-sha256",
    "x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp",
    "x-amz-grant-write", "x-amz-grant-write-acp",
)  # fmt: skip
_LOCK_HEADER_KEYS = {
    "x-amz-object-lock-mode": "s3:object-lock-mode",
    "x-amz-object-lock-retain-until-date": "s3:object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold": "s3:object-lock-legal-hold",
}
_LIST_QUERY_KEYS = ("prefix", "delimiter", "max-keys")


@dataclass(frozen=True)
class Network:
    """Where and when a request is made: the context keys the caller does not choose."""

    source_ip: str | None = None
    #: The VPC endpoint the caller's S3 requests go through (aws:SourceVpce).
    source_vpce: str | None = None
    secure_transport: bool = True
    #: aws:CurrentTime / aws:EpochTime; None leaves them out (deterministic tests).
    now: datetime | None = None


def _principal_keys(caller: Caller) -> dict[str, ContextValue | None]:
    kind = {"role": "AssumedRole", "user": "User", "root": "Account"}.get(caller.kind, "Anonymous")
    if caller.kind == "anonymous":
        return {"aws:PrincipalType": kind}
    return {
        "aws:PrincipalArn": caller.principal_arn,
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalType": kind,
        "aws:userid": caller.user_id,
        "aws:username": caller.name if caller.kind == "user" else None,
    }


def _organization_keys(
    principal_org_id: str | None, resource_org_id: str | None
) -> dict[str, ContextValue | None]:
    """aws:PrincipalOrgID / aws:ResourceOrgID: present only for accounts in an organization."""
    return {"aws:PrincipalOrgID": principal_org_id, "aws:ResourceOrgID": resource_org_id}


def _time_keys(now: datetime | None) -> dict[str, ContextValue | None]:
    if now is None:
        return {}
    utc = now.astimezone(timezone.utc) if now.tzinfo else now.replace(tzinfo=timezone.utc)
    return {
        "aws:CurrentTime": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(utc.timestamp())),
    }


def s3_context(
    caller: Caller,
    *,
    region: str,
    resource_account: str | None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    network: Network | None = None,
    principal_org_id: str | None = None,
    resource_org_id: str | None = None,
) -> Context:
    """Condition keys of the caller's own S3 request (``headers`` with lower-case names).

    ``principal_org_id`` / ``resource_org_id``: the organizations of the caller's and of
    the bucket owner's account, when they are in one.
    """
    network = network or Network()
    headers = headers or {}
    query = query or {}
    values: dict[str, ContextValue | None] = {
        **_principal_keys(caller),
        **_organization_keys(principal_org_id, resource_org_id),
        **_time_keys(network.now),
        "aws:SecureTransport": network.secure_transport,
        "aws:ViaAWSService": False,
        "aws:RequestedRegion": region,
        "aws:ResourceAccount": resource_account,
        "s3:ResourceAccount": resource_account,
        "s3:authType": "REST-HEADER",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:TlsVersion": "1.3" if network.secure_transport else None,
    }
    if network.source_vpce:
        values["aws:SourceVpce"] = network.source_vpce
    elif network.source_ip:
        values["aws:SourceIp"] = network.source_ip
    for name in _S3_HEADER_KEYS:
        if name in headers:
            values[f"s3:{name}"] = headers[name]
    for name, key in _LOCK_HEADER_KEYS.items():
        if name in headers:
            values[key] = headers[name]
    if "x-amz-tagging" in headers:
        tags = [pair.split("=", 1) for pair in headers["x-amz-tagging"].split("&") if pair]
        keys = [unquote_plus(t[0]) for t in tags]
        values["s3:RequestObjectTagKeys"] = keys
        for tag in tags:
            values[f"s3:RequestObjectTag/{unquote_plus(tag[0])}"] = unquote_plus(
                tag[1] if len(tag) > 1 else ""
            )
    for name in _LIST_QUERY_KEYS:
        if name in query:
            values[f"s3:{name}"] = query[name]
    if "versionId" in query:
        values["s3:versionid"] = query["versionId"]
    return make_context(values)


def kms_context_via_s3(
    caller: Caller,
    *,
    region: str,
    key_account: str,
    encryption_context_arn: str,
    now: datetime | None = None,
    principal_org_id: str | None = None,
    resource_org_id: str | None = None,
) -> Context:
    """Condition keys of a KMS call S3 makes for the caller (no SourceIp / SourceVpce)."""
    values: dict[str, ContextValue | None] = {
        **_principal_keys(caller),
        **_organization_keys(principal_org_id, resource_org_id),
        **_time_keys(now),
        "aws:SecureTransport": True,
        "aws:ViaAWSService": True,
        "aws:RequestedRegion": region,
        "aws:ResourceAccount": key_account,
        "kms:ViaService": f"s3.{region}.amazonaws.com",
        "kms:CallerAccount": caller.account,
        "kms:EncryptionContext:aws:s3:arn": encryption_context_arn,
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
    }
    return make_context(values)


def kms_context_direct(
    caller: Caller,
    *,
    region: str,
    key_account: str,
    network: Network | None = None,
    encryption_context: Mapping[str, str] | None = None,
    principal_org_id: str | None = None,
    resource_org_id: str | None = None,
) -> Context:
    """Condition keys of the caller's own KMS call (DescribeKey, a direct probe)."""
    network = network or Network()
    values: dict[str, ContextValue | None] = {
        **_principal_keys(caller),
        **_organization_keys(principal_org_id, resource_org_id),
        **_time_keys(network.now),
        "aws:SecureTransport": network.secure_transport,
        "aws:ViaAWSService": False,
        "aws:RequestedRegion": region,
        "aws:ResourceAccount": key_account,
        "kms:CallerAccount": caller.account,
    }
    if network.source_vpce:
        values["aws:SourceVpce"] = network.source_vpce
    elif network.source_ip:
        values["aws:SourceIp"] = network.source_ip
    if encryption_context:
        for name, value in encryption_context.items():
            values[f"kms:EncryptionContext:{name}"] = value
        values["kms:EncryptionContextKeys"] = list(encryption_context)
    return make_context(values)
