"""``copy_prefix()`` and ``sync_prefix()``: copy many objects, for ETL code and the CLI.

Both validate everything first (URIs, prefixes, extra args, filters, the journal)
and raise InvalidInputError before any request is sent; they return a
:class:`BulkRun`, which does the work as it is iterated (or on ``result()``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from ..api import build_engine
from ..calls import RequestGate
from ..config import CopyConfig
from ..errors import InvalidInputError
from ..events import Listener
from ..journal import Journal
from ..location import S3Location
from ..planning import validate_extra_args
from ..throttle import AdaptiveGate
from .compare import SYNC_MODES, SyncMode
from .filters import Filters, Rule
from .listing import PAGE_SIZE, check_prefixes, dir_prefix
from .runner import BulkJob, BulkRun

PathLike = str | os.PathLike[str]


def copy_prefix(
    source: str | S3Location,
    dest: str | S3Location,
    config: CopyConfig | None = None,
    session: boto3.session.Session | None = None,
    extra_args: Mapping[str, Any] | None = None,
    *,
    filters: Sequence[Rule] = (),
    journal: PathLike | None = None,
    dryrun: bool = False,
    force_glacier_transfer: bool = False,
    page_size: int = PAGE_SIZE,
    endpoint_url: str | None = None,
    region: str | None = None,
    source_session: boto3.session.Session | None = None,
    source_region: str | None = None,
    source_endpoint_url: str | None = None,
    listener: Listener | None = None,
    cancel: threading.Event | None = None,
    gate: RequestGate | None = None,
) -> BulkRun:
    """Copy every object under the ``source`` prefix to the ``dest`` prefix, as ``aws s3 cp
    --recursive`` does (``s3://a/p`` means the prefix ``p/``; keys keep their path below it).

    ``filters``: ``[("exclude", "*"), ("include", "*.csv")]``, aws s3's order rules.
    ``journal``: an SQLite file recording progress; the same call again skips what is
    done and resumes open multipart uploads. ``page_size``: keys per listing request.
    ``config.max_concurrency`` is the budget of requests in flight for the whole run.
    ``dryrun`` lists and reports, copies nothing.

    >>> with copy_prefix("s3://src/logs/", "s3://dst/logs/") as run:  # doctest: +SKIP
    ...     for outcome in run:
    ...         print(outcome.status, outcome.dest)
    ...     print(run.summary.objects, run.summary.failed)
    """
    return _start(
        "cp", source, dest, config, session, extra_args, filters, journal, dryrun,
        delete=False, mode="default", force_glacier_transfer=force_glacier_transfer,
        page_size=page_size,
        endpoint_url=endpoint_url, region=region, source_session=source_session,
        source_region=source_region, source_endpoint_url=source_endpoint_url,
        listener=listener, cancel=cancel, gate=gate,
    )  # fmt: skip


def sync_prefix(
    source: str | S3Location,
    dest: str | S3Location,
    config: CopyConfig | None = None,
    session: boto3.session.Session | None = None,
    extra_args: Mapping[str, Any] | None = None,
    *,
    delete: bool = False,
    compare: SyncMode = "default",
    filters: Sequence[Rule] = (),
    journal: PathLike | None = None,
    dryrun: bool = False,
    force_glacier_transfer: bool = False,
    page_size: int = PAGE_SIZE,
    endpoint_url: str | None = None,
    region: str | None = None,
    source_session: boto3.session.Session | None = None,
    source_region: str | None = None,
    source_endpoint_url: str | None = None,
    listener: Listener | None = None,
    cancel: threading.Event | None = None,
    gate: RequestGate | None = None,
) -> BulkRun:
    """Make the ``dest`` prefix match the ``source`` prefix, as ``aws s3 sync`` does.

    Copies objects missing at the destination, of another size, or newer at the
    source (``compare``: ``"default"``, ``"size-only"``, ``"exact-timestamps"`` (the
    same as default for S3 to S3, as in aws s3), or ``"checksum"``: full-object
    checksums decide when both sides have one). ``delete`` removes destination keys
    that are not at the source, only after every copy succeeded. Other arguments as
    :func:`copy_prefix`.
    """
    if compare not in SYNC_MODES:
        raise InvalidInputError(f"compare must be one of {', '.join(SYNC_MODES)}, not {compare!r}")
    return _start(
        "sync", source, dest, config, session, extra_args, filters, journal, dryrun,
        delete=delete, mode=compare, force_glacier_transfer=force_glacier_transfer,
        page_size=page_size,
        endpoint_url=endpoint_url, region=region, source_session=source_session,
        source_region=source_region, source_endpoint_url=source_endpoint_url,
        listener=listener, cancel=cancel, gate=gate,
    )  # fmt: skip


def plan_job(
    kind: str,
    source: str | S3Location,
    dest: str | S3Location,
    config: CopyConfig | None = None,
    extra_args: Mapping[str, Any] | None = None,
    filters: Sequence[Rule] = (),
    *,
    dryrun: bool = False,
    delete: bool = False,
    mode: SyncMode = "default",
    force_glacier_transfer: bool = False,
    page_size: int = PAGE_SIZE,
) -> BulkJob:
    """Validate a bulk run's inputs into a BulkJob (pure: no request is sent)."""
    source_location = source if isinstance(source, S3Location) else S3Location.parse(source)
    dest_location = dest if isinstance(dest, S3Location) else S3Location.parse(dest)
    source_prefix, dest_prefix = dir_prefix(source_location), dir_prefix(dest_location)
    check_prefixes(source_location, dest_location, delete=delete)
    args = validate_extra_args(extra_args)
    if "CopySourceIfMatch" in args:
        raise InvalidInputError("CopySourceIfMatch names one object; it cannot apply to a prefix")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise InvalidInputError(f"page size must be a whole number >= 1, not {page_size!r}")
    return BulkJob(
        kind=kind,
        source=source_location,
        dest=dest_location,
        source_prefix=source_prefix,
        dest_prefix=dest_prefix,
        filters=Filters.rooted(
            filters, source_location.bucket, source_prefix, dest_location.bucket, dest_prefix
        ),
        extra_args=args,
        config=config or CopyConfig(),
        dryrun=dryrun,
        delete=delete,
        mode=mode,
        force_glacier_transfer=force_glacier_transfer,
        page_size=page_size,
    )


def _start(
    kind: str,
    source: str | S3Location,
    dest: str | S3Location,
    config: CopyConfig | None,
    session: boto3.session.Session | None,
    extra_args: Mapping[str, Any] | None,
    filters: Sequence[Rule],
    journal: PathLike | None,
    dryrun: bool,
    *,
    delete: bool,
    mode: SyncMode,
    force_glacier_transfer: bool,
    page_size: int,
    endpoint_url: str | None,
    region: str | None,
    source_session: boto3.session.Session | None,
    source_region: str | None,
    source_endpoint_url: str | None,
    listener: Listener | None,
    cancel: threading.Event | None,
    gate: RequestGate | None,
) -> BulkRun:
    job = plan_job(
        kind, source, dest, config, extra_args, filters,
        dryrun=dryrun, delete=delete, mode=mode, force_glacier_transfer=force_glacier_transfer,
        page_size=page_size,
    )  # fmt: skip
    cancel = cancel or threading.Event()
    if gate is None:
        gate = AdaptiveGate(job.config.server_side_concurrency, cancel=cancel)
    executor = ThreadPoolExecutor(
        job.config.server_side_concurrency, thread_name_prefix="s3xcopy-part"
    )
    opened = None
    try:
        engine = build_engine(
            job.config,
            session=session,
            source_session=source_session,
            endpoint_url=endpoint_url,
            region=region,
            source_region=source_region,
            source_endpoint_url=source_endpoint_url,
            listener=listener,
            cancel=cancel,
            gate=gate,
            executor=executor,
            sleep=_interruptible_sleep(cancel),
            lean=True,
            exact_dest=True,  # keys mapped from the listing: one may end in '/'
        )
        engine.check_extra_args(job.extra_args)  # types too, before the first listing
        if journal is not None:  # last: bad input elsewhere must not leave a new file behind
            opened = Journal.open(
                journal,
                source=f"s3://{job.source.bucket}/{job.source_prefix}",
                dest=f"s3://{job.dest.bucket}/{job.dest_prefix}",
                readonly=dryrun,
            )
    except BaseException:
        executor.shutdown(wait=False)
        raise
    return BulkRun(job, engine, gate=gate, executor=executor, journal=opened, cancel=cancel)


def _interruptible_sleep(cancel: threading.Event) -> Callable[[float], None]:
    """A retry backoff that ends early when the run is cancelled."""

    def sleep(seconds: float) -> None:
        cancel.wait(seconds)

    return sleep
