"""The lab answers like S3: error codes and messages, key states, header rules, STS and KMS."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from s3xcopy.lab import LabServer, load_scenario

pytestmark = [pytest.mark.lab, pytest.mark.seaweed]

Lab = Callable[..., LabServer]
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "legacy"})
OWNER = "444455556666"
GUEST = "777788889999"
RULES_KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/rules-key"


def rules_scenario() -> dict[str, Any]:
    """Two accounts; the owner's buckets exercise payer, ownership, ACL and Bucket Key rules."""
    admin = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    guest_writes = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GuestWritesWithOwnerControl",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{GUEST}:user/guest"},
                "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"],
                "Resource": "arn:aws:s3:::rules-acl/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            }
        ],
    }
    guest_reads = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{GUEST}:user/guest"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::rules-payer/*",
            }
        ],
    }
    return {
        "region": "us-east-1",
        "error_style": "explicit",
        "accounts": {OWNER: {"name": "owner"}, GUEST: {"name": "guest"}},
        "principals": {
            "admin": {
                "account": OWNER,
                "type": "user",
                "access_key_id": "AKIALABRULESADMIN001",
                "secret_access_key": "lab-not-a-secret-admin",
                "policies": {"Admin": admin},
            },
            "guest": {
                "account": GUEST,
                "type": "user",
                "access_key_id": "AKIALABRULESGUEST001",
                "secret_access_key": "lab-not-a-secret-guest",
                "policies": {"Admin": admin},
            },
        },
        "buckets": {
            "rules-payer": {"account": OWNER, "requester_pays": True, "policy": guest_reads},
            "rules-acl": {
                "account": OWNER,
                "object_ownership": "BucketOwnerEnforced",
                "policy": guest_writes,
            },
            "rules-bk": {
                "account": OWNER,
                "encryption": {"sse": "aws:kms", "key": "rules", "bucket_key": True},
            },
        },
        "keys": {
            "rules": {
                "account": OWNER,
                "key_id": "rules-key",
                "policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
            }
        },
    }


def client(server: LabServer, principal: str, service: str = "s3") -> Any:
    return boto3.client(service, config=NO_RETRY, **server.client_kwargs(principal))  # type: ignore[call-overload]


def error_of(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


@pytest.fixture
def rules(lab: Lab) -> LabServer:
    return lab(rules_scenario())


# --- AWS's messages ---------------------------------------------------------------------------


def test_explicit_kms_message_same_account(lab: Lab, unique_key: str, s3: Any) -> None:
    server = lab("same-account")
    # Arranged on the backend directly: the lab takes it as encrypted by sa-src's default key.
    s3.put_object(Bucket="sa-src", Key=unique_key, Body=b"x" * 1024)
    s3 = client(server, "CopyRole")
    upload = s3.create_multipart_upload(Bucket="sa-dst", Key=unique_key)
    status, code, message = error_of(
        lambda: s3.upload_part_copy(
            Bucket="sa-dst",
            Key=unique_key,
            UploadId=upload["UploadId"],
            PartNumber=1,
            CopySource={"Bucket": "sa-src", "Key": unique_key},
        )
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == (
        "User: arn:aws:sts::111122223333:assumed-role/CopyRole/copy-job is not authorized to "
        "perform: kms:Decrypt on resource: "
        "arn:aws:kms:us-east-1:111122223333:key/66666666-7777-8888-9999-000000000000 "
        "because no identity-based policy allows the kms:Decrypt action"
    )
    s3.abort_multipart_upload(Bucket="sa-dst", Key=unique_key, UploadId=upload["UploadId"])


def test_upload_part_needs_decrypt_on_destination_key(lab: Lab, unique_key: str) -> None:
    server = lab("same-account")
    s3 = client(server, "CopyRole")
    upload = s3.create_multipart_upload(Bucket="sa-dst", Key=unique_key)
    assert upload["SSEKMSKeyId"].endswith("66666666-7777-8888-9999-000000000000")
    status, code, message = error_of(
        lambda: s3.upload_part(
            Bucket="sa-dst", Key=unique_key, UploadId=upload["UploadId"], PartNumber=1, Body=b"p"
        )
    )
    assert (status, code) == (403, "AccessDenied")
    assert "kms:Decrypt" in message


def test_explicit_s3_message_quotes_the_resource(lab: Lab, unique_key: str) -> None:
    server = lab("original-explicit")
    status, code, message = error_of(
        lambda: client(server, "EC2Role").get_object(Bucket="cp-dst", Key=unique_key)
    )
    assert (status, code) == (403, "AccessDenied")
    assert message == (
        "User: arn:aws:sts::123456789012:assumed-role/EC2Role/i-0123456789abcdef0 "
        "is not authorized to perform: s3:GetObject "
        f'on resource: "arn:aws:s3:::cp-dst/{unique_key}" '
        "because no resource-based policy allows the s3:GetObject action"
    )


def test_bare_style_and_head_without_body(lab: Lab, unique_key: str) -> None:
    server = lab("original")
    s3 = client(server, "EC2Role")
    assert error_of(lambda: s3.get_object(Bucket="cp-dst", Key=unique_key)) == (
        403,
        "AccessDenied",
        "Access Denied",
    )
    # HeadObject answers have no body: botocore reports 403 / Forbidden.
    assert error_of(lambda: s3.head_object(Bucket="cp-dst", Key=unique_key)) == (
        403,
        "403",
        "Forbidden",
    )


def test_missing_key_is_403_without_list_bucket(lab: Lab, unique_key: str) -> None:
    server = lab("original")
    # EC2Role may GetObject but not ListBucket on cp-src: S3 hides whether the key exists.
    s3 = client(server, "EC2Role")
    assert error_of(lambda: s3.head_object(Bucket="cp-src", Key=unique_key)) == (
        403,
        "403",
        "Forbidden",
    )
    assert error_of(lambda: s3.get_object(Bucket="cp-src", Key=unique_key))[:2] == (
        403,
        "AccessDenied",
    )
    # DstAdmin may list cp-dst: it learns the key is missing.
    admin = client(server, "DstAdmin")
    assert error_of(lambda: admin.head_object(Bucket="cp-dst", Key=unique_key)) == (
        404,
        "404",
        "Not Found",
    )
    assert error_of(lambda: admin.get_object(Bucket="cp-dst", Key=unique_key))[:2] == (
        404,
        "NoSuchKey",
    )


def test_unknown_access_key_and_unknown_bucket(lab: Lab) -> None:
    server = lab("original")
    stranger = boto3.client(
        "s3",
        config=NO_RETRY,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIALABNOBODY0000001",
        aws_secret_access_key="x",
    )
    assert error_of(lambda: stranger.list_objects_v2(Bucket="cp-src"))[:2] == (
        403,
        "InvalidAccessKeyId",
    )
    assert error_of(lambda: client(server, "EC2Role").list_objects_v2(Bucket="no-such-bucket"))[
        :2
    ] == (404, "NoSuchBucket")


def test_unsigned_request_is_denied(lab: Lab) -> None:
    server = lab("original")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.endpoint_url}/cp-src/anything", timeout=10)
    assert info.value.code == 403
    assert b"<Code>AccessDenied</Code>" in info.value.read()


def test_unmodelled_operation_is_501(lab: Lab) -> None:
    server = lab("original")
    assert error_of(lambda: client(server, "DstAdmin").get_bucket_acl(Bucket="cp-dst"))[:2] == (
        501,
        "NotImplemented",
    )


# --- KMS key states ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"state": "Disabled"}, "KMS.DisabledException", "{arn} is disabled."),
        (
            {"state": "PendingDeletion"},
            "KMS.KMSInvalidStateException",
            "{arn} is pending deletion.",
        ),
        ({"region": "eu-west-1"}, "KMS.NotFoundException", "Invalid arn eu-west-1"),
    ],
)
def test_key_states_answer_like_s3(
    lab: Lab, unique_key: str, change: dict[str, str], code: str, message: str
) -> None:
    doc = load_scenario("original-fixed").to_dict()
    doc["keys"]["dst-key"].update(change)
    server = lab(doc)
    arn = server.scenario.key_arns["dst-key"]
    status, got_code, got_message = error_of(
        lambda: client(server, "EC2Role").put_object(Bucket="cp-dst", Key=unique_key, Body=b"x")
    )
    assert (status, got_code, got_message) == (400, code, message.format(arn=arn))


def test_missing_key_named_in_request(lab: Lab, unique_key: str) -> None:
    server = lab("original-fixed")
    missing = "arn:aws:kms:us-east-1:987654321098:key/00000000-0000-0000-0000-000000000000"
    result = error_of(
        lambda: client(server, "EC2Role").put_object(
            Bucket="cp-dst",
            Key=unique_key,
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=missing,
        )
    )
    assert result == (400, "KMS.NotFoundException", f"Key '{missing}' does not exist")


# --- owner, payer and ACL rules ---------------------------------------------------------------


def test_expected_bucket_owner(rules: LabServer, unique_key: str) -> None:
    s3 = client(rules, "admin")
    s3.put_object(Bucket="rules-acl", Key=unique_key, Body=b"x", ExpectedBucketOwner=OWNER)
    assert error_of(
        lambda: s3.put_object(
            Bucket="rules-acl", Key=unique_key, Body=b"x", ExpectedBucketOwner=GUEST
        )
    ) == (403, "AccessDenied", "Access Denied")
    assert error_of(
        lambda: s3.copy_object(
            Bucket="rules-acl",
            Key=unique_key + "-copy",
            CopySource={"Bucket": "rules-acl", "Key": unique_key},
            ExpectedSourceBucketOwner=GUEST,
        )
    ) == (403, "AccessDenied", "Access Denied")


def test_requester_pays(rules: LabServer, unique_key: str) -> None:
    client(rules, "admin").put_object(Bucket="rules-payer", Key=unique_key, Body=b"paid")
    guest = client(rules, "guest")
    assert error_of(lambda: guest.get_object(Bucket="rules-payer", Key=unique_key)) == (
        403,
        "AccessDenied",
        "Access Denied",
    )
    assert (
        guest.get_object(Bucket="rules-payer", Key=unique_key, RequestPayer="requester")[
            "Body"
        ].read()
        == b"paid"
    )


def test_bucket_owner_enforced_and_required_acl(rules: LabServer, unique_key: str) -> None:
    guest = client(rules, "guest")
    assert error_of(
        lambda: guest.put_object(Bucket="rules-acl", Key=unique_key, Body=b"x", ACL="public-read")
    ) == (
        400,
        "AccessControlListNotSupported",
        "The bucket does not allow ACLs",
    )
    status, code, message = error_of(
        lambda: guest.put_object(Bucket="rules-acl", Key=unique_key, Body=b"x")
    )
    assert (status, code) == (403, "AccessDenied")
    assert "because no resource-based policy allows the s3:PutObject action" in message
    guest.put_object(Bucket="rules-acl", Key=unique_key, Body=b"x", ACL="bucket-owner-full-control")


# --- encryption headers, copy tags ------------------------------------------------------------


def test_sse_headers_and_bucket_key(rules: LabServer, unique_key: str) -> None:
    s3 = client(rules, "admin")
    put = s3.put_object(Bucket="rules-bk", Key=unique_key, Body=b"x")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == (
        "aws:kms",
        RULES_KEY,
        True,
    )
    head = s3.head_object(Bucket="rules-bk", Key=unique_key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == (
        "aws:kms",
        RULES_KEY,
        True,
    )
    plain = s3.put_object(
        Bucket="rules-acl", Key=unique_key, Body=b"x", ServerSideEncryption="AES256"
    )
    assert plain["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in plain
    encryption = s3.get_bucket_encryption(Bucket="rules-bk")["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == RULES_KEY
    assert encryption["BucketKeyEnabled"] is True


def test_copy_of_tagged_source_needs_tagging_permissions(
    lab: Lab, unique_key: str, s3: Any
) -> None:
    server = lab("original-fixed")
    # Arranged on the backend: EC2Role itself may not tag (no s3:PutObjectTagging).
    s3.put_object(Bucket="cp-src", Key=unique_key, Body=b"x", Tagging="team=red")
    s3 = client(server, "EC2Role")
    status, code, _ = error_of(
        lambda: s3.copy_object(
            Bucket="cp-dst", Key=unique_key, CopySource={"Bucket": "cp-src", "Key": unique_key}
        )
    )
    assert (status, code) == (403, "AccessDenied")
    record = [r for r in server.requests if r.operation == "CopyObject"][-1]
    assert record.detail is not None
    assert record.detail.startswith("s3:GetObjectTagging")
    # Replacing the tags needs s3:PutObjectTagging instead (denied too: the bucket policy lacks it).
    server.add_statement(
        "principals/EC2Role/S3Permissions",
        {
            "Effect": "Allow",
            "Action": ["s3:GetObjectTagging", "s3:PutObjectTagging"],
            "Resource": "*",
        },
    )
    server.add_statement(
        "buckets/cp-dst",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/EC2Role"},
            "Action": "s3:PutObjectTagging",
            "Resource": "arn:aws:s3:::cp-dst/*",
        },
    )
    s3.copy_object(
        Bucket="cp-dst", Key=unique_key, CopySource={"Bucket": "cp-src", "Key": unique_key}
    )


def test_delete_objects_answers_per_key(rules: LabServer, unique_key: str) -> None:
    s3 = client(rules, "admin")
    gone, kept = f"{unique_key}-gone", f"{unique_key}-keep"
    for key in (gone, kept):
        s3.put_object(Bucket="rules-acl", Key=key, Body=b"x")
    rules.add_statement(
        "principals/admin/Admin",
        {
            "Effect": "Deny",
            "Action": "s3:DeleteObject",
            "Resource": f"arn:aws:s3:::rules-acl/{kept}",
        },
    )
    result = s3.delete_objects(
        Bucket="rules-acl", Delete={"Objects": [{"Key": gone}, {"Key": kept}]}
    )
    assert [d["Key"] for d in result.get("Deleted", [])] == [gone]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [(kept, "AccessDenied")]
    assert s3.list_objects_v2(Bucket="rules-acl", Prefix=unique_key)["Contents"][0]["Key"] == kept


# --- STS and KMS on the same endpoint ---------------------------------------------------------


def test_get_caller_identity(lab: Lab) -> None:
    server = lab("original")
    identity = client(server, "EC2Role", "sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0123456789abcdef0"
    assert identity["Account"] == "123456789012"
    assert identity["UserId"].startswith("AROA")
    stranger = boto3.client(
        "sts",
        config=NO_RETRY,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIALABNOBODY0000001",
        aws_secret_access_key="x",
    )
    assert error_of(stranger.get_caller_identity)[:2] == (403, "InvalidClientTokenId")


def test_describe_key_direct_context(lab: Lab) -> None:
    server = lab("same-account")
    kms = client(server, "CopyRole", "kms")
    status, code, message = error_of(lambda: kms.describe_key(KeyId="alias/sa-dst"))
    assert (status, code) == (400, "AccessDeniedException")
    assert message.endswith("because no identity-based policy allows the kms:DescribeKey action")
    original = lab("original")
    metadata = client(original, "EC2Role", "kms").describe_key(
        KeyId="arn:aws:kms:us-east-1:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )["KeyMetadata"]
    assert (metadata["AWSAccountId"], metadata["KeyState"], metadata["KeyManager"]) == (
        "987654321098",
        "Enabled",
        "CUSTOMER",
    )
    assert error_of(lambda: client(original, "EC2Role", "kms").describe_key(KeyId="nope"))[:2] == (
        400,
        "NotFoundException",
    )


def test_list_buckets_shows_the_callers_account_only(lab: Lab) -> None:
    server = lab("original")
    names = [b["Name"] for b in client(server, "DstAdmin").list_buckets()["Buckets"]]
    assert names == ["cp-dst"]
    # EC2Role's policies do not grant s3:ListAllMyBuckets.
    assert error_of(client(server, "EC2Role").list_buckets)[:2] == (403, "AccessDenied")


def test_scenario_swap_at_runtime(lab: Lab, unique_key: str) -> None:
    server = lab("original")
    s3 = client(server, "EC2Role")
    role = "arn:aws:iam::123456789012:role/EC2Role"
    list_dst = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::cp-dst"}
    server.add_statement("principals/EC2Role/S3Permissions", list_dst)
    # Cross-account: the identity grant alone is not enough ...
    assert error_of(lambda: s3.list_objects_v2(Bucket="cp-dst"))[1] == "AccessDenied"
    # ... the bucket policy must allow too.
    server.add_statement("buckets/cp-dst", {**list_dst, "Principal": {"AWS": role}})
    assert s3.list_objects_v2(Bucket="cp-dst", Prefix=unique_key)["KeyCount"] == 0
    server.set_scenario("original")
    assert error_of(lambda: s3.list_objects_v2(Bucket="cp-dst"))[1] == "AccessDenied"
