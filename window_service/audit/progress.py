"""The progress bar of ``audit verify`` (核验进度): drawn only on a terminal.

A verify of a province's history reads millions of records; on a terminal the operator sees
how far it is and how fast it goes. Piped into a file or a log (cron, CI) nothing is drawn,
so the output stays the one verdict line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Redraw at most this often (seconds): drawing costs more than checking a few records.
REDRAW_SECONDS = 0.2
WIDTH = 30


class Progress:
    """Counts what was checked, per phase; draws ``[####    ] 45% 1,234,567/2,700,000 …``."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.phase = ""
        self.total = 0
        self.done = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        self._visible = False

    def start(self, phase: str, total: int) -> None:
        """A new phase (``"chain"``, ``"rows"`` …) of ``total`` items."""
        self.finish()
        self.phase, self.total, self.done = phase, max(total, 0), 0
        self._started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn >= REDRAW_SECONDS:
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        """End the phase's bar (its last state stays on screen, then a new line)."""
        if self.enabled and self.phase:
            self._draw(time.monotonic())
        if self._visible:
            self.stream.write("\n")
            self.stream.flush()
            self._visible = False
        self.phase = ""

    def _draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * WIDTH)
        rate = self.done / max(now - self._started, 1e-6)
        self.stream.write(
            f"\r核验 {self.phase} [{'#' * filled}{' ' * (WIDTH - filled)}] {share:4.0%} "
            f"{self.done:,}/{self.total:,} ({rate:,.0f}/s)"
        )
        self.stream.flush()
        self._visible = True


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def silent() -> Progress:
    """A progress that draws nothing (the checks called from code and tests)."""
    return Progress(enabled=False)
