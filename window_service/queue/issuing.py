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
from dataclasses import dataclass, field

from sqlalchemy import select
from starlette.requests import Request

from ..api.errors import ApiError
from ..auth.principal import Principal
from ..halls.lookup import get_hall, local_time
from ..halls.models import Hall, Service
from ..state import AppState
from ..transaction import Actor, Tx
from . import rules, service
from .estimate import estimate_inputs, estimate_minutes
from .models import Ticket
from .schemas import TicketCreate, TicketOut
from .views import ticket_out, track_url

log = logging.getLogger("window_service.queue")

#: At most this many requests share one transaction.
MAX_BATCH = 64


@dataclass
class _Pending:
    hall_code: str
    body: TicketCreate
    principal: Principal
    base_url: str
    future: asyncio.Future[tuple[TicketOut, bool]] = field(repr=False)


class IssueQueue:
    """The process's queue of issue requests and the task that writes them in batches."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None

    async def issue(
        self, hall_code: str, body: TicketCreate, principal: Principal, base_url: str
    ) -> tuple[TicketOut, bool]:
        """The ticket for this request and whether it was created (False: idempotent repeat)."""
        future: asyncio.Future[tuple[TicketOut, bool]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(hall_code, body, principal, base_url, future))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            by_hall: dict[str, list[_Pending]] = {}
            for item in batch:
                by_hall.setdefault(item.hall_code, []).append(item)
            for hall_code, items in by_hall.items():
                await self._write(hall_code, items)

    async def _write(self, hall_code: str, items: list[_Pending]) -> None:
        try:
            answers = await self._issue_batch(hall_code, items)
        except ApiError as exc:  # the hall itself is unknown: the same answer for all
            for item in items:
                _answer(item, exc)
            return
        except Exception as exc:
            if len(items) == 1:
                _answer(items[0], exc)
                return
            # E.g. two processes racing on one idempotency key: the batch rolled back with
            # every number in it; each request now goes alone and gets its own outcome.
            log.info("issue batch of %d failed (%r); retrying one by one", len(items), exc)
            for item in items:
                await self._write(hall_code, [item])
            return
        for item, answer in zip(items, answers, strict=True):
            _answer(item, answer)

    async def _issue_batch(
        self, hall_code: str, items: list[_Pending]
    ) -> list[tuple[TicketOut, bool] | BaseException]:
        state = self.state
        answers: list[tuple[TicketOut, bool] | BaseException | None] = [None] * len(items)
        # Looked up before the write transaction: on SQLite that keeps them out of the
        # single writer's turn.
        async with state.db.read() as session:
            hall = await get_hall(session, hall_code)
            assert hall.id is not None
            services = {
                s.code: s
                for s in (
                    await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
                ).scalars()
            }
        async with state.db.write() as session:
            requests: list[service.IssueRequest] = []
            members: list[int] = []
            for i, item in enumerate(items):
                principal = item.principal
                svc = services.get(item.body.service)
                if principal.hall_id != hall.id:
                    answers[i] = ApiError(403, "forbidden", "不是本大厅的设备或人员 (another hall)")
                elif svc is None or not svc.active:
                    answers[i] = ApiError(
                        404, "service_not_found", "没有这个事项 (unknown service)"
                    )
                else:
                    members.append(i)
                    requests.append(
                        service.IssueRequest(
                            svc,
                            item.body.priority,
                            item.body.idempotency_key,
                            service.Issuer(principal.device_id, principal.user_id),
                            principal.actor,
                        )
                    )
            tx = Tx(
                session, hall.id, state.clock.now(), _batch_actor(items), state.hub.publish_local
            )
            results = await service.issue_tickets(tx, hall, requests) if requests else []
            if any(isinstance(r, service.IssueResult) and r.created for r in results):
                await tx.commit()
            # else nothing was written; closing the session ends the transaction (a rollback
            # here would expire the rows still needed for the answers)
        outs = await self._outputs(hall, services, items, members, results)
        for i, out in zip(members, outs, strict=True):
            answers[i] = out
        return [a for a in answers if a is not None]

    async def _outputs(
        self,
        hall: Hall,
        services: dict[str, Service],
        items: list[_Pending],
        members: list[int],
        results: list[service.IssueResult | ApiError],
    ) -> list[tuple[TicketOut, bool] | BaseException]:
        """What each request gets back. New tickets already know their place (counted under
        the lock); the estimate uses the service's recent service times and open windows."""
        by_id = {s.id: s for s in services.values()}
        outs: list[tuple[TicketOut, bool] | BaseException] = []
        async with self.state.db.read() as session:
            waiting = {
                r.ticket.service_id
                for r in results
                if isinstance(r, service.IssueResult) and r.created and r.ahead
            }
            inputs = await estimate_inputs(session, [by_id[s] for s in sorted(waiting)])
            for i, result in zip(members, results, strict=True):
                if isinstance(result, ApiError):
                    outs.append(result)
                    continue
                ticket = result.ticket
                svc = by_id[ticket.service_id]
                base_url = items[i].base_url
                if not result.created or result.ahead is None:
                    out = await ticket_out(session, hall, ticket, svc, base_url=base_url)
                    outs.append((out, result.created))
                    continue
                ahead = result.ahead
                estimate = estimate_minutes(ahead, *inputs[svc.id]) if ahead else 0  # type: ignore[index]
                outs.append((_new_ticket_out(hall, ticket, svc, ahead, estimate, base_url), True))
        return outs


def _new_ticket_out(
    hall: Hall, ticket: Ticket, svc: Service, ahead: int, estimate: int, base_url: str
) -> TicketOut:
    assert ticket.id is not None
    return TicketOut(
        id=ticket.id,
        number=ticket.number,
        service=svc.code,
        service_name=svc.name,
        status=ticket.status,
        status_label=rules.STATUS_LABELS.get(ticket.status, ticket.status),
        priority=ticket.priority,
        queued_at=local_time(hall, ticket.queued_at).isoformat(),
        ahead=ahead,
        estimated_wait_minutes=estimate,
        window=None,
        track_token=ticket.track_token,
        track_url=track_url(base_url, ticket.track_token),
    )


def _batch_actor(items: list[_Pending]) -> Actor:
    """The transaction's actor: the caller when alone; each ticket's audit names its own."""
    actors = {item.principal.actor for item in items}
    return actors.pop() if len(actors) == 1 else Actor("issue-batch")


def _answer(item: _Pending, answer: tuple[TicketOut, bool] | BaseException) -> None:
    if item.future.done():  # the client went away; the ticket stands (like any commit)
        return
    if isinstance(answer, BaseException):
        item.future.set_exception(answer)
    else:
        item.future.set_result(answer)


def issue_queue(request: Request, state: AppState) -> IssueQueue:
    """The application's issue queue (one per process, created on first use)."""
    queue: IssueQueue | None = getattr(request.app.state, "issue_queue", None)
    if queue is None or queue.state is not state:
        queue = IssueQueue(state)
        request.app.state.issue_queue = queue
    return queue
