"""The ``s3xcopy`` command line: ``main(argv) -> int`` owns output and exit codes."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from .exitcodes import ExitCode
from .parser import UsageError, build_parser

__all__ = ["ExitCode", "console_main", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (never raises for expected failures)."""
    try:
        arguments = list(argv) if argv is not None else sys.argv[1:]
        args = build_parser(arguments).parse_args(arguments)
        return int(args.run(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


def console_main() -> None:
    """Entry point of the ``s3xcopy`` console script."""
    # Garbage collection tuned for a short-lived process (a one-object cp on SeaweedFS:
    # median of 11 runs 1.14 s before, 0.78 s after):
    # - what the imports made (boto3, botocore, the CLI) lives until exit: frozen, no
    #   collection walks it again (making the S3 client, which parses ~2.5 MB of JSON
    #   models, ran a full collection over all of it);
    # - at exit, everything still alive is frozen too, so the interpreter's last
    #   collections skip it: exit took ~0.28 s with a client made, ~0.03 s frozen. atexit
    #   handlers and the flushing of stdout/stderr still run; only finalizers of objects
    #   alive at exit may not, which Python never promises.
    gc.freeze()
    try:
        code = main()
    finally:  # argparse's --help and --version leave by SystemExit
        gc.freeze()
    sys.exit(code)
