"""Pure parts of bulk runs: prefixes, key mapping, paged listings, merges, sync verdicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from s3xcopy import InvalidInputError, S3Location, S3xCopyError
from s3xcopy.bulk import ListedObject, plan_job
from s3xcopy.bulk.compare import Verdict, by_checksum, decide
from s3xcopy.bulk.listing import check_prefixes, dir_prefix, list_objects, merge, relative
from s3xcopy.facts import Checksum

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def obj(key: str, size: int = 10, at: dt.datetime = T0, etag: str = '"e"') -> ListedObject:
    return ListedObject(key, size, etag, at)


@pytest.mark.parametrize(
    ("uri", "prefix"),
    [
        ("s3://bkt", ""),
        ("s3://bkt/", ""),
        ("s3://bkt/logs", "logs/"),  # aws s3 appends the slash: "logs2/" is not included
        ("s3://bkt/logs/", "logs/"),
        ("s3://bkt/a/b/c", "a/b/c/"),
    ],
)
def test_dir_prefix_as_aws_s3(uri: str, prefix: str) -> None:
    assert dir_prefix(S3Location.parse(uri)) == prefix


@pytest.mark.parametrize(
    ("source", "dest", "delete", "problem"),
    [
        ("s3://bkt/p/", "s3://bkt/p", False, "same prefix"),
        ("s3://bkt/", "s3://bkt/backup/", False, "inside the source"),
        ("s3://bkt/p/", "s3://bkt/p/sub/", False, "inside the source"),
        ("s3://bkt/p/sub/", "s3://bkt/p/", True, "would delete the source"),
        ("s3://bkt/p/sub/", "s3://bkt/p/", False, None),  # no --delete: harmless
        ("s3://bkt/p/", "s3://bkt/p2/", True, None),  # "p2/" is not inside "p/"
        ("s3://akt/p/", "s3://bkt/p/", True, None),
    ],
)
def test_overlapping_prefixes_are_refused(
    source: str, dest: str, delete: bool, problem: str | None
) -> None:
    if problem is None:
        check_prefixes(S3Location.parse(source), S3Location.parse(dest), delete=delete)
    else:
        with pytest.raises(InvalidInputError, match=problem):
            check_prefixes(S3Location.parse(source), S3Location.parse(dest), delete=delete)


def test_plan_job_maps_prefixes_and_refuses_bad_input() -> None:
    job = plan_job("cp", "s3://src/logs", "s3://dst")
    assert (job.source_prefix, job.dest_prefix) == ("logs/", "")
    with pytest.raises(InvalidInputError):
        plan_job("cp", "s3://src/p?versionId=abc", "s3://dst/")
    with pytest.raises(InvalidInputError, match="unsupported extra_args"):
        plan_job("cp", "s3://src/p/", "s3://dst/", extra_args={"Bogus": 1})
    with pytest.raises(InvalidInputError, match="one object"):
        plan_job("cp", "s3://src/p/", "s3://dst/", extra_args={"CopySourceIfMatch": '"x"'})
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InvalidInputError, match="page size"):
            plan_job("cp", "s3://src/p/", "s3://dst/", page_size=bad)  # type: ignore[arg-type]
    assert plan_job("cp", "s3://src/p/", "s3://dst/", page_size=5).page_size == 5


class PagedLister:
    """A fake ListObjectsV2 that serves ``keys`` in pages of ``page`` and records its calls."""

    def __init__(self, keys: list[str], page: int) -> None:
        self.keys, self.page = keys, page
        self.calls: list[dict[str, Any]] = []

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        assert operation == "ListObjectsV2"
        self.calls.append(kwargs)
        start = int(kwargs.get("ContinuationToken") or 0)
        chunk = self.keys[start : start + self.page]
        answer: dict[str, Any] = {
            "Contents": [{"Key": k, "Size": 1, "ETag": '"e"', "LastModified": T0} for k in chunk],
            "IsTruncated": start + self.page < len(self.keys),
        }
        if answer["IsTruncated"]:
            answer["NextContinuationToken"] = str(start + self.page)
        return answer


def test_listing_is_streamed_page_by_page() -> None:
    lister = PagedLister([f"p/{n:03d}" for n in range(25)], page=10)
    stream = list_objects(lister, "b", "p/", {"RequestPayer": "requester"})
    first = next(stream)
    assert first.key == "p/000"
    assert len(lister.calls) == 1  # only the first page was asked for
    rest = list(stream)
    assert len(rest) == 24
    assert len(lister.calls) == 3
    assert [c.get("ContinuationToken") for c in lister.calls] == [None, "10", "20"]
    assert all(c["RequestPayer"] == "requester" and c["Prefix"] == "p/" for c in lister.calls)


def test_listing_without_a_new_token_stops_with_an_error() -> None:
    def stuck(operation: str, **kwargs: Any) -> dict[str, Any]:
        return {"Contents": [], "IsTruncated": True, "NextContinuationToken": "same"}

    with pytest.raises(S3xCopyError, match="continuation token"):
        list(list_objects(stuck, "b", ""))


def test_relative_skips_directory_markers_and_checks_order() -> None:
    items = [obj("p/a"), obj("p/dir/", size=0), obj("p/dir/x"), obj("p/dir/", size=5)]
    with pytest.raises(S3xCopyError, match="not in key order"):
        list(relative(iter(items), "p/", "s3://bkt/p/"))
    good = [obj("p/a"), obj("p/dir/", size=0), obj("p/dir/x")]
    assert [rel for rel, _ in relative(iter(good), "p/", "s3://bkt/p/")] == ["a", "dir/x"]


def test_merge_walks_two_sorted_listings() -> None:
    source = [("a", obj("s/a")), ("b", obj("s/b")), ("d", obj("s/d"))]
    dest = [("b", obj("d/b")), ("c", obj("d/c")), ("e", obj("d/e"))]
    merged = [
        (rel, s.key if s else None, d.key if d else None)
        for rel, s, d in merge(iter(source), iter(dest))
    ]
    assert merged == [
        ("a", "s/a", None),
        ("b", "s/b", "d/b"),
        ("c", None, "d/c"),
        ("d", "s/d", None),
        ("e", None, "d/e"),
    ]


def test_merge_orders_keys_as_s3_does_utf8_bytes() -> None:
    """S3 lists in UTF-8 byte order; Python's str order is the same, so merges agree."""
    keys = ["a", "B", "é", "z", "~", "中", "😀"]
    assert sorted(keys) == sorted(keys, key=lambda k: k.encode("utf-8"))


LATER = T0 + dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("source", "dest", "mode", "verdict"),
    [
        (obj("k"), None, "default", Verdict.COPY),
        (obj("k", 10), obj("k", 11), "default", Verdict.COPY),
        (obj("k", at=LATER), obj("k", at=T0), "default", Verdict.COPY),  # source newer
        (obj("k", at=T0), obj("k", at=LATER), "default", Verdict.SKIP),  # a copy is newer
        (obj("k", at=T0), obj("k", at=T0), "default", Verdict.SKIP),
        # --exact-timestamps: for S3 to S3, aws s3 keeps the default rule.
        (obj("k", at=T0), obj("k", at=LATER), "exact-timestamps", Verdict.SKIP),
        (obj("k", at=LATER), obj("k", at=T0), "exact-timestamps", Verdict.COPY),
        # --size-only: time does not matter.
        (obj("k", at=LATER), obj("k", at=T0), "size-only", Verdict.SKIP),
        (obj("k", 1), obj("k", 2), "size-only", Verdict.COPY),
        (obj("k"), None, "size-only", Verdict.COPY),
        # --checksum: sizes first, then the checksums decide.
        (obj("k", 1), obj("k", 2), "checksum", Verdict.COPY),
        (obj("k"), obj("k"), "checksum", Verdict.CHECK),
    ],
)
def test_sync_verdicts(
    source: ListedObject, dest: ListedObject | None, mode: Any, verdict: Verdict
) -> None:
    assert decide(source, dest, mode)[0] is verdict


CRC_A = Checksum("CRC64NVME", "AAAA", "FULL_OBJECT")
CRC_B = Checksum("CRC64NVME", "BBBB", "FULL_OBJECT")
CRC32 = Checksum("CRC32", "AAAA", "FULL_OBJECT")
COMPOSITE = Checksum("CRC32", "AAAA-3", "COMPOSITE")


@pytest.mark.parametrize(
    ("source_sum", "dest_sum", "source_at", "verdict"),
    [
        (CRC_A, CRC_A, LATER, Verdict.SKIP),  # same bytes: newer source does not matter
        (CRC_A, CRC_B, T0, Verdict.COPY),  # different bytes: older source does not matter
        (CRC_A, CRC32, LATER, Verdict.COPY),  # not comparable: default rule (source newer)
        (CRC32, COMPOSITE, T0, Verdict.SKIP),  # composite is not full-object: default rule
        (None, CRC_A, T0, Verdict.SKIP),
        (None, None, LATER, Verdict.COPY),
    ],
)
def test_checksum_verdicts(
    source_sum: Checksum | None, dest_sum: Checksum | None, source_at: dt.datetime, verdict: Verdict
) -> None:
    assert by_checksum(obj("k", at=source_at), obj("k"), source_sum, dest_sum)[0] is verdict
