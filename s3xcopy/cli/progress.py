"""The progress bar of a bulk run: objects done out of those listed, bytes copied.

Shown on a terminal only (see :func:`~s3xcopy.cli.cp.wants_progress`), on stderr, and
cleared when the run ends. The total is unknown while the listing streams in and set
once it is complete; deletions (``sync --delete``) are counted beside the bar, not in it.
Lines the printer writes meanwhile go through :meth:`BulkProgress.writing`, which lifts
the bar off the terminal for the line and puts it back, as ``tqdm.write`` does.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import Any, TextIO

from ..bulk.results import ObjectOutcome
from ..units import format_size

#: Seconds between redraws of the bar (a bulk run finishes hundreds of objects a second).
REDRAW_SECONDS = 0.2


class BulkProgress:
    """A tqdm bar fed with a bulk run's outcomes."""

    def __init__(self, file: TextIO | None = None) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(
            total=None, unit="obj", desc="objects", leave=False, dynamic_ncols=True,
            mininterval=REDRAW_SECONDS, file=file if file is not None else sys.stderr,
        )  # fmt: skip
        self.bytes = 0
        self.failed = 0
        self.deleted = 0

    def seen(self, outcome: ObjectOutcome, sources: int | None) -> None:
        """Count one outcome; ``sources`` is the run's total once its listing is complete."""
        bar = self._bar
        if bar.total is None and sources is not None:
            bar.total = sources
        self.failed += outcome.status == "failed"
        if outcome.action == "delete":
            self.deleted += outcome.status in ("deleted", "dryrun")
        elif outcome.status == "copied":
            self.bytes += outcome.size or 0
        bar.set_postfix_str(self.postfix(), refresh=False)
        if outcome.action != "delete":
            bar.update(1)

    def postfix(self) -> str:
        text = f"{format_size(self.bytes)} copied"
        if self.failed:
            text += f", {self.failed:,} failed"
        if self.deleted:
            text += f", {self.deleted:,} deleted"
        return text

    @property
    def done(self) -> int:
        return int(self._bar.n)

    @property
    def total(self) -> int | None:
        total = self._bar.total
        return None if total is None else int(total)

    def writing(self) -> AbstractContextManager[Any]:
        """A context in which a line may be written: the bar is lifted off, then redrawn."""
        from tqdm import tqdm

        return tqdm.external_write_mode(file=self._bar.fp)

    def close(self) -> None:
        self._bar.close()
