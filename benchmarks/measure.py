"""Run one client command and measure it: wall time, CPU (user+sys) and peak RSS of the child.

``os.wait4`` gives the CPU time of exactly that child (and of the descendants it waited
for), so the harness's own work never leaks into the numbers. Peak RSS needs care: a
child's ``ru_maxrss`` starts from the high-water mark it inherited at fork, before
``exec``, i.e. the harness's own RSS. So the tool's ``VmHWM`` (per address space, so it
restarts at ``exec``) is sampled while it runs, and ``ru_maxrss`` is trusted only when it
is above what the child could have inherited. Every run is bounded by a timeout; on
timeout the child's whole process group is killed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO


@dataclass(frozen=True)
class Measurement:
    """What one command cost, and how it ended."""

    argv: tuple[str, ...]
    wall_seconds: float
    user_seconds: float
    sys_seconds: float
    #: Peak resident set of the tool's process; None when it ended before one sample.
    max_rss_kib: int | None
    returncode: int
    timed_out: bool
    stdout_tail: str
    stderr_tail: str

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.sys_seconds

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _tail(handle: IO[bytes], limit: int = 2000) -> str:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - limit))
    return handle.read().decode("utf-8", "replace").strip()


SAMPLE_SECONDS = 0.02


def vm_hwm_kib(pid: int | str) -> int | None:
    """Peak resident set (``VmHWM``) of a live process's current program, in KiB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | None = None,
) -> Measurement:
    """Run ``argv`` to completion (or ``timeout`` seconds) and return its measurement."""
    inherited = vm_hwm_kib("self") or 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # its own group, so a timeout can end all of it
        )
        reaped: list[tuple[float, int, resource.struct_rusage]] = []

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            reaped.append((time.perf_counter(), status, usage))

        waiter = threading.Thread(target=reap, name="wait4", daemon=True)
        waiter.start()
        sampled = 0
        deadline = started + timeout
        try:
            while waiter.is_alive() and time.perf_counter() < deadline:
                sampled = max(sampled, vm_hwm_kib(process.pid) or 0)
                waiter.join(SAMPLE_SECONDS)
        except BaseException:
            # Ctrl-C reaches the harness, not the tool (it has its own session): end it too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            waiter.join(30)
            raise
        timed_out = waiter.is_alive()
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            waiter.join(30)
        # Whatever the child left behind in its group goes too (a tool's helper processes).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if reaped:
            end, status, usage = reaped[0]
            returncode = os.waitstatus_to_exitcode(status)
            user, system = usage.ru_utime, usage.ru_stime
            # Above the inherited mark, ru_maxrss is the tool's own (and exact) peak;
            # a run too short to be sampled even once has no known peak.
            peak = max(sampled, usage.ru_maxrss) if usage.ru_maxrss > inherited else sampled
            rss = peak or None
        else:  # not even SIGKILL ended it within 30 s: report what we know
            end, returncode, user, system, rss = time.perf_counter(), -9, 0.0, 0.0, None
        process.returncode = returncode  # reaped by wait4: Popen must not wait again
        return Measurement(
            argv=tuple(argv),
            wall_seconds=end - started,
            user_seconds=user,
            sys_seconds=system,
            max_rss_kib=rss,
            returncode=returncode,
            timed_out=timed_out,
            stdout_tail=_tail(out),
            stderr_tail=_tail(err),
        )
