"""--include / --exclude: the tables of aws s3's documentation, as S3 keys."""

from __future__ import annotations

import pytest

from s3xcopy.bulk.filters import Filters, Rule

# The tree of "Use of Exclude and Include Filters" (aws s3 help topic), under a prefix.
TREE = (".git/config", ".git/description", "foo.txt", "bar.txt", "baz.jpg")


def kept(rules: list[Rule], keys: tuple[str, ...] = TREE, prefix: str = "foo/") -> list[str]:
    filters = Filters.rooted(rules, "bucket", prefix, "bucket2", "")
    return [key for key in keys if filters.included("bucket", prefix + key)]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # No filter: everything.
        ([], list(TREE)),
        # --exclude ".git/*": the two .git files go.
        ([("exclude", ".git/*")], ["foo.txt", "bar.txt", "baz.jpg"]),
        # --exclude "ba*": bar.txt and baz.jpg go.
        ([("exclude", "ba*")], [".git/config", ".git/description", "foo.txt"]),
        # --exclude "*" --include "*.txt": only .txt files.
        ([("exclude", "*"), ("include", "*.txt")], ["foo.txt", "bar.txt"]),
        # --include "*.txt" --exclude "*": the later filter wins, nothing is left.
        ([("include", "*.txt"), ("exclude", "*")], []),
        # Only --include: everything is included by default, so nothing changes.
        ([("include", "*.txt")], list(TREE)),
        # --exclude "*" --include "*.jpg": only .jpg.
        ([("exclude", "*"), ("include", "*.jpg")], ["baz.jpg"]),
        # --exclude "*" --include "*.jpg" --include "*.txt".
        (
            [("exclude", "*"), ("include", "*.jpg"), ("include", "*.txt")],
            ["foo.txt", "bar.txt", "baz.jpg"],
        ),
    ],
)
def test_documented_filter_examples(rules: list[Rule], expected: list[str]) -> None:
    assert kept(rules) == expected


@pytest.mark.parametrize(
    ("rules", "keys", "expected"),
    [
        # aws s3 cp example 8: --exclude "another/*" on test1.txt, another/test1.txt.
        ([("exclude", "another/*")], ("test1.txt", "another/test1.txt"), ["test1.txt"]),
        # aws s3 sync example 6: --exclude "*another/*".
        ([("exclude", "*another/*")], ("test1.txt", "another/test5.txt"), ["test1.txt"]),
        # cp: --exclude "*" --include "*.log" keeps logs at any depth ("*" matches "/").
        (
            [("exclude", "*"), ("include", "*.log")],
            ("test/test.log", "test3.log", "test2.txt", "test/notes.md"),
            ["test/test.log", "test3.log"],
        ),
        # ? and [seq] / [!seq], as fnmatch.
        ([("exclude", "file?.csv")], ("file1.csv", "file10.csv"), ["file10.csv"]),
        ([("exclude", "[ab]*")], ("a.txt", "b.txt", "c.txt"), ["c.txt"]),
        ([("exclude", "[!ab]*")], ("a.txt", "b.txt", "c.txt"), ["a.txt", "b.txt"]),
        # Case-sensitive, as S3 keys are.
        ([("exclude", "*.JPG")], ("a.jpg", "b.JPG"), ["a.jpg"]),
        # A pattern is relative to the prefix: an absolute-looking one matches nothing.
        ([("exclude", "/test1.txt")], ("test1.txt",), ["test1.txt"]),
    ],
)
def test_more_filter_rules(rules: list[Rule], keys: tuple[str, ...], expected: list[str]) -> None:
    assert kept(rules, keys, prefix="") == expected


def test_patterns_are_rooted_at_the_prefix_not_the_bucket() -> None:
    """'data/*' under the prefix 'data/' means 'data/data/*', as in aws s3."""
    filters = Filters.rooted([("exclude", "data/*")], "b", "data/", "b2", "out/")
    assert filters.included("b", "data/x.csv")
    assert not filters.included("b", "data/data/x.csv")


def test_patterns_also_apply_to_the_destination_side() -> None:
    """Sync --delete filters destination keys with the destination's root (aws-cli's Filter)."""
    filters = Filters.rooted([("exclude", "*.tmp")], "src", "in/", "dst", "out/")
    assert not filters.included("dst", "out/scratch.tmp")
    assert filters.included("dst", "out/keep.csv")


def test_unknown_rule_kind_is_bad_input() -> None:
    with pytest.raises(ValueError, match="include or exclude"):
        Filters.rooted([("ignore", "*")], "b", "", "c", "")  # type: ignore[list-item]
