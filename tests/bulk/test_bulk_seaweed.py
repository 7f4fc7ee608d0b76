"""cp --recursive and sync on the real S3 server (SeaweedFS), as a user runs them.

The big case copies 2,000 objects (mixed sizes, a few multipart) with the CLI and
checks what arrived; the filter and dry-run cases compare s3xcopy's lines with
the real ``aws s3`` (awscli, a test dependency) on the same buckets.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from s3xcopy.limits import MiB
from s3xcopy.seaweed import SeaweedServer

from .conftest import CliRunner, fast_client, list_keys, put_objects
from .faultproxy import FaultProxy

pytestmark = pytest.mark.seaweed

COUNT = 2000
#: Objects at or above the 5 MiB threshold used below: copied with UploadPartCopy.
MULTIPART_SIZES = {17: 6 * MiB + 123, 555: 7 * MiB, 1234: 11 * MiB + 1, 1999: 5 * MiB}
SPECIAL_KEYS = {
    3: "data/with space/é+%?.txt",
    4: "data/unicode/データ.csv",
    5: "data/deep/a/b/c/d/e.json",
}
EXTENSIONS = (("json", "application/json"), ("csv", "text/csv"), ("txt", "text/plain"))


def key_of(n: int) -> str:
    return SPECIAL_KEYS.get(n) or f"data/part-{n // 100:02d}/obj-{n:04d}.{EXTENSIONS[n % 3][0]}"


def body_of(n: int) -> bytes:
    return random.Random(n).randbytes(MULTIPART_SIZES.get(n, (n * 37) % 3000))


@pytest.fixture(scope="module")
def dataset(seaweed: SeaweedServer) -> tuple[Any, str]:
    """A source bucket with 2,000 objects under data/, each with metadata, headers and tags."""
    client = fast_client(seaweed)
    bucket = "bulk-source-2000"
    client.create_bucket(Bucket=bucket)
    items = [
        (
            key_of(n),
            body_of(n),
            {
                "ContentType": EXTENSIONS[n % 3][1],
                "CacheControl": "max-age=60",
                "Metadata": {"index": str(n), "pipeline": "nightly"},
                "Tagging": f"index={n}&set=bulk",
            },
        )
        for n in range(COUNT)
    ]
    put_objects(client, bucket, items)
    return client, bucket


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def same_object(client: Any, source: tuple[str, str], dest: tuple[str, str]) -> None:
    """Metadata, content headers and tags of the copy equal the source's."""
    head = [client.head_object(Bucket=b, Key=k) for b, k in (source, dest)]
    for name in ("ContentLength", "ContentType", "CacheControl", "Metadata"):
        assert head[0].get(name) == head[1].get(name), (name, source, dest)
    tags = [
        sorted((t["Key"], t["Value"]) for t in client.get_object_tagging(Bucket=b, Key=k)["TagSet"])
        for b, k in (source, dest)
    ]
    assert tags[0] == tags[1] != [], (source, dest)


def test_two_thousand_objects_copy_intact_and_a_second_sync_copies_nothing(
    dataset: tuple[Any, str], run_cli: CliRunner, proxy: FaultProxy
) -> None:
    client, source_bucket = dataset
    dest_bucket = "bulk-dest-2000"
    client.create_bucket(Bucket=dest_bucket)
    tuning = ["--multipart-threshold", "5MiB", "--part-size", "5MiB"]

    done = run_cli(
        "cp", "--recursive", f"s3://{source_bucket}/data/", f"s3://{dest_bucket}/copy/",
        *tuning, "--json", timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = json_lines(done.stdout)
    copied = [r for r in records if r["event"] == "copied"]
    summary = records[-1]
    assert summary["event"] == "summary"
    assert (summary["objects"], summary["failed"], summary["skipped"]) == (COUNT, 0, 0)
    assert len(copied) == COUNT
    assert sorted(r["dest"] for r in copied if r["strategy"] == "multipart") == sorted(
        f"s3://{dest_bucket}/copy/{key_of(n)[len('data/') :]}" for n in MULTIPART_SIZES
    )

    source = list_keys(client, source_bucket, "data/")
    dest = list_keys(client, dest_bucket, "copy/")
    assert sorted(dest) == sorted("copy/" + key[len("data/") :] for key in source)
    for key, item in source.items():
        copy = dest["copy/" + key[len("data/") :]]
        assert copy["Size"] == item["Size"], key
        if item["Size"] < 5 * MiB:  # one CopyObject keeps the MD5 ETag: same bytes
            assert copy["ETag"] == item["ETag"], key
    for n in MULTIPART_SIZES:  # multipart ETags differ by design: compare the bytes
        key = key_of(n)
        body = client.get_object(Bucket=dest_bucket, Key="copy/" + key[5:])["Body"].read()
        assert body == body_of(n), key
    sample = sorted({*range(0, COUNT, 10), *MULTIPART_SIZES, *SPECIAL_KEYS})
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: same_object(
                    client,
                    (source_bucket, key_of(n)),
                    (dest_bucket, "copy/" + key_of(n)[len("data/") :]),
                ),
                sample,
            )
        )

    again = run_cli(
        "sync", f"s3://{source_bucket}/data/", f"s3://{dest_bucket}/copy/", *tuning, "--json",
        endpoint=proxy.endpoint_url,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    records = json_lines(again.stdout)
    assert [r for r in records if r["event"] not in ("skipped", "summary")] == []
    summary = records[-1]
    assert (summary["objects"], summary["skipped"], summary["failed"]) == (0, COUNT, 0)
    assert {r.operation for r in proxy.requests()} == {"ListObjectsV2"}  # listings only
    assert len(proxy.requests("ListObjectsV2")) == 4  # two pages of 1,000 per side


# --- the same lines as aws s3 -----------------------------------------------------------

TREE_KEYS = (
    "foo/.git/config",
    "foo/.git/description",
    "foo/foo.txt",
    "foo/bar.txt",
    "foo/baz.jpg",
    "foo/another/test1.txt",
    "foo/another/deeper/x.log",
    "foo/logs/test/test.log",
    "foo/logs/test3.log",
    "foo/logs/test2.txt",
    "foo/file1.csv",
    "foo/file10.csv",
    "foo/Upper.JPG",
    "foo/with space+plus.txt",
    "foo/ünï.txt",
    "foo2/not-under-the-prefix.txt",
)

#: The documented examples (the pure tables in test_filters.py have them all) and a few
#: more that exercise ?, [seq], [!seq], order and depth; each costs an aws-cli start-up.
FILTER_CASES = [
    [],
    ["--exclude", ".git/*", "--exclude", "ba*"],
    ["--include", "*.txt", "--exclude", "*"],
    ["--exclude", "*", "--include", "*.jpg", "--include", "*.txt"],
    ["--exclude", "*another/*"],
    ["--exclude", "*", "--include", "*.log"],
    ["--exclude", "file?.csv", "--exclude", "[!a-z]*"],
    ["--exclude", "*", "--include", "logs/*", "--exclude", "*.txt"],
]


@pytest.fixture(scope="module")
def tree(seaweed: SeaweedServer) -> tuple[Any, str]:
    client = fast_client(seaweed)
    bucket = "bulk-filter-tree"
    client.create_bucket(Bucket=bucket)
    put_objects(client, bucket, [(key, key.encode(), {}) for key in TREE_KEYS])
    return client, bucket


def aws_s3(seaweed: SeaweedServer, cli_env: dict[str, str], *args: str) -> list[str]:
    """The real aws s3's output lines for a command against the server."""
    command = [sys.executable, "-m", "awscli", "s3", *args, "--endpoint-url", seaweed.endpoint_url]
    done = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return sorted(line for line in done.stdout.splitlines() if line.startswith("(dryrun)"))


def ours(run_cli: CliRunner, *args: str) -> list[str]:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return sorted(line for line in done.stdout.splitlines() if line.startswith("(dryrun)"))


@pytest.mark.parametrize("filters", FILTER_CASES, ids=lambda f: " ".join(f) or "no filters")
def test_cp_recursive_dryrun_lines_match_aws_s3(
    tree: tuple[Any, str],
    filters: list[str],
    run_cli: CliRunner,
    seaweed: SeaweedServer,
    cli_env: dict[str, str],
) -> None:
    _, bucket = tree
    args = ["cp", "--recursive", f"s3://{bucket}/foo", f"s3://{bucket}-copy/out/", "--dryrun"]
    expected = aws_s3(seaweed, cli_env, *args, *filters)
    assert ours(run_cli, *args, *filters) == expected
    if filters == ["--exclude", "*", "--include", "*.log"]:  # aws s3 cp's documented example
        assert expected == [
            f"(dryrun) copy: s3://{bucket}/foo/another/deeper/x.log to "
            f"s3://{bucket}-copy/out/another/deeper/x.log",
            f"(dryrun) copy: s3://{bucket}/foo/logs/test/test.log to "
            f"s3://{bucket}-copy/out/logs/test/test.log",
            f"(dryrun) copy: s3://{bucket}/foo/logs/test3.log to "
            f"s3://{bucket}-copy/out/logs/test3.log",
        ]


@pytest.mark.parametrize(
    "flags",
    [
        ["--delete"],
        ["--size-only", "--delete", "--exclude", "*.txt"],
        ["--exact-timestamps", "--delete", "--exclude", "*", "--include", "logs/*"],
    ],
    ids=" ".join,
)
def test_sync_dryrun_lines_match_aws_s3(
    tree: tuple[Any, str],
    flags: list[str],
    run_cli: CliRunner,
    seaweed: SeaweedServer,
    cli_env: dict[str, str],
) -> None:
    client, bucket = tree
    dest = f"{bucket}-sync-{abs(hash(tuple(flags))) % 10**6}"
    client.create_bucket(Bucket=dest)
    put_objects(
        client,
        dest,
        [
            ("mirror/foo.txt", b"foo/foo.txt", {}),  # same size, newer: skipped
            ("mirror/bar.txt", b"changed size", {}),  # size differs: copied
            ("mirror/extra.txt", b"x", {}),  # not at the source: deleted with --delete
            ("mirror/logs/old.log", b"x", {}),
            ("mirror/.git/config", b"foo/.git/conf", {}),  # size differs
        ],
    )
    args = ["sync", f"s3://{bucket}/foo/", f"s3://{dest}/mirror", "--dryrun", *flags]
    expected = aws_s3(seaweed, cli_env, *args)
    assert ours(run_cli, *args) == expected
    if flags == ["--delete"]:
        assert f"(dryrun) delete: s3://{dest}/mirror/extra.txt" in expected
        assert f"(dryrun) copy: s3://{bucket}/foo/bar.txt to s3://{dest}/mirror/bar.txt" in (
            expected
        )
