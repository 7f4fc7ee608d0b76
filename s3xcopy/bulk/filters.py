"""``--include`` / ``--exclude`` with ``aws s3``'s rules, so scripts keep their meaning.

As in aws-cli (``awscli/customizations/s3/filters.py``): every object starts
included; the rules are applied in the order given and the last one that matches
decides. A pattern is matched with ``fnmatch`` (``*`` also matches ``/``, ``?`` one
character, ``[seq]`` and ``[!seq]``) against the whole ``bucket/key`` path, with the
pattern joined to the root of the source *and* of the destination (``bucket/prefix/``),
so a pattern is effectively relative to the prefix being copied. Matching is
case-sensitive, as S3 keys are.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidInputError

RuleKind = Literal["include", "exclude"]
Rule = tuple[RuleKind, str]


def s3_root(bucket: str, prefix: str) -> str:
    """The root a pattern is joined to: ``bucket/prefix`` (aws-cli's ``_get_s3_root``)."""
    return f"{bucket}/{prefix}"


@dataclass(frozen=True)
class Filters:
    """Ordered include/exclude rules rooted at the source and destination prefixes."""

    rules: tuple[Rule, ...] = ()
    source_root: str = ""
    dest_root: str = ""

    def __post_init__(self) -> None:
        for kind, pattern in self.rules:
            if kind not in ("include", "exclude"):
                raise InvalidInputError(f"filter rule must be include or exclude, not {kind!r}")
            if not isinstance(pattern, str):
                raise InvalidInputError(f"filter pattern must be a string, not {pattern!r}")

    @classmethod
    def rooted(
        cls,
        rules: Sequence[Rule],
        source_bucket: str,
        source_prefix: str,
        dest_bucket: str,
        dest_prefix: str,
    ) -> Filters:
        return cls(
            tuple(rules),
            s3_root(source_bucket, source_prefix),
            s3_root(dest_bucket, dest_prefix),
        )

    def included(self, bucket: str, key: str) -> bool:
        """True when ``bucket/key`` passes the rules (an object of either side)."""
        if not self.rules:
            return True
        path = f"{bucket}/{key}"
        verdict = True
        for kind, pattern in self.rules:
            # aws-cli tries the pattern under both roots; either match applies the rule.
            for root in (self.source_root, self.dest_root):
                if fnmatch.fnmatchcase(path, posixpath.join(root, pattern)):
                    verdict = kind == "include"
        return verdict
