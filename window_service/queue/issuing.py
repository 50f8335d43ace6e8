"""Issuing tickets under load: kiosk requests that arrive together share one transaction.

Every ticket has to be numbered under its counter's lock and committed before its number is
shown, and on PostgreSQL a commit waits for the WAL to reach the disk (several milliseconds on
an ordinary disk). One commit per ticket would hold the hall's locks through one disk flush per
ticket and cap a hall at a few hundred tickets a second, whatever the CPU. So the requests that
arrive while a batch is being written wait in a queue and form the next batch: one
transaction, one counter update per prefix, one flush for all of them (group commit). Nothing
is weakened: each ticket is still numbered in the transaction that stores it, a failed batch
hands out no number at all, and each request still gets its own answer or error. A batch that
fails in the database is retried one request at a time, so one request cannot fail another.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from ..api.errors import ApiError
from ..auth.principal import Principal
from ..state import AppState
from .hall_batch import HallBatches, Out, Pending, built
from .schemas import TicketCreate, TicketOut

log = logging.getLogger("window_service.queue")

#: At most this many requests share one transaction.
MAX_BATCH = 64
#: At most this many halls' transactions of one batch at a time (each takes a pooled
#: connection; the pool also serves every other request).
HALLS_AT_ONCE = 4


async def _side_by_side(write: Any, by_hall: dict[str, list[Pending]], out: list[Any]) -> None:
    """``write`` each hall's requests, up to ``HALLS_AT_ONCE`` halls at a time."""
    slots = asyncio.Semaphore(HALLS_AT_ONCE)

    async def one(code: str, items: list[Pending]) -> None:
        async with slots:
            await write(code, items, out)

    await asyncio.gather(*(one(code, items) for code, items in by_hall.items()))


class IssueQueue:
    """The process's queue of issue requests and the task that writes them in batches."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._pending: list[Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._batches = HallBatches(state)

    async def issue(
        self, hall_code: str, body: TicketCreate, principal: Principal, base_url: str | None
    ) -> tuple[TicketOut, bool]:
        """The ticket for this request and whether it was created (False: idempotent repeat)."""
        future: asyncio.Future[tuple[Out, bool]] = asyncio.get_running_loop().create_future()
        self._pending.append(Pending(hall_code, body, principal, base_url, future))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        out, created = await future
        return built(out), created

    async def _drain(self) -> None:
        # One batch at a time (measured with bench/issue.py on 2 cores: two at a time lost,
        # more smaller transactions cost more than their overlap gained). Each batch is one
        # transaction; the requests that arrive while it is written form the next one.
        #
        # A batch's answers are handed out only once the next batch is under way, that is
        # waiting for the database (on SQLite: for aiosqlite's thread). Sending the answers
        # and reading the requests that follow then overlap with that wait, instead of
        # coming between two batches while the database idles.
        # For the same reason a new ticket's answer is built by its request's task, once
        # handed out (``NewTicketOut``). With no next batch they go out at once.
        held: list[_Answered] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                answered: list[_Answered] = []
                task = asyncio.ensure_future(self._run(batch, answered))
                await asyncio.sleep(0)  # the batch runs until it waits for the database
                _hand_out(held)
                held = answered
                await task
        finally:
            _hand_out(held)

    async def _run(self, batch: list[Pending], answered: list[_Answered] | None = None) -> None:
        """Writes the batch; its answers go to ``answered`` (handed out by the caller) or,
        without it, straight to the waiting requests."""
        out: list[_Answered] = [] if answered is None else answered
        by_hall: dict[str, list[Pending]] = {}
        for item in batch:
            by_hall.setdefault(item.hall_code, []).append(item)
        try:
            if len(by_hall) > 1 and self.state.db.dialect == "postgresql":
                # One transaction per hall: each holds only its hall's locks, so they run
                # side by side and their commits' WAL flushes overlap. One after the other,
                # 64 kiosks spread over 20 halls waited for 20 flushes a batch and issued
                # several times fewer tickets than 64 kiosks of one hall (bench/province.py).
                # (SQLite has one writer: there they stay in turn.)
                await _side_by_side(self._write, by_hall, out)
            else:
                for hall_code, items in by_hall.items():
                    await self._write(hall_code, items, out)
        except BaseException as exc:  # cancelled (shutdown): nobody waits forever
            _hand_out(out)
            for item in batch:
                _answer(item, exc)
            raise
        if answered is None:
            _hand_out(out)

    async def _write(
        self, hall_code: str, items: list[Pending], out: list[_Answered], attempt: int = 0
    ) -> None:
        try:
            answers = await self._batches.write(hall_code, items)
        except ApiError as exc:  # the hall itself is unknown: the same answer for all
            out.extend((item, exc) for item in items)
            return
        except Exception as exc:
            if len(items) == 1:
                item = items[0]
                if isinstance(exc, IntegrityError) and item.body.idempotency_key and attempt < 2:
                    # Another transaction stored this key after we looked: it rolled back
                    # with our number; looking again finds the ticket it made.
                    await self._write(hall_code, items, out, attempt + 1)
                else:
                    out.append((item, exc))
                return
            # E.g. two processes racing on one idempotency key: the batch rolled back with
            # every number in it; each request now goes alone and gets its own outcome.
            log.info("issue batch of %d failed (%r); retrying one by one", len(items), exc)
            for item in items:
                await self._write(hall_code, [item], out)
            return
        out.extend(zip(items, answers, strict=True))

    def forget(self, hall_code: str) -> None:
        """Drop the copy of a hall and its services (see ``forget_hall``)."""
        self._batches.forget(hall_code)


#: A request and what it gets back.
_Answered = tuple[Pending, "tuple[Out, bool] | BaseException"]


def _hand_out(answered: list[_Answered]) -> None:
    for item, answer in answered:
        _answer(item, answer)
    answered.clear()


def _answer(item: Pending, answer: tuple[Out, bool] | BaseException) -> None:
    if item.future.done():  # the client went away; the ticket stands (like any commit)
        return
    if isinstance(answer, asyncio.CancelledError):
        item.future.cancel()
    elif isinstance(answer, BaseException):
        item.future.set_exception(answer)
    else:
        item.future.set_result(answer)


def issue_queue(request: Request, state: AppState) -> IssueQueue:
    """The application's issue queue (one per process, created on first use)."""
    return issue_queue_of(request.app, state)


def issue_queue_of(app: Any, state: AppState) -> IssueQueue:
    queue: IssueQueue | None = getattr(app.state, "issue_queue", None)
    if queue is None or queue.state is not state:
        queue = IssueQueue(state)
        app.state.issue_queue = queue
    return queue


def forget_hall(request: Request, hall_code: str) -> None:
    """Drop this process's cached copy of a hall and its services (after an admin change).

    Other processes pick the change up when their copy expires (``hall_batch.HALL_CACHE_SECONDS``).
    """
    queue: IssueQueue | None = getattr(request.app.state, "issue_queue", None)
    if queue is not None:
        queue.forget(hall_code)
