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
