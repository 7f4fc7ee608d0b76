"""S3's XML answers, rendered by hand: small, fast, and exactly the elements clients read."""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import quote
from xml.sax.saxutils import escape

from .store import Listing, Part, StoredObject, Upload

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"


def iso_time(t: float) -> str:
    """S3's XML timestamp: ``2024-05-01T12:00:00.000Z``."""
    whole = int(t)
    millis = int((t - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def doc(root: str, inner: str) -> bytes:
    return f'{DECL}<{root} xmlns="{NS}">{inner}</{root}>'.encode()


def error(code: str, message: str, resource: str, request_id: str) -> bytes:
    inner = (
        el("Code", code)
        + el("Message", message)
        + (el("Resource", resource) if resource else "")
        + el("RequestId", request_id)
    )
    return f"{DECL}<Error>{inner}</Error>".encode()


def list_buckets(buckets: Iterable[tuple[str, float]]) -> bytes:
    items = "".join(
        f"<Bucket>{el('Name', name)}{el('CreationDate', iso_time(created))}</Bucket>"
        for name, created in buckets
    )
    owner = f"<Owner>{el('ID', OWNER_ID)}{el('DisplayName', 'model')}</Owner>"
    return doc("ListAllMyBucketsResult", f"{owner}<Buckets>{items}</Buckets>")


def _enc(text: str, url: bool) -> str:
    return quote(text, safe="/") if url else text


def _contents(key: str, obj: StoredObject, url: bool, owner: bool) -> str:
    owner_xml = f"<Owner>{el('ID', OWNER_ID)}{el('DisplayName', 'model')}</Owner>" if owner else ""
    return (
        f"<Contents>{el('Key', _enc(key, url))}{el('LastModified', iso_time(obj.last_modified))}"
        f"{el('ETag', chr(34) + obj.etag + chr(34))}{el('Size', obj.size)}"
        f"{owner_xml}{el('StorageClass', obj.storage_class)}</Contents>"
    )


def list_objects(
    bucket: str,
    page: Listing,
    *,
    v2: bool,
    prefix: str,
    delimiter: str,
    max_keys: int,
    url: bool,
    marker: str = "",
    continuation: str | None = None,
    next_continuation: str | None = None,
    start_after: str = "",
    fetch_owner: bool = False,
) -> bytes:
    """ListObjectsV2 (``v2``) or ListObjects (V1) result."""
    parts = [el("Name", bucket), el("Prefix", _enc(prefix, url))]
    if v2:
        if continuation is not None:
            parts.append(el("ContinuationToken", continuation))
        if start_after:
            parts.append(el("StartAfter", _enc(start_after, url)))
        parts.append(el("KeyCount", len(page.entries) + len(page.common_prefixes)))
    else:
        parts.append(el("Marker", _enc(marker, url)))
        if page.truncated and page.last is not None:
            parts.append(el("NextMarker", _enc(page.last, url)))
    parts.append(el("MaxKeys", max_keys))
    if delimiter:
        parts.append(el("Delimiter", _enc(delimiter, url)))
    if url:
        parts.append(el("EncodingType", "url"))
    parts.append(el("IsTruncated", "true" if page.truncated else "false"))
    if v2 and next_continuation is not None:
        parts.append(el("NextContinuationToken", next_continuation))
    parts.extend(_contents(k, o, url, owner=fetch_owner or not v2) for k, o in page.entries)
    parts.extend(
        f"<CommonPrefixes>{el('Prefix', _enc(p, url))}</CommonPrefixes>"
        for p in page.common_prefixes
    )
    return doc("ListBucketResult", "".join(parts))


def list_uploads(bucket: str, uploads: list[Upload], prefix: str) -> bytes:
    items = "".join(
        f"<Upload>{el('Key', u.key)}{el('UploadId', u.upload_id)}"
        f"{el('Initiated', iso_time(u.initiated))}{el('StorageClass', u.storage_class)}</Upload>"
        for u in uploads
    )
    head = (
        el("Bucket", bucket)
        + "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
        + el("Prefix", prefix)
        + el("MaxUploads", 1000)
        + el("IsTruncated", "false")
    )
    return doc("ListMultipartUploadsResult", head + items)


def list_parts(
    bucket: str,
    key: str,
    upload: Upload,
    parts: list[tuple[int, Part]],
    *,
    marker: int,
    max_parts: int,
    truncated: bool,
) -> bytes:
    items = "".join(
        f"<Part>{el('PartNumber', n)}{el('LastModified', iso_time(p.last_modified))}"
        f"{el('ETag', chr(34) + p.etag + chr(34))}{el('Size', p.size)}</Part>"
        for n, p in parts
    )
    next_marker = parts[-1][0] if parts else marker
    head = (
        el("Bucket", bucket)
        + el("Key", key)
        + el("UploadId", upload.upload_id)
        + el("PartNumberMarker", marker)
        + el("NextPartNumberMarker", next_marker)
        + el("MaxParts", max_parts)
        + el("IsTruncated", "true" if truncated else "false")
        + el("StorageClass", upload.storage_class)
    )
    return doc("ListPartsResult", head + items)


def initiate(bucket: str, key: str, upload_id: str) -> bytes:
    inner = el("Bucket", bucket) + el("Key", key) + el("UploadId", upload_id)
    return doc("InitiateMultipartUploadResult", inner)


def complete(location: str, bucket: str, key: str, etag: str) -> bytes:
    inner = (
        el("Location", location) + el("Bucket", bucket) + el("Key", key) + el("ETag", f'"{etag}"')
    )
    return doc("CompleteMultipartUploadResult", inner)


def copy_result(root: str, etag: str, last_modified: float) -> bytes:
    inner = el("LastModified", iso_time(last_modified)) + el("ETag", f'"{etag}"')
    return doc(root, inner)


def delete_result(deleted: list[str], errors: list[tuple[str, str, str]], quiet: bool) -> bytes:
    ok = "" if quiet else "".join(f"<Deleted>{el('Key', k)}</Deleted>" for k in deleted)
    bad = "".join(
        f"<Error>{el('Key', k)}{el('Code', c)}{el('Message', m)}</Error>" for k, c, m in errors
    )
    return doc("DeleteResult", ok + bad)


def tagging(tags: dict[str, str]) -> bytes:
    items = "".join(f"<Tag>{el('Key', k)}{el('Value', v)}</Tag>" for k, v in tags.items())
    return doc("Tagging", f"<TagSet>{items}</TagSet>")


def location() -> bytes:
    return f'{DECL}<LocationConstraint xmlns="{NS}"></LocationConstraint>'.encode()


def versioning() -> bytes:
    return f'{DECL}<VersioningConfiguration xmlns="{NS}"/>'.encode()


def encryption() -> bytes:
    inner = (
        "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>"
    )
    return doc("ServerSideEncryptionConfiguration", inner)
