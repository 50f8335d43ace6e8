"""One hall's batch of issue requests (一批取号): what it needs, its transaction, its answers.

The group-commit queue (``issuing.IssueQueue``) hands each hall's share of a batch to
``HallBatches.write``: the hall and its services come from a copy kept for a moment, the
requests that cannot be issued are answered at once, the waiting counts are taken (or the
ones the hall's last batch ended with are trusted), ``issue.issue_tickets`` numbers and writes
the tickets in one transaction, and each request gets its answer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError
from ..auth.principal import Principal
from ..halls.lookup import business_day, get_hall
from ..halls.models import Hall, Service
from ..state import AppState
from ..transaction import Actor, Tx
from . import issue
from .estimate import printed_minutes
from .models import FoundTicket, IssuedTicket, Ticket
from .new_ticket import Issuer, IssueRequest, IssueResult
from .outlook import Outlook, hall_outlook
from .schemas import TicketCreate, TicketOut
from .views import build_ticket_out, ticket_out
from .waiting import WaitingCache, WaitingSnapshot, reserve_ticket_ids, waiting_snapshot

#: How long a process trusts its copy of a hall's settings and services (the inputs of the
#: wait estimate are kept by ``outlook.OUTLOOKS``).
HALL_CACHE_SECONDS = 2.0


@dataclass
class Pending:
    """A kiosk's or staff member's request waiting for its batch, and its answer to come."""

    hall_code: str
    body: TicketCreate
    principal: Principal
    base_url: str | None
    future: asyncio.Future[tuple[Out, bool]] = field(repr=False)


class HallBatches:
    """Writes a hall's batch; keeps each hall's copy and the counts its last batch ended with."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._halls: dict[str, _HallCopy] = {}
        #: The waiting counts each hall's last batch ended with (see waiting.py).
        self._waiting = WaitingCache()

    def forget(self, hall_code: str) -> None:
        """Drop the copy of a hall and its services (see ``issuing.forget_hall``)."""
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
    def _prepare(copy: _HallCopy, items: list[Pending]) -> _Batch:
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
                    IssueRequest(
                        svc,
                        item.body.priority,
                        item.body.idempotency_key,
                        Issuer(principal.device_id, principal.user_id),
                        principal.actor,
                    )
                )
        return batch

    async def _apply(self, session: AsyncSession, batch: _Batch, items: list[Pending]) -> None:
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
        if any(isinstance(r, IssueResult) and r.created for r in batch.results):
            await tx.commit()
            if after:  # committed: the next batch may start from these counts
                self._waiting.keep(hall.id, after[0])
        # else nothing was written; closing the session ends the transaction (a rollback
        # here would expire the rows still needed for the answers)

    async def write(
        self, hall_code: str, items: list[Pending]
    ) -> list[tuple[Out, bool] | BaseException]:
        """Issue one hall's requests in one transaction: each request's answer, in order."""
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
        self, batch: _Batch, items: list[Pending]
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
                    assert isinstance(result, IssueResult)
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
    requests: list[IssueRequest] = field(default_factory=list)
    results: list[IssueResult | ApiError] = field(default_factory=list)
    outlook: Outlook | None = None
    waiting: WaitingSnapshot | None = None
    ticket_ids: list[int] | None = None


def _batch_actor(items: list[Pending]) -> Actor:
    """The transaction's actor: the caller when alone; each ticket's audit names its own."""
    actors = {item.principal.actor for item in items}
    return actors.pop() if len(actors) == 1 else Actor("issue-batch")
