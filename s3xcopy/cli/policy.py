"""``s3xcopy policy SRC DST --role-arn ARN``: the least-privilege statements a copy needs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import InvalidInputError
from ..location import S3Location
from ..policy.generate import least_privilege, policy_document
from .exitcodes import EXIT_CODES_HELP, ExitCode
from .grants import grant_arg
from .options import ACLS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="print the least-privilege policies a copy needs, per account",
        description=(
            "Print, per account, the statements that copying SRC to DST needs by either path "
            "(one CopyObject, or multipart UploadPartCopy): the role's identity policy, the "
            "destination bucket and key policies, and the source's when it is in another "
            "account. Least privilege: kms:GenerateDataKey + kms:Decrypt through S3, never kms:*. "
            "For prefixes (cp --recursive, sync): s3:ListBucket on the source bucket for that "
            "prefix, and with --sync / --delete what sync and sync --delete add at the "
            "destination."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("source", metavar="SRC", help="s3://bucket/key or s3://bucket/prefix/")
    parser.add_argument("dest", metavar="DST", help="s3://bucket/key or s3://bucket/prefix/")
    parser.add_argument("--role-arn", required=True, help="the role (or user) that copies")
    parser.add_argument("--dest-key-arn", help="KMS key that encrypts the destination")
    parser.add_argument("--source-key-arn", help="KMS key that encrypts the source")
    parser.add_argument(
        "--dest-account", help="account owning the destination bucket (default: the key's)"
    )
    parser.add_argument(
        "--source-account", help="account owning the source bucket (default: the key's)"
    )
    parser.add_argument("--acl", choices=ACLS, help="the canned ACL the copy will send")
    parser.add_argument(
        "--grants", nargs="+", type=grant_arg, metavar="GRANT", default=[],
        help="the grants the copy will send, as cp --grants (they need s3:PutObjectAcl too)",
    )  # fmt: skip
    parser.add_argument(
        "--no-tags", action="store_true", help="the copy will not carry tags (drops *Tagging)"
    )
    parser.add_argument(
        "--sync", action="store_true",
        help="prefixes copied with sync: it lists the destination prefix too",
    )  # fmt: skip
    parser.add_argument(
        "--delete", action="store_true",
        help="prefixes copied with sync --delete: it also deletes below the destination prefix",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        grants = least_privilege(
            S3Location.parse(args.source),
            S3Location.parse(args.dest),
            args.role_arn,
            source_key_arn=args.source_key_arn,
            dest_key_arn=args.dest_key_arn,
            source_account=args.source_account,
            dest_account=args.dest_account,
            copy_tags=not args.no_tags,
            acl=args.acl,
            acl_grants=bool(args.grants),
            sync=args.sync,
            delete=args.delete,
        )
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    if args.json:
        print(json.dumps([g.to_dict() for g in grants], indent=2))
        return int(ExitCode.OK)
    for grant in grants:
        print(f"# {grant.title()}")
        if grant.note:
            print(f"# {grant.note}")
        print(json.dumps(policy_document(grant.statements), indent=2))
        print()
    return int(ExitCode.OK)
