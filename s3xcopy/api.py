"""``copy_object()``: the library's front door for ETL code."""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from .calls import RequestGate, translate
from .clients import LazyClient, s3_client
from .config import CopyConfig
from .engine import CopyEngine
from .errors import InvalidInputError
from .events import BytesCopied, CopyPlanned, Event, Listener, StrategyChanged
from .journal import Journal, journaled_copy
from .location import S3Location
from .planning import resolve_dest
from .results import CopyResult
from .wire import LeanCopyObject

Progress = bool | Callable[[int], None] | None


def copy_object(
    source: str | S3Location,
    dest: str | S3Location,
    config: CopyConfig | None = None,
    session: boto3.session.Session | None = None,
    source_session: boto3.session.Session | None = None,
    extra_args: Mapping[str, Any] | None = None,
    progress: Progress = None,
    endpoint_url: str | None = None,
    *,
    region: str | None = None,
    source_region: str | None = None,
    source_endpoint_url: str | None = None,
    listener: Listener | None = None,
    cancel: threading.Event | None = None,
    journal: str | os.PathLike[str] | None = None,
) -> CopyResult:
    """Copy one S3 object to another location; return what was done.

    ``source`` is ``s3://bucket/key`` (``?versionId=...`` allowed); ``dest`` is an
    object or a prefix ending in ``/`` (the source's name is appended, as
    ``aws s3 cp`` does). ``session`` sends the copy (default: boto3's default chain);
    ``source_session`` reads the source (facts, and its bytes when streaming) when another
    identity must. The copy is server-side unless no server-side copy can serve both sides:
    then (``config.stream="auto"``) it streams through this process, ranged GetObject with
    ``source_session`` / ``source_endpoint_url`` / ``source_region``, UploadPart or
    PutObject with ``session``: when the endpoints or partitions differ, or when a
    server-side copy is denied because the destination identity cannot read the source
    and ``source_session`` is another identity. ``result.strategy`` is then ``"stream"``
    and ``result.fallback`` says why.
    ``extra_args`` are destination settings in boto3's ExtraArgs form (SSEKMSKeyId,
    ACL, StorageClass, Metadata + MetadataDirective, Tagging + TaggingDirective,
    ContentType, ExpectedBucketOwner, ExpectedSourceBucketOwner, RequestPayer, ...).
    ``progress``: None/False silent; True a tqdm bar on stderr; a callable is called
    with the bytes each finished part added (boto3's Callback convention).

    ``journal``: an SQLite file (``cp --journal``'s) that makes the copy resumable: an
    interruption (``cancel``, Ctrl-C, a killed process) keeps the multipart upload, and the
    same call again continues it, copying only the parts S3 does not have; once the copy
    is made, the same call again copies nothing and returns the recorded result with
    ``skipped`` set (after one HeadObject showing the destination still holds it). A
    journal belongs to one source and destination (another pair is refused): one file per
    copy, or ``copy_prefix(journal=...)`` for many objects under a prefix.

    Raises an ``S3xCopyError`` subclass; the botocore error is its ``__cause__``.
    """
    source_location = source if isinstance(source, S3Location) else S3Location.parse(source)
    dest_location = dest if isinstance(dest, S3Location) else S3Location.parse(dest)
    listeners = [x for x in (listener, progress_listener(progress)) if x is not None]
    engine = build_engine(
        config,
        session=session or SHARED_CLIENTS.default_session(),
        source_session=source_session,
        endpoint_url=endpoint_url,
        region=region,
        source_region=source_region,
        source_endpoint_url=source_endpoint_url,
        listener=_fan_out(listeners) if listeners else None,
        cancel=cancel,
        make_client=SHARED_CLIENTS.s3,
    )
    if journal is None:
        return engine.copy(source_location, dest_location, extra_args)
    args = dict(extra_args or {})
    resolve_dest(source_location, dest_location)  # bad input before the journal file is made
    engine.check_extra_args(args)
    opened = Journal.open(journal, source=str(source_location), dest=str(dest_location))
    assert opened is not None  # opened for writing: made when missing
    with opened:
        return journaled_copy(engine, source_location, dest_location, args, opened)


class SharedClients:
    """The sessions and S3 clients ``copy_object()`` keeps between calls, as an app keeps one.

    ETL code calls ``copy_object()`` once per object. Making a boto3 session (which loads
    botocore's data) and an S3 client for every call cost about 0.3 s of CPU per call on
    SeaweedFS, against about 20 ms for the copy itself, and opened new connections each
    time. Kept here instead:

    * one default session (boto3's default credential chain) per value of the process's
      ``AWS_*`` environment variables, so a changed ``AWS_PROFILE`` or key is seen as a new
      session would see it (boto3's own default session never looks again);
    * one S3 client per session (held weakly: it goes with the session), endpoint, region
      and pool size. boto3 clients are thread-safe; refreshable credentials refresh
      themselves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._default: tuple[tuple[tuple[str, str], ...], boto3.session.Session] | None = None
        self._clients: weakref.WeakKeyDictionary[
            boto3.session.Session, dict[tuple[str | None, str | None, int], Any]
        ] = weakref.WeakKeyDictionary()

    def default_session(self) -> boto3.session.Session:
        """boto3's default chain, made again only when the ``AWS_*`` environment changed."""
        environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
        with self._lock:
            if self._default is None or self._default[0] != environment:
                self._default = (environment, boto3.session.Session())
            return self._default[1]

    def s3(
        self,
        session: boto3.session.Session | None,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        max_concurrency: int = 10,
    ) -> Any:
        """:func:`~s3xcopy.clients.s3_client`, made once per session and settings."""
        session = session or self.default_session()
        key = (endpoint_url, region, max_concurrency)
        with self._lock:
            kept = self._clients.setdefault(session, {})
            if key not in kept:
                kept[key] = s3_client(
                    session, endpoint_url=endpoint_url, region=region,
                    max_concurrency=max_concurrency,
                )  # fmt: skip
            return kept[key]


#: What ``copy_object()`` keeps between calls.
SHARED_CLIENTS = SharedClients()


def build_engine(
    config: CopyConfig | None = None,
    *,
    session: boto3.session.Session | None = None,
    source_session: boto3.session.Session | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    source_region: str | None = None,
    source_endpoint_url: str | None = None,
    listener: Listener | None = None,
    cancel: threading.Event | None = None,
    gate: RequestGate | None = None,
    executor: Executor | None = None,
    sleep: Callable[[float], None] = time.sleep,
    lean: bool = False,
    exact_dest: bool = False,
    make_client: Callable[..., Any] = s3_client,
) -> CopyEngine:
    """A CopyEngine with s3xcopy's clients for these credentials and endpoints.

    ``sleep`` is the retry backoff's sleep; tests pass a fake so they never wait.
    ``lean``: send CopyObject with :class:`~s3xcopy.wire.LeanCopyObject` (bulk copies of
    small objects, where botocore's per-request CPU is the bottleneck).
    ``exact_dest``: every destination is the object key itself (bulk copies).
    ``make_client``: makes the S3 clients (:func:`~s3xcopy.clients.s3_client`'s signature);
    ``copy_object()`` passes one that keeps them between calls.
    """
    config = config or CopyConfig()
    session = session or boto3.session.Session()
    for url in (endpoint_url, source_endpoint_url):
        _check_endpoint_url(url)
    try:
        client = make_client(
            session,
            endpoint_url=endpoint_url,
            region=region,
            max_concurrency=max(config.max_concurrency, config.server_side_concurrency),
        )
        source_client = client
        if source_session is not None or source_region or source_endpoint_url:
            source_client = make_client(
                source_session or session,
                endpoint_url=source_endpoint_url or endpoint_url,
                region=source_region or region,
                max_concurrency=max(config.max_concurrency, config.server_side_concurrency),
            )
        # Made on first use: most copies never ask who they are or describe a key.
        sts = LazyClient(
            lambda: side_client("sts", session, endpoint_url=endpoint_url, region=region)
        )
        source_sts = None
        if source_client is not client:  # its own credentials, perhaps refused on their own
            source_sts = LazyClient(
                lambda: side_client(
                    "sts",
                    source_session or session,
                    endpoint_url=source_endpoint_url or endpoint_url,
                    region=source_region or region,
                )
            )
        kms = LazyClient(
            lambda: side_client("kms", session, endpoint_url=endpoint_url, region=region)
        )
        # A second identity lets a copy the destination may not read be streamed with it.
        source_identity = source_session is not None and source_session is not session
        lean_copy = LeanCopyObject.for_client(client, session.get_credentials()) if lean else None
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise InvalidInputError(str(exc)) from exc
    except BotoCoreError as exc:
        raise translate(exc, None) from exc
    return CopyEngine(
        client,
        source_client=source_client,
        sts_client=sts,
        source_sts_client=source_sts,
        kms_client=kms,
        config=config,
        listener=listener,
        cancel=cancel,
        gate=gate,
        executor=executor,
        sleep=sleep,
        region=region or client.meta.region_name,
        source_identity=source_identity,
        lean_copy=lean_copy,
        exact_dest=exact_dest,
    )


def _check_endpoint_url(url: str | None) -> None:
    """An endpoint URL botocore can send to: http(s) with a host (others fail only when sent)."""
    if url is None:
        return
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"invalid endpoint URL {url!r}: expected http://host[:port] or https://host[:port]"
        )


def side_client(
    service: Literal["sts", "kms"],
    session: boto3.session.Session | None,
    *,
    endpoint_url: str | None,
    region: str | None,
) -> Any:
    """An STS or KMS client quick to give up: they only enrich diagnoses, never decide."""
    session = session or boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region or session.region_name or "us-east-1",
        config=Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1}),
    )


def progress_listener(progress: Progress) -> Listener | None:
    """A listener that reports copied bytes to a tqdm bar or a callable, never past the size."""
    if not progress:
        return None
    state: dict[str, Any] = {"size": 0, "done": 0, "bar": None}

    def report(amount: int) -> None:
        amount = max(0, min(amount, state["size"] - state["done"]))
        state["done"] += amount
        if state["bar"] is not None:
            state["bar"].update(amount)
            if state["done"] >= state["size"]:
                state["bar"].close()
        elif callable(progress) and amount:
            progress(amount)

    def listen(event: Event) -> None:
        if isinstance(event, CopyPlanned):
            state["size"] = event.plan.size
            if progress is True:
                from tqdm import tqdm

                state["bar"] = tqdm(
                    total=event.plan.size, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=event.plan.dest.key[-40:] or str(event.plan.dest), leave=False,
                )  # fmt: skip
        elif isinstance(event, BytesCopied):
            report(event.bytes)
        elif isinstance(event, StrategyChanged) and state["bar"] is not None:
            state["bar"].reset(total=state["size"])
            state["done"] = 0

    return listen


def _fan_out(listeners: list[Listener]) -> Listener:
    def listen(event: Event) -> None:
        for listener in listeners:
            listener(event)

    return listen
