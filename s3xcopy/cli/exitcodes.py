"""The CLI's exit codes: one documented enum, used by every command."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What ``s3xcopy`` returns to the shell."""

    #: Everything asked for was done (a copy that fell back to another strategy included).
    OK = 0
    #: A copy failed (transient faults exhausted, source changed, verification failed, ...).
    FAILED = 1
    #: Bad usage or bad input: unknown flag, malformed URI, impossible size, missing bucket or key.
    USAGE = 2
    #: Access denied: a grant is missing (findings say which), or every failure was a denial.
    ACCESS_DENIED = 3
    #: Interrupted by Ctrl-C / SIGINT (128 + 2, as shells report it).
    INTERRUPTED = 130


#: The line every command's --help ends with.
EXIT_CODES_HELP = (
    "exit codes: 0 ok, 1 a copy failed, 2 bad usage or input, 3 access denied, 130 interrupted"
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for an error that ended a command."""
    from ..errors import (
        AccessDeniedError,
        CopyInterruptedError,
        InvalidInputError,
        NotFoundError,
    )

    if isinstance(error, AccessDeniedError):
        return ExitCode.ACCESS_DENIED
    if isinstance(error, InvalidInputError | NotFoundError):
        return ExitCode.USAGE
    if isinstance(error, CopyInterruptedError | KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.FAILED
