"""``s3xcopy explain``: offline, which permissions a copy needs and which are missing, per path.

Reads a lab scenario (or separate policy files), checks the single (CopyObject)
and the multipart (UploadPartCopy) path with the policy engine, and prints each
needed permission, allowed or not, and for each missing grant the action,
resource, policy kind, account and the statement to add. Exit 0 when both paths
are clear (or the one the size allows), 3 when not, 2 on bad input (a size no S3
object can have, too). No network.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ..findings import Finding
from ..lab.scenario import load_scenario
from ..limits import DEFAULT_MULTIPART_THRESHOLD, MAX_OBJECT_SIZE
from ..location import S3Location
from ..policy import (
    BucketInfo,
    Caller,
    CopyAnalysis,
    CopySpec,
    Encryption,
    KeyInfo,
    PathReport,
    Policy,
    PolicyError,
    PrincipalInfo,
    World,
    analyze_copy,
    merge_statements,
    parse_policy,
)
from ..policy.document import format_json_path
from ..policy.model import ORGANIZATION_ID
from ..units import format_size, parse_size
from .exitcodes import ExitCode
from .grants import grant_arg

_DESCRIPTION = """\
Explain, offline, whether a server-side copy is allowed: every s3: and kms:
permission of the single path (HeadObject + CopyObject) and of the multipart
path (CreateMultipartUpload + UploadPartCopy + CompleteMultipartUpload), and
for each missing grant the policy, account and JSON statement to add.

Policies come from a lab scenario (--scenario) or from separate files
(--principal ARN with --identity-policy, --bucket-policy, --key-policy ...).
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="offline: which permissions a copy needs, which are missing, what to add",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 every path the size allows is clear, 3 a path is denied, 2 bad input",
    )
    parser.add_argument("source", metavar="SOURCE", help="s3://bucket/key[?versionId=...]")
    parser.add_argument("dest", metavar="DEST", help="s3://bucket/key")
    parser.add_argument("--size", required=True, help="source size: bytes or 64MB, 1GiB...")
    parser.add_argument(
        "--multipart-threshold",
        default=str(DEFAULT_MULTIPART_THRESHOLD),
        help="copies of this size and larger go multipart (default 8MB, as aws s3 cp)",
    )
    parser.add_argument(
        "--scenario", metavar="SCENARIO", help="a lab scenario file or shipped name"
    )
    parser.add_argument(
        "--principal",
        metavar="NAME_OR_ARN",
        help="who copies: a scenario principal's name or ARN (default: the scenario's first); "
        "without --scenario, a role, session or user ARN",
    )
    parser.add_argument("--sse", choices=("aws:kms", "AES256"), help="destination encryption sent")
    parser.add_argument("--sse-kms-key-id", metavar="KEY", help="destination key: ARN, id or alias")
    parser.add_argument(
        "--bucket-key", choices=("on", "off"), help="S3 Bucket Key for the destination"
    )
    parser.add_argument("--acl", help="canned ACL sent with the destination")
    parser.add_argument(
        "--grants", nargs="+", type=grant_arg, metavar="GRANT", default=[],
        help="grants sent with the destination, as cp --grants (full=id=..., read=uri=...)",
    )  # fmt: skip
    parser.add_argument(
        "--tagging", metavar="TAGS", help="new tags for the destination (k=v&k2=v2)"
    )
    parser.add_argument(
        "--copy-tags", action="store_true", help="the source has tags and they are copied"
    )
    parser.add_argument(
        "--checksum-algorithm", metavar="ALG", help="additional checksum of the upload"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("-v", "--verbose", action="store_true", help="say which statements allowed")
    files = parser.add_argument_group("separate policy files (instead of --scenario)")
    files.add_argument("--identity-policy", action="append", default=[], metavar="FILE")
    files.add_argument("--bucket-policy", action="append", default=[], metavar="BUCKET=FILE")
    files.add_argument("--bucket-owner", action="append", default=[], metavar="BUCKET=ACCOUNT")
    files.add_argument(
        "--bucket-encryption",
        action="append",
        default=[],
        metavar="BUCKET=KEY_ARN|AES256",
        help="a bucket's default encryption (default AES256)",
    )
    files.add_argument("--bucket-key-enabled", action="append", default=[], metavar="BUCKET")
    files.add_argument("--key-policy", action="append", default=[], metavar="KEY_ARN=FILE")
    files.add_argument("--scp", action="append", default=[], metavar="FILE")
    files.add_argument(
        "--rcp",
        action="append",
        default=[],
        metavar="ACCOUNT=FILE",
        help="a resource control policy on ACCOUNT's buckets and keys",
    )
    files.add_argument(
        "--organization",
        action="append",
        default=[],
        metavar="ACCOUNT=o-ID",
        help="ACCOUNT is in this organization (aws:PrincipalOrgID, aws:ResourceOrgID)",
    )
    files.add_argument("--permissions-boundary", metavar="FILE")
    files.add_argument("--session-policy", metavar="FILE")
    files.add_argument("--region", default="us-east-1")
    parser.set_defaults(run=run_explain)


# --- input -------------------------------------------------------------------------------


def _pair(text: str, flag: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise InvalidInputError(f"{flag} expects NAME=VALUE, got {text!r}")
    return name, value


def _policy_file(path: str, kind: Any, name: str, account: str | None) -> Policy:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from exc
    try:
        return parse_policy(text, kind=kind, name=name, account=account)
    except PolicyError as exc:
        raise InvalidInputError(f"{path}: {format_json_path(exc.path)}: {exc.reason}") from exc


def _world_from_files(
    args: argparse.Namespace, source: S3Location, dest: S3Location
) -> tuple[World, Caller]:
    if not args.principal:
        raise InvalidInputError("without --scenario, --principal ARN is required")
    caller = Caller.from_arn(args.principal)
    account = caller.account
    region = args.region
    identity = tuple(
        _policy_file(p, "identity-policy", Path(p).stem, account) for p in args.identity_policy
    )
    boundary = (
        _policy_file(args.permissions_boundary, "permissions-boundary", "boundary", account)
        if args.permissions_boundary
        else None
    )
    session = (
        (_policy_file(args.session_policy, "session-policy", "session", account),)
        if args.session_policy
        else ()
    )
    kind = "role" if caller.kind == "role" else "user"
    if caller.kind not in ("role", "user"):
        raise InvalidInputError("--principal must be a role, session or user ARN")
    principal = PrincipalInfo(
        arn=caller.principal_arn,
        account=account,
        kind=kind,  # type: ignore[arg-type]
        name=caller.name,
        policies=identity,
        permissions_boundary=boundary,
        session_policies=session,
        session_name=caller.session_name or "s3xcopy",
    )
    owners = dict(_pair(t, "--bucket-owner") for t in args.bucket_owner)
    policies = dict(_pair(t, "--bucket-policy") for t in args.bucket_policy)
    encryptions = dict(_pair(t, "--bucket-encryption") for t in args.bucket_encryption)
    key_files = dict(_pair(t, "--key-policy") for t in args.key_policy)
    keys: list[KeyInfo] = []
    for arn, path in key_files.items():
        parts = arn.split(":")
        if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("key/"):
            raise InvalidInputError(f"--key-policy expects a full key ARN, got {arn!r}")
        keys.append(
            KeyInfo(
                arn,
                parts[4],
                parts[3],
                parts[5][4:],
                _policy_file(path, "key-policy", arn, parts[4]),
            )
        )
    buckets: dict[str, BucketInfo] = {}
    for name in dict.fromkeys([source.bucket, dest.bucket, *owners, *policies, *encryptions]):
        owner = owners.get(name, account)
        if not (len(owner) == 12 and owner.isdigit()):
            raise InvalidInputError(
                f"--bucket-owner {name}: {owner!r} is not a 12-digit account id"
            )
        enc_text = encryptions.get(name, "AES256")
        if enc_text == "AES256":
            encryption = Encryption("AES256")
        else:
            if enc_text not in key_files:
                raise InvalidInputError(
                    f"bucket {name} is encrypted with {enc_text}: "
                    "give its key policy with --key-policy"
                )
            encryption = Encryption("aws:kms", enc_text, name in args.bucket_key_enabled)
        policy = (
            _policy_file(policies[name], "bucket-policy", f"bucket {name}", owner)
            if name in policies
            else None
        )
        buckets[name] = BucketInfo(name, owner, region, policy, encryption)
    scps = tuple(_policy_file(p, "scp", Path(p).stem, account) for p in args.scp)
    rcps: dict[str, tuple[Policy, ...]] = {}
    for text in args.rcp:
        holder, path = _pair(text, "--rcp")
        if not (len(holder) == 12 and holder.isdigit()):
            raise InvalidInputError(f"--rcp {text}: {holder!r} is not a 12-digit account id")
        rcps[holder] = (*rcps.get(holder, ()), _policy_file(path, "rcp", Path(path).stem, holder))
    organizations = dict(_pair(t, "--organization") for t in args.organization)
    for holder, org in organizations.items():
        if not (len(holder) == 12 and holder.isdigit()) or not ORGANIZATION_ID.match(org):
            raise InvalidInputError(
                f"--organization expects ACCOUNT=o-ID (12 digits, o- and 10 to 32 lower-case "
                f"letters or digits), got {holder}={org}"
            )
    world = World(
        principals=(principal,),
        buckets=buckets,
        keys=tuple(keys),
        scps={account: scps} if scps else {},
        rcps=rcps,
        organizations=organizations,
        region=region,
    )
    return world, principal.caller()


def _analysis(args: argparse.Namespace) -> CopyAnalysis:
    source = S3Location.parse(args.source)
    dest = S3Location.parse(args.dest)
    if source.is_prefix or dest.is_prefix:
        raise InvalidInputError("explain takes one object: s3://bucket/key for SOURCE and DEST")
    try:
        size = parse_size(args.size)
        threshold = parse_size(args.multipart_threshold)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    if args.acl and args.grants:
        raise InvalidInputError("--acl cannot be combined with --grants: S3 takes one or the other")
    if size > MAX_OBJECT_SIZE:
        raise InvalidInputError(
            f"--size {format_size(size)} is above S3's largest object "
            f"({format_size(MAX_OBJECT_SIZE)}): no copy can make it"
        )
    if args.scenario:
        scenario = load_scenario(args.scenario)
        if args.principal:
            principal = scenario.principal(args.principal)
        elif scenario.principals:
            principal = next(iter(scenario.principals.values()))
        else:
            raise InvalidInputError(f"scenario {scenario.name} has no principals")
        world, caller = scenario.world, principal.info.caller()
    else:
        world, caller = _world_from_files(args, source, dest)
    spec = CopySpec(
        source=source,
        dest=dest,
        size=size,
        multipart_threshold=threshold,
        sse=args.sse,
        sse_kms_key_id=args.sse_kms_key_id,
        bucket_key=None if args.bucket_key is None else args.bucket_key == "on",
        acl=args.acl,
        grants=tuple(args.grants),
        tagging=args.tagging,
        copy_tags=args.copy_tags,
        checksum_algorithm=args.checksum_algorithm,
    )
    return analyze_copy(world, caller, spec)


# --- output ------------------------------------------------------------------------------


def _paths_of(finding: Finding, analysis: CopyAnalysis) -> list[str]:
    key = (finding.code, finding.action, finding.resource, finding.account, finding.policy)
    return [
        p.strategy
        for p in analysis.paths
        if any((f.code, f.action, f.resource, f.account, f.policy) == key for f in p.findings)
    ]


def _path_text(path: PathReport, verbose: bool) -> list[str]:
    operations = (
        "HeadObject + CopyObject"
        if path.strategy == "single"
        else ("CreateMultipartUpload + UploadPartCopy + CompleteMultipartUpload")
    )
    if not path.possible:
        return [f"{path.strategy} path ({operations}): not possible: {path.impossible_reason}"]
    verdict = "clear" if path.clear else "DENIED"
    taken = ", the path this copy takes" if path.taken else ""
    lines = [f"{path.strategy} path ({operations}){taken}: {verdict}"]
    for step in path.steps:
        for check in step.check.checks:
            state = "ok" if check.allowed else "DENIED"
            prefix = "  (clean-up) " if step.cleanup else "  "
            permission = check.permission
            lines.append(
                f"{prefix}{state:7}{step.operation:25} {permission.action:22} {permission.resource}"
            )
            if not check.allowed or verbose:
                lines.append(f"{'':9}{check.explain()}")
            if step.cleanup and not check.allowed:
                lines.append(
                    f"{'':9}(a failed multipart copy cannot abort its upload: add it to clean up)"
                )
    return lines


def _where(finding: Finding) -> str:
    account = f" in account {finding.account}" if finding.account else ""
    if finding.policy == "key-policy":
        return f"the key policy of {finding.resource}{account}"
    if finding.policy == "bucket-policy":
        return f"the bucket policy{account}"
    if finding.policy == "identity-policy":
        return f"an identity policy of {finding.principal}{account}"
    return f"the {finding.policy}{account}"


def render_text(analysis: CopyAnalysis, verbose: bool = False) -> str:
    spec = analysis.spec
    world_lines = [
        f"copy {spec.source} -> {spec.dest}, {format_size(spec.size)} "
        f"(multipart threshold {format_size(spec.multipart_threshold)})",
        f"caller  {analysis.caller.arn}",
        f"source  {spec.source.bucket}: {analysis.source_encryption.describe()}",
        f"dest    {spec.dest.bucket}: {analysis.dest_encryption.describe()}",
        "",
    ]
    lines = world_lines
    for path in analysis.paths:
        lines += _path_text(path, verbose)
        lines.append("")
    findings = analysis.findings
    if not findings:
        possible = [p.strategy for p in analysis.paths if p.possible]
        lines.append(
            "nothing is missing: both paths are clear"
            if len(possible) == len(analysis.paths)
            else f"nothing is missing: the {possible[0]} path is clear (the only one possible)"
        )
        return "\n".join(lines)
    lines.append(f"missing grants: {len(findings)}")
    for number, finding in enumerate(findings, 1):
        paths = " and ".join(_paths_of(finding, analysis))
        lines.append(f"{number}. {finding.action} on {finding.resource} ({paths} path)")
        lines.append(f"   policy: {finding.policy}, account {finding.account or 'unknown'}")
        lines.append(f"   {finding.summary}")
        if finding.statement is not None:
            lines.append(f"   add to {_where(finding)}:")
            lines += ["   " + line for line in finding.statement_json().splitlines()]
    fixes = merge_statements(findings)
    if len(fixes) < sum(1 for f in findings if f.statement is not None):
        lines.append("")
        lines.append("the same, one statement per policy:")
        for fix in fixes:
            lines.append(f"- {fix.policy} ({fix.holder}, account {fix.account}):")
            lines += ["  " + line for line in json.dumps(fix.statement, indent=2).splitlines()]
    return "\n".join(lines)


def run_explain(args: argparse.Namespace) -> int:
    try:
        analysis = _analysis(args)
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    if args.json:
        payload = analysis.to_dict()
        payload["fixes"] = [
            {"policy": f.policy, "account": f.account, "holder": f.holder, "statement": f.statement}
            for f in merge_statements(analysis.findings)
        ]
        for finding in payload["findings"]:
            finding["paths"] = [
                p.strategy
                for p in analysis.paths
                if any(
                    f.to_dict() == {k: v for k, v in finding.items() if k != "paths"}
                    for f in p.findings
                )
            ]
        print(json.dumps(payload, indent=2))
    else:
        print(render_text(analysis, args.verbose))
    return int(ExitCode.OK if analysis.clear else ExitCode.ACCESS_DENIED)
