"""The ``s3xcopy`` command line: ``main(argv) -> int`` owns output and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .exitcodes import ExitCode
from .parser import UsageError, build_parser

__all__ = ["ExitCode", "console_main", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (never raises for expected failures)."""
    try:
        parser = build_parser()
        args = parser.parse_args(list(argv) if argv is not None else None)
        return int(args.run(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


def console_main() -> None:
    """Entry point of the ``s3xcopy`` console script."""
    sys.exit(main())
