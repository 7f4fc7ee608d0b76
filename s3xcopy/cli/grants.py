"""``--grants`` as ``aws s3 cp`` takes it, for cp and sync and for explain and policy.

Its own module: explain and policy stay offline and light (no boto3 to import).
"""

from __future__ import annotations

import argparse

#: ``--grants`` permissions (as aws s3 cp) and the request field each sets.
GRANT_PERMISSIONS = {
    "read": "GrantRead",
    "readacl": "GrantReadACP",
    "writeacl": "GrantWriteACP",
    "full": "GrantFullControl",
}
GRANTEE_TYPES = ("uri", "id", "emailaddress")


def grant_arg(text: str) -> tuple[str, str]:
    """One ``--grants`` item, ``Permission=Grantee_Type=Grantee_ID[,Grantee_Type=...]``, as
    (request field, grantees); the grantees go to S3 as written, as aws s3 cp sends them."""
    permission, _, grantees = text.partition("=")
    field_name = GRANT_PERMISSIONS.get(permission)
    items = [item.strip() for item in grantees.split(",")]
    if field_name is None or not all(
        item.partition("=")[0].lower() in GRANTEE_TYPES and item.partition("=")[2] for item in items
    ):
        raise argparse.ArgumentTypeError(
            f"invalid grant {text!r}: expected Permission=Grantee_Type=Grantee_ID "
            f"(permission {'|'.join(GRANT_PERMISSIONS)}, grantee type "
            f"{'|'.join(GRANTEE_TYPES)}); put --grants after SRC and DST"
        )
    return field_name, grantees
