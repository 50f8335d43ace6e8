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
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ..api.errors import ApiError
from ..auth.principal import Principal
from ..halls.lookup import business_day, get_hall
from ..halls.models import Hall, Service
from ..state import AppState
from ..transaction import Actor, Tx
from . import issue
from .estimate import printed_minutes
from .models import FoundTicket, IssuedTicket, Ticket
from .outlook import Outlook, hall_outlook
from .schemas import TicketCreate, TicketOut
from .views import build_ticket_out, ticket_out
from .waiting import WaitingCache, WaitingSnapshot, reserve_ticket_ids, waiting_snapshot

log = logging.getLogger("window_service.queue")

#: At most this many requests share one transaction.
MAX_BATCH = 64
#: How long a process trusts its copy of a hall's settings and services (the inputs of the
#: wait estimate are kept by ``outlook.OUTLOOKS``).
HALL_CACHE_SECONDS = 2.0


@dataclass
class _Pending:
    hall_code: str
    body: TicketCreate
    principal: Principal
    base_url: str | None
    future: asyncio.Future[tuple[Out, bool]] = field(repr=False)


#: At most this many halls' transactions of one batch at a time (each takes a pooled
#: connection; the pool also serves every other request).
HALLS_AT_ONCE = 4


async def _side_by_side(write: Any, by_hall: dict[str, list[_Pending]], out: list[Any]) -> None:
    """``write`` each hall's requests, up to ``HALLS_AT_ONCE`` halls at a time."""
    slots = asyncio.Semaphore(HALLS_AT_ONCE)

    async def one(code: str, items: list[_Pending]) -> None:
        async with slots:
            await write(code, items, out)

    await asyncio.gather(*(one(code, items) for code, items in by_hall.items()))


class IssueQueue:
    """The process's queue of issue requests and the task that writes them in batches."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._halls: dict[str, _HallCopy] = {}
        #: The waiting counts each hall's last batch ended with (see waiting.py).
        self._waiting = WaitingCache()

    async def issue(
        self, hall_code: str, body: TicketCreate, principal: Principal, base_url: str | None
    ) -> tuple[TicketOut, bool]:
        """The ticket for this request and whether it was created (False: idempotent repeat)."""
        future: asyncio.Future[tuple[Out, bool]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(hall_code, body, principal, base_url, future))
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

    async def _run(self, batch: list[_Pending], answered: list[_Answered] | None = None) -> None:
        """Writes the batch; its answers go to ``answered`` (handed out by the caller) or,
        without it, straight to the waiting requests."""
        out: list[_Answered] = [] if answered is None else answered
        by_hall: dict[str, list[_Pending]] = {}
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
        self, hall_code: str, items: list[_Pending], out: list[_Answered], attempt: int = 0
    ) -> None:
        try:
            answers = await self._issue_batch(hall_code, items)
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
        self._halls.pop(hall_code, None)

    def _cached(self, hall_code: str) -> _HallCopy | None:
        copy = self._halls.get(hall_code)
        return copy if copy is not None and copy.until > time.monotonic() else None

    async def _hall(self, hall_code: str) -> _HallCopy:
        """The hall and its services, remembered for HALL_CACHE_SECONDS.

        Hall settings and services change rarely and through the office; a kiosk may see such
        a change a moment late, and an estimate is an estimate. Numbers, idempotency and queue
        state (the people ahead) are never cached.
        """
        cached = self._cached(hall_code)
        if cached is not None:
            return cached
        async with self.state.db.read() as session:
            hall = await get_hall(session, hall_code)
            rows = await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
            services = {s.code: s for s in rows.scalars()}
            # Detached: the copies outlive this session.
            for row in (hall, *services.values()):
                session.expunge(row)
        if len(self._halls) > 1000:
            self._halls.clear()
        copy = _HallCopy(time.monotonic() + HALL_CACHE_SECONDS, hall, services)
        self._halls[hall_code] = copy
        return copy

    @staticmethod
    def _prepare(copy: _HallCopy, items: list[_Pending]) -> _Batch:
        """Everything a batch needs that is not under the numbering lock."""
        hall, services = copy.hall, copy.services
        batch = _Batch(hall, services, [None] * len(items))
        for i, item in enumerate(items):
            principal = item.principal
            svc = services.get(item.body.service)
            if principal.hall_id != hall.id:
                batch.answers[i] = ApiError(
                    403, "forbidden", "不是本大厅的设备或人员 (another hall)"
                )
            elif svc is None or not svc.active:
                batch.answers[i] = ApiError(
                    404, "service_not_found", "没有这个事项 (unknown service)"
                )
            else:
                batch.members.append(i)
                batch.requests.append(
                    issue.IssueRequest(
                        svc,
                        item.body.priority,
                        item.body.idempotency_key,
                        issue.Issuer(principal.device_id, principal.user_id),
                        principal.actor,
                    )
                )
        return batch

    async def _apply(self, session: AsyncSession, batch: _Batch, items: list[_Pending]) -> None:
        state = self.state
        hall = batch.hall
        assert hall.id is not None
        tx = Tx(session, hall.id, state.clock.now(), _batch_actor(items), state.hub.publish_local)
        tx.issuing_only = True
        after: list[WaitingSnapshot] = []
        batch.results = (
            await issue.issue_tickets(
                tx,
                hall,
                batch.requests,
                waiting_before=batch.waiting,
                reserved_ids=batch.ticket_ids,
                waiting_after=after.append,
                outlook=batch.outlook,
            )
            if batch.requests
            else []
        )
        if any(isinstance(r, issue.IssueResult) and r.created for r in batch.results):
            await tx.commit()
            if after:  # committed: the next batch may start from these counts
                self._waiting.keep(hall.id, after[0])
        # else nothing was written; closing the session ends the transaction (a rollback
        # here would expire the rows still needed for the answers)

    async def _issue_batch(
        self, hall_code: str, items: list[_Pending]
    ) -> list[tuple[Out, bool] | BaseException]:
        # Reads (when the hall's copy is stale) come before the write: on SQLite outside the
        # single writer's turn, on PostgreSQL before any row lock is taken.
        batch = self._prepare(await self._hall(hall_code), items)
        db = self.state.db
        if batch.requests:
            batch.outlook = await hall_outlook(db, batch.hall, self.state.clock.now())
        if db.is_sqlite:
            # SQLite's writer holds the whole database from its first statement: count the
            # queue before, in a reader (unless this process's kept counts will do).
            batch.waiting = self._kept_counts(batch)
            if batch.waiting is None:
                async with db.read() as session:
                    await self._count_waiting(session, batch)
            async with db.write() as session:
                await self._apply(session, batch, items)
        else:
            # On PostgreSQL the count takes no lock: it is the write connection's first
            # statement (one connection per batch), before the numbering lock.
            async with db.write() as session:
                await self._count_waiting(session, batch, reserve_ids=True)
                await self._apply(session, batch, items)
        outs = await self._outputs(batch, items)
        for i, out in zip(batch.members, outs, strict=True):
            batch.answers[i] = out
        return [a for a in batch.answers if a is not None]

    async def _count_waiting(
        self, session: AsyncSession, batch: _Batch, *, reserve_ids: bool = False
    ) -> None:
        """The waiting counts before the numbering lock (see ``waiting.py``); on PostgreSQL
        also the new tickets' ids, so that they are written with the commit."""
        if not batch.requests:
            return
        hall = batch.hall
        assert hall.id is not None
        kept = self._kept_counts(batch) if reserve_ids else None
        if kept is not None:
            # Still checked against the queue version under the lock; checked here too so
            # that a change since is counted now, before the lock, rather than under it.
            version, batch.ticket_ids = await reserve_ticket_ids(
                session, hall.id, len(batch.requests)
            )
            if version == kept.queue_version:
                batch.waiting = kept
                return
        # Counted: every service of the hall, so that the counts kept afterwards serve any
        # later batch.
        batch.waiting = await waiting_snapshot(
            session,
            hall.id,
            business_day(hall, self.state.clock.now()),
            [s for s in batch.services.values() if s.active],
            reserve=len(batch.requests) if reserve_ids and batch.ticket_ids is None else 0,
        )
        if reserve_ids and batch.ticket_ids is None:
            batch.ticket_ids = list(batch.waiting.ticket_ids)

    def _kept_counts(self, batch: _Batch) -> WaitingSnapshot | None:
        """The counts the hall's last batch in this process ended with, if they cover this
        batch's services and are recent enough (see waiting.py)."""
        hall = batch.hall
        assert hall.id is not None
        wanted = {r.service.id for r in batch.requests if r.service.id is not None}
        return self._waiting.get(hall.id, business_day(hall, self.state.clock.now()), wanted)

    async def _outputs(
        self, batch: _Batch, items: list[_Pending]
    ) -> list[tuple[Out, bool] | BaseException]:
        """What each request gets back. New tickets already know their place (counted under
        the lock), and their estimate was written with them (``estimate.place_rows``). A
        ticket found again by its key is shown as it is now."""
        hall = batch.hall
        by_id = {s.id: s for s in batch.services.values()}
        outs: list[tuple[Out, bool] | BaseException] = []
        repeats: list[int] = []
        for n, (i, result) in enumerate(zip(batch.members, batch.results, strict=True)):
            if isinstance(result, ApiError):
                outs.append(result)
                continue
            ticket = result.ticket
            svc = by_id[ticket.service_id]
            if not result.created or result.ahead is None:
                repeats.append(n)
                outs.append(_NOT_YET)  # filled in below
                continue
            assert not isinstance(ticket, FoundTicket)  # found again: not created
            assert svc.id is not None
            later = NewTicketOut(
                hall, ticket, svc, result.ahead, result.wait_seconds, items[i].base_url
            )
            outs.append((later, True))
        if repeats:
            async with self.state.db.read() as session:
                for n in repeats:
                    result = batch.results[n]
                    assert isinstance(result, issue.IssueResult)
                    found = result.ticket
                    # A repeat within the batch names a ticket just issued: read it whole.
                    whole = (
                        found if isinstance(found, Ticket) else await session.get(Ticket, found.id)
                    )
                    assert whole is not None
                    out = await ticket_out(
                        session,
                        hall,
                        whole,
                        by_id[whole.service_id],
                        base_url=items[batch.members[n]].base_url,
                        outlook=batch.outlook,
                    )
                    outs[n] = (out, result.created)
        return outs


class NewTicketOut:
    """A new ticket's answer, built by its request's own task rather than by the batch: the
    batch's commit is followed at once by the next batch's turn at the database, and the
    answers are built while that one is written (see ``IssueQueue._drain``)."""

    __slots__ = ("_args",)

    def __init__(
        self,
        hall: Hall,
        ticket: Ticket | IssuedTicket,
        svc: Service,
        ahead: int,
        wait_seconds: float | None,
        base_url: str | None,
    ) -> None:
        self._args = (hall, ticket, svc, ahead, wait_seconds, base_url)

    def build(self) -> TicketOut:
        hall, ticket, svc, ahead, wait_seconds, base_url = self._args
        return build_ticket_out(
            hall,
            ticket,
            svc,
            ahead=ahead,
            estimate=printed_minutes(wait_seconds),
            window_number=None,
            base_url=base_url,
        )


#: What a request's future holds: a ticket's answer, or what builds it.
Out = TicketOut | NewTicketOut


def built(out: Out) -> TicketOut:
    return out.build() if isinstance(out, NewTicketOut) else out


# Placeholder for a repeated request until its ticket has been read again.
_NOT_YET = ApiError(500, "internal_error", "内部错误 (internal error)")


@dataclass(frozen=True)
class _HallCopy:
    until: float
    hall: Hall
    services: dict[str, Service]


@dataclass
class _Batch:
    hall: Hall
    services: dict[str, Service]
    answers: list[tuple[Out, bool] | BaseException | None]
    members: list[int] = field(default_factory=list)
    requests: list[issue.IssueRequest] = field(default_factory=list)
    results: list[issue.IssueResult | ApiError] = field(default_factory=list)
    outlook: Outlook | None = None
    waiting: WaitingSnapshot | None = None
    ticket_ids: list[int] | None = None


def _batch_actor(items: list[_Pending]) -> Actor:
    """The transaction's actor: the caller when alone; each ticket's audit names its own."""
    actors = {item.principal.actor for item in items}
    return actors.pop() if len(actors) == 1 else Actor("issue-batch")


#: A request and what it gets back.
_Answered = tuple[_Pending, "tuple[Out, bool] | BaseException"]


def _hand_out(answered: list[_Answered]) -> None:
    for item, answer in answered:
        _answer(item, answer)
    answered.clear()


def _answer(item: _Pending, answer: tuple[Out, bool] | BaseException) -> None:
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

    Other processes pick the change up when their copy expires (HALL_CACHE_SECONDS).
    """
    queue: IssueQueue | None = getattr(request.app.state, "issue_queue", None)
    if queue is not None:
        queue.forget(hall_code)
