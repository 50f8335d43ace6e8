"""``audit verify --jobs 2``: check 4 (the current rows) in a process of its own.

The chains (checks 0–2) and the current rows (check 4) read different tables and share
nothing but the database, and each takes a Python process's core: a province's history
(bench/province.py, 6.7 million records) spent 55 s on the chains and 92 s on the rows, one
after the other. With ``--jobs 2`` the rows are checked in a second process meanwhile; the
verdict is the same, and so is the order of the breaches reported: a breach of the chains or
anchors comes first, as it does without. Each process reads committed data as the single
process does, statement by statement.

The second process is started fresh (``spawn``): it imports only what ``prepare`` imports (the
command passes the import of every table, ``window_service.models``; audit knows no domain).
It counts the rows it has checked into shared memory, so the progress bar goes on.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from ..db import create_database
from .progress import REDRAW_SECONDS, Progress
from .verify_chain import Breach
from .verify_rows import verify_rows


class _Counting(Progress):
    """The second process's progress: the rows checked, added to the shared counter."""

    def __init__(self, counter: Any) -> None:
        super().__init__(enabled=False)
        self.counter = counter

    def advance(self, n: int = 1) -> None:
        self.done += n
        with self.counter.get_lock():
            self.counter.value += n


def _check_rows(
    url: str, prepare: Callable[[], None] | None, counter: Any, out: Connection
) -> None:
    """The second process: check 4, then send ``("breach", Breach | None)`` or
    ``("error", text)``."""
    try:
        if prepare is not None:
            prepare()

        async def run() -> Breach | None:
            db = create_database(url)
            try:
                async with db.read() as session:
                    return await verify_rows(session, progress=_Counting(counter))
            finally:
                await db.dispose()

        out.send(("breach", asyncio.run(run())))
    except BaseException as exc:  # the parent reports it; nothing is left unsaid
        out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        out.close()


class RowsApart:
    """Check 4 under way in a second process (started when made); ``result`` waits for its
    breach, ``close`` stops the process if it is still checking."""

    def __init__(self, url: str, prepare: Callable[[], None] | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._counter = context.Value("q", 0)
        self._answer, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_check_rows,
            args=(url, prepare, self._counter, sender),
            name="audit-verify-rows",
            daemon=True,
        )
        self._process.start()
        sender.close()

    async def result(self, progress: Progress) -> Breach | None:
        """The first breach of the current rows, or None; the bar follows the second
        process's count meanwhile."""
        while not self._answer.poll():
            progress.advance(self._counter.value - progress.done)
            await asyncio.sleep(REDRAW_SECONDS)
        progress.advance(self._counter.value - progress.done)
        try:
            kind, value = self._answer.recv()
        except EOFError:
            kind, value = "error", f"the process checking the rows ended ({self._process.exitcode})"
        self._process.join()
        if kind == "error":
            raise RuntimeError(f"audit verify: checking the current rows failed: {value}")
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the second process if it is still checking (a breach was found before)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._answer.close()
