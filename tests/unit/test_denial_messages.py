"""Every AccessDenied message shape in the reference, parsed (a table, one row a shape)."""

from __future__ import annotations

import pytest

from s3xcopy.diagnosis.messages import parse_denial

ROLE = "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0abc"
KEY = "arn:aws:kms:eu-west-2:987654321098:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OBJ = "arn:aws:s3:::cp-dst/1gb.dat"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            f'User: {ROLE} is not authorized to perform: s3:PutObject on resource: "{OBJ}" '
            "because no identity-based policy allows the s3:PutObject action",
            ("explicit", ROLE, "s3:PutObject", OBJ, "identity-policy", "implicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: kms:Decrypt on resource: {KEY} "
            "because no resource-based policy allows the kms:Decrypt action",
            ("explicit", ROLE, "kms:Decrypt", KEY, "key-policy", "implicit", None),
        ),
        (
            f'User: {ROLE} is not authorized to perform: s3:GetObject on resource: "{OBJ}" '
            "with an explicit deny in a resource-based policy",
            ("explicit", ROLE, "s3:GetObject", OBJ, "bucket-policy", "explicit", None),
        ),
        (
            f'User: {ROLE} is not authorized to perform: s3:PutObject on resource: "{OBJ}" '
            "with an explicit deny in a service control policy: "
            "arn:aws:organizations::111122223333:policy/o-abc/service_control_policy/p-1",
            (
                "explicit",
                ROLE,
                "s3:PutObject",
                OBJ,
                "scp",
                "explicit",
                "arn:aws:organizations::111122223333:policy/o-abc/service_control_policy/p-1",
            ),
        ),
        (
            f"User: {ROLE} is not authorized to perform: s3:PutObject on resource: {OBJ} "
            "because no service control policy allows the s3:PutObject action",
            ("explicit", ROLE, "s3:PutObject", OBJ, "scp", "implicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: s3:GetObject on resource: {OBJ} "
            "with an explicit deny in a resource control policy",
            ("explicit", ROLE, "s3:GetObject", OBJ, "rcp", "explicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: kms:Decrypt on resource: {KEY} "
            "because no permissions boundary allows the kms:Decrypt action",
            ("explicit", ROLE, "kms:Decrypt", KEY, "permissions-boundary", "implicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: kms:Decrypt on resource: {KEY} "
            "with an explicit deny in a permissions boundary",
            ("explicit", ROLE, "kms:Decrypt", KEY, "permissions-boundary", "explicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: s3:PutObject on resource: {OBJ} "
            "because no session policy allows the s3:PutObject action",
            ("explicit", ROLE, "s3:PutObject", OBJ, "session-policy", "implicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: s3:PutObject on resource: {OBJ} "
            "with an explicit deny in a sessions policy",
            ("explicit", ROLE, "s3:PutObject", OBJ, "session-policy", "explicit", None),
        ),
        (
            f'User: {ROLE} is not authorized to perform: s3:GetObject on resource: "{OBJ}" '
            "because no VPC endpoint policy allows the s3:GetObject action",
            ("explicit", ROLE, "s3:GetObject", OBJ, "vpc-endpoint-policy", "implicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: s3:GetObject on resource: {OBJ} "
            "with an explicit deny in a VPC endpoint policy",
            ("explicit", ROLE, "s3:GetObject", OBJ, "vpc-endpoint-policy", "explicit", None),
        ),
        (
            f"User: {ROLE} is not authorized to perform: s3:PutObject on resource: {OBJ} "
            "with an explicit deny in an identity-based policy: "
            "arn:aws:iam::123456789012:policy/DenyWrites",
            (
                "explicit",
                ROLE,
                "s3:PutObject",
                OBJ,
                "identity-policy",
                "explicit",
                "arn:aws:iam::123456789012:policy/DenyWrites",
            ),
        ),
        (  # no "on resource:" at all
            f"User: {ROLE} is not authorized to perform: s3:ListAllMyBuckets because no "
            "identity-based policy allows the s3:ListAllMyBuckets action",
            ("explicit", ROLE, "s3:ListAllMyBuckets", None, "identity-policy", "implicit", None),
        ),
        (  # a trailing "Go to ..." sentence
            f"User: {ROLE} is not authorized to perform: kms:Decrypt on resource: {KEY} because "
            "no identity-based policy allows the kms:Decrypt action. Go to https://docs.aws."
            "amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html",
            ("explicit", ROLE, "kms:Decrypt", KEY, "identity-policy", "implicit", None),
        ),
        (  # no reason given
            f"User: {ROLE} is not authorized to perform: kms:GenerateDataKey on resource: {KEY}",
            ("explicit", ROLE, "kms:GenerateDataKey", KEY, None, None, None),
        ),
        (
            "The ciphertext refers to a customer master key that does not exist, does not "
            "exist in this region, or you are not allowed to access.",
            ("ciphertext", None, "kms:Decrypt", None, None, None, None),
        ),
        ("Access Denied", ("bare", None, None, None, None, None, None)),
        ("Access Denied.", ("bare", None, None, None, None, None, None)),
        (
            "Access Denied because object protected by object lock.",
            ("object-lock", None, None, None, None, None, None),
        ),
        ("Forbidden", ("forbidden", None, None, None, None, None, None)),
        ("Something else entirely", ("other", None, None, None, None, None, None)),
    ],
)
def test_parse(message: str, expected: tuple[object, ...]) -> None:
    code = "403" if message == "Forbidden" else "AccessDenied"
    parsed = parse_denial(code, message)
    got = (
        parsed.shape,
        parsed.principal,
        parsed.action,
        parsed.resource,
        parsed.policy,
        parsed.deny,
        parsed.policy_arn,
    )
    assert got == expected
    assert parsed.states_policy == (expected[4] is not None)
