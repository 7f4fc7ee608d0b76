"""Requests built from a shape's template are the requests botocore's serializer builds.

A bulk copy sends thousands of CopyObject requests of one shape that differ only in the
key, the copy source and the pinned ETag; the lean sender builds them from the first
one. Each request here is built both ways and compared: keys with every character
class S3 allows, copy sources as strings and dicts, and arguments that must not be
templated. No network.
"""

from __future__ import annotations

from typing import Any

import pytest

from s3xcopy.wire import CHECKED_BUILDS, LeanCopyObject, Route, _same_build, _Template

from .stubbed import lean_sender, offline_client

KEYS = [
    "plain/key.csv",
    "a b/c d",
    "plus+sign&amp=1;semi,comma",
    "per%cent%20/tilde~/star*",
    "question?mark#hash",
    "unicode/日本語/ü/é.txt",
    "/leading/and//double/slashes/",
    "../dots/./here/..",
    "quotes'\"<>|\\^`{}[]@$!",
    "x" * 900,
]


@pytest.fixture(params=["path", "virtual"])
def lean(request: Any) -> tuple[LeanCopyObject, Route]:
    if request.param == "path":
        endpoint = "http://127.0.0.1:9"
    else:
        endpoint = "https://s3.eu-west-1.amazonaws.com"
    sender = lean_sender(offline_client(endpoint, region="eu-west-1"))
    base = endpoint if request.param == "path" else "https://dst-bucket.s3.eu-west-1.amazonaws.com"
    return sender, Route(base, "eu-west-1", "s3", "agent/1.0", native=True)


def args(key: str, source_key: str, *, as_dict: bool = True, **extra: Any) -> dict[str, Any]:
    source: Any = {"Bucket": "src-bucket", "Key": source_key}
    if not as_dict:
        source = f"src-bucket/{source_key}"
    return {
        "Bucket": "dst-bucket",
        "Key": key,
        "CopySource": source,
        "CopySourceIfMatch": '"9b2cf535f27731c974343645a3985328"',
        "MetadataDirective": "COPY",
        "TaggingDirective": "COPY",
        **extra,
    }


@pytest.mark.parametrize("as_dict", [True, False], ids=["source-dict", "source-str"])
def test_every_key_is_built_as_botocore_builds_it(
    lean: tuple[LeanCopyObject, Route], as_dict: bool
) -> None:
    sender, route = lean
    first = args("first/key", "first/key", as_dict=as_dict)
    template = _Template.of(sender._model, first, sender._request_dict(route, first))
    assert template is not None
    for key in KEYS:
        kwargs = args("dest/" + key, key, as_dict=as_dict)
        ours, theirs = template.build(kwargs), sender._request_dict(route, kwargs)
        assert _same_build(ours, theirs), key


def test_a_named_version_and_other_constants_are_kept(lean: tuple[LeanCopyObject, Route]) -> None:
    sender, route = lean
    extra = {"Metadata": {"team": "a"}, "StorageClass": "STANDARD_IA", "ACL": "private"}
    first = args("k1", "s1", MetadataDirective="REPLACE", **extra)
    first["CopySource"]["VersionId"] = "v1"
    template = _Template.of(sender._model, first, sender._request_dict(route, first))
    assert template is not None
    second = args("k 2", "s 2", MetadataDirective="REPLACE", **extra)
    second["CopySource"]["VersionId"] = "v2/+"
    assert _same_build(template.build(second), sender._request_dict(route, second))


def test_other_constants_are_not_built_from_the_template(
    lean: tuple[LeanCopyObject, Route],
) -> None:
    sender, route = lean
    first = args("k1", "s1", Metadata={"team": "a"}, MetadataDirective="REPLACE")
    template = _Template.of(sender._model, first, sender._request_dict(route, first))
    assert template is not None
    assert template.build(args("k2", "s2", Metadata={"team": "a"}, MetadataDirective="REPLACE"))
    assert template.build({**first, "Key": "k2", "Metadata": {"team": "b"}}) is None
    assert template.build({**first, "Key": "k2", "Bucket": "other"}) is None


def test_the_first_requests_are_checked_and_a_differing_template_dropped(
    lean: tuple[LeanCopyObject, Route],
) -> None:
    sender, route = lean
    built = sender._templated(route, args("k0", "s0"))
    (shape,) = sender._templates
    template = sender._templates[shape]
    assert template is not None and _same_build(
        built, sender._request_dict(route, args("k0", "s0"))
    )
    for n in range(CHECKED_BUILDS):
        sender._templated(route, args(f"k{n + 1}", "s"))
    assert template.checks_left == 0  # checked enough: the next ones are the template's
    template.checks_left = 1
    template.url_prefix += "wrong/"  # a template that would send another request
    request = sender._templated(route, args("k-last", "s"))
    assert sender._templates[shape] is None
    assert _same_build(request, sender._request_dict(route, args("k-last", "s")))
    after = sender._templated(route, args("k-after", "s"))  # botocore's build from now on
    assert _same_build(after, sender._request_dict(route, args("k-after", "s")))


def test_a_key_that_encoding_changes_is_always_checked(lean: tuple[LeanCopyObject, Route]) -> None:
    sender, route = lean
    sender._templated(route, args("k0", "s0"))
    (shape,) = sender._templates
    template = sender._templates[shape]
    assert template is not None
    template.checks_left = 0  # past its first requests: plain keys are the template's
    template.url_prefix += "wrong/"  # (as if botocore now encoded differently)
    plain = sender._templated(route, args("plain/key-1.txt", "s"))
    assert plain["url"].endswith("wrong/plain/key-1.txt")  # not checked: nothing to encode
    request = sender._templated(route, args("a key+1", "s"))
    assert sender._templates[shape] is None  # checked, differed, dropped
    assert _same_build(request, sender._request_dict(route, args("a key+1", "s")))
