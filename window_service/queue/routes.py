"""HTTP endpoints of the queue: thin wrappers around ``queue.service``."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError
from ..auth.principal import Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR, KIOSK, STAFF
from ..halls.lookup import (
    business_day,
    get_hall,
    get_service,
    get_window,
    material_list,
    services_by_id,
    window_service_ids,
)
from ..halls.models import Hall, Service, Window
from ..halls.scopes import WINDOW
from . import hold, queries, rules, service, transfer
from .estimate import service_outlook
from .issuing import issue_queue
from .models import Ticket
from .outlook import OUTLOOKS
from .outlook import forget as forget_outlook
from .queries import load_ticket
from .schemas import (
    FinishBody,
    ServiceOut,
    TicketCreate,
    TicketOut,
    TransferBody,
    WindowOut,
)
from .scopes import TICKET
from .views import build_ticket_out, current_by_window, current_out, ticket_out, track_link_base

router = ApiRouter("queue")
OFFICE = (ADMIN, INSPECTOR, HEAD)


async def require_window_serves(
    session: AsyncSession, principal: Principal, ticket: Ticket
) -> None:
    """Staff act on a waiting ticket (cancel, transfer) only when their window serves its
    service: a window of 户籍 must not cancel a 不动产 ticket or pull a 税务 ticket over."""
    if principal.window_id is None or ticket.service_id not in await window_service_ids(
        session, principal.window_id
    ):
        raise ApiError(
            403,
            "not_your_service",
            "本窗口不办理该事项，不能操作此号票 (your window does not serve this ticket's service)",
        )


@router.route("GET", "/halls/{hall}/services", roles=[PUBLIC], response=list[ServiceOut])
async def list_services(api: ApiRequest) -> list[ServiceOut]:
    """The hall's services with their queues (事项与排队人数)."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        assert hall.id is not None
        listed = await queries.active_services(session, hall.id)
        today = business_day(hall, api.state.clock.now())
        waiting = await queries.waiting_by_service(session, hall.id, today)
        outlook = await OUTLOOKS.get(api.state.db, session, hall.id, today)
        out = []
        for svc, dept in listed:
            assert svc.id is not None
            count, estimate = service_outlook(outlook, waiting, svc.id)
            out.append(
                ServiceOut(
                    code=svc.code,
                    name=svc.name,
                    prefix=svc.prefix,
                    department=dept.name,
                    department_name=dept.name,
                    waiting=count,
                    estimated_wait_minutes=estimate,
                    queue_waiting=int(waiting.get(svc.id, 0)),
                    legal_days=svc.legal_days,
                    promised_days=svc.promised_days,
                    wait_target_minutes=svc.wait_target_minutes,
                    fees=svc.fees,
                    materials=material_list(svc.materials),
                    legal_basis=svc.legal_basis,
                )
            )
        return out


async def windows_out(session: AsyncSession, hall: Hall) -> list[WindowOut]:
    assert hall.id is not None
    services = await services_by_id(session, hall.id)
    by_window = await service.window_services_codes(session, hall.id)
    current = await current_by_window(session, hall.id)
    windows = await queries.windows(session, hall.id)
    out = []
    for window in windows:
        assert window.id is not None
        ticket = current.get(window.id)
        out.append(
            WindowOut(
                id=window.id,
                number=window.number,
                name=window.name,
                services=[services[s].code for s in by_window.get(window.id, [])],
                status=window.status,
                current=current_out(hall, ticket, services[ticket.service_id]) if ticket else None,
            )
        )
    return out


@router.route("GET", "/halls/{hall}/windows", roles=[PUBLIC], response=list[WindowOut])
async def list_windows(api: ApiRequest) -> list[WindowOut]:
    """The hall's windows, what they serve and whom they are serving (窗口状态)."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        return await windows_out(session, hall)


@router.route(
    "POST",
    "/halls/{hall}/tickets",
    roles=[KIOSK, STAFF, ADMIN],
    response=TicketOut,
    status=201,
    extra_statuses=(200, 409),
)
async def issue(api: ApiRequest[TicketCreate]) -> Any:
    """取号: issue a ticket. The same idempotency key within the day returns the same ticket.

    The kiosk's answer carries the citizen's ``track_token`` and ``track_url`` (printed as the
    ticket's QR); a person's (staff, admin) answer never does."""
    queue = issue_queue(api.request, api.state)
    out, created = await queue.issue(
        api.path["hall"], api.body, api.principal, track_link_base(api)
    )
    return Response(
        out.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )


@router.route(
    "GET",
    "/tickets/{id:int}",
    roles=[STAFF, ADMIN, INSPECTOR, HEAD],
    response=TicketOut,
    scope=TICKET,
)
async def get_ticket(api: ApiRequest) -> TicketOut:
    """A ticket as staff see it."""
    async with api.state.db.read() as session:
        ticket = api.own(await load_ticket(session, api.path["id"]))
        hall = await session.get(Hall, ticket.hall_id)
        svc = await session.get(Service, ticket.service_id)
        assert hall is not None and svc is not None
        return await ticket_out(session, hall, ticket, svc)


async def _window_action(api: ApiRequest[Any, Any], action: str) -> Any:
    async with api.state.db.write() as session:
        window = api.own(await get_window(session, api.path["id"], lock=True))
        hall = await session.get(Hall, window.hall_id)
        assert hall is not None and hall.id is not None
        services = await services_by_id(session, hall.id)
        tx = api.tx(session, hall.id)
        if action == "call":
            ticket = await service.call_next(tx, hall, window, services)
            if ticket is None:
                await session.rollback()
                return Response(status_code=204)
        elif action == "recall":
            ticket = await service.recall(tx, hall, window, services)
        else:
            ticket = None
            await service.set_window_status(tx, window, "paused" if action == "pause" else "open")
        await tx.commit()
    if action != "recall":  # who is on duty, and which windows are busy, changed
        forget_outlook(api.state.db, hall.id)
    # The answer is read after the write transaction (see _answer_session).
    async with _answer_session(api) as session:
        if ticket is None:
            return next(w for w in await windows_out(session, hall) if w.id == window.id)
        return await ticket_out(
            session, hall, ticket, services[ticket.service_id], window_number=window.number
        )


@router.route(
    "POST",
    "/windows/{id:int}/call-next",
    roles=[STAFF],
    scope=WINDOW,
    response=TicketOut,
    extra_statuses=(204, 409),
)
async def call_next(api: ApiRequest) -> Any:
    """叫号: call the next ticket for this window (204 when nobody waits)."""
    return await _window_action(api, "call")


@router.route(
    "POST",
    "/windows/{id:int}/recall",
    roles=[STAFF],
    response=TicketOut,
    extra_statuses=(409,),
    scope=WINDOW,
)
async def recall(api: ApiRequest) -> Any:
    """重呼: announce the current ticket again."""
    return await _window_action(api, "recall")


@router.route("POST", "/windows/{id:int}/pause", roles=[STAFF], response=WindowOut, scope=WINDOW)
async def pause(api: ApiRequest) -> Any:
    """暂停服务."""
    return await _window_action(api, "pause")


@router.route("POST", "/windows/{id:int}/resume", roles=[STAFF], response=WindowOut, scope=WINDOW)
async def resume(api: ApiRequest) -> Any:
    """恢复服务."""
    return await _window_action(api, "resume")


@router.route(
    "GET",
    "/windows/{id:int}/queue",
    roles=[STAFF, ADMIN],
    response=list[TicketOut],
    scope=WINDOW,
)
async def window_queue(api: ApiRequest) -> list[TicketOut]:
    """The tickets waiting for this window, in call order (本窗口等候队列)."""
    async with api.state.db.read() as session:
        window = api.own(await get_window(session, api.path["id"]))
        hall = await session.get(Hall, window.hall_id)
        assert hall is not None and hall.id is not None and window.id is not None
        services = await services_by_id(session, hall.id)
        ids = await window_service_ids(session, window.id)
        today = business_day(hall, api.state.clock.now())
        rows = await queries.waiting_for(session, hall.id, ids, today, window_id=window.id)
        return [
            build_ticket_out(
                hall,
                ticket,
                services[ticket.service_id],
                ahead=position,
                estimate=0,
                window_number=None,
                base_url=None,
            )
            for position, ticket in enumerate(rows)
        ]


async def _ticket_action(api: ApiRequest[Any, Any], action: str) -> TicketOut:
    principal = api.principal
    async with api.state.db.write() as session:
        ticket = api.own(await load_ticket(session, api.path["id"], lock=True))
        hall = await session.get(Hall, ticket.hall_id)
        assert hall is not None and hall.id is not None
        services = await services_by_id(session, hall.id)
        window = await session.get(Window, ticket.window_id) if ticket.window_id else None
        if (
            ticket.status in (*rules.AT_WINDOW, rules.HELD)
            and principal.role == STAFF
            and principal.window_id != ticket.window_id
        ):
            raise ApiError(403, "forbidden", "只能操作本窗口叫到的号票 (not your window's ticket)")
        if ticket.status == rules.WAITING and principal.role == STAFF:
            await require_window_serves(session, principal, ticket)
        tx = api.tx(session, hall.id)
        current = services[ticket.service_id]
        if action == "start":
            await service.start(tx, ticket, window)
        elif action == "finish":
            await service.finish(tx, ticket, window, api.body.outcome)
        elif action == "no-show":
            await service.no_show(tx, ticket, window)
        elif action == "return":
            await service.return_to_queue(tx, ticket, window, current)
        elif action == "cancel":
            await service.cancel(tx, ticket, window, current)
        elif action == "hold":
            await hold.hold(tx, ticket, window)
        elif action == "resume":
            await hold.resume(tx, ticket, window)
        elif action == "transfer":
            await _transfer(session, tx, api.body, ticket, window, current)
        await tx.commit()
    if action in ("finish", "no-show", "return", "transfer", "cancel"):
        # A window's ticket ended or its time changed: read staffing and service times again.
        forget_outlook(api.state.db, hall.id, times=action in ("finish", "no-show"))
    async with _answer_session(api) as session:
        return await ticket_out(session, hall, ticket, services[ticket.service_id])


async def _transfer(
    session: AsyncSession,
    tx: Any,
    body: TransferBody,
    ticket: Ticket,
    window: Window | None,
    current: Service,
) -> None:
    if body.service is not None:
        target = await get_service(session, ticket.hall_id, body.service)
        await transfer.transfer(tx, ticket, window, current, target)
    elif body.window is not None:
        to = await transfer.window_by_number(session, ticket.hall_id, body.window)
        await transfer.transfer_to_window(tx, ticket, window, current, to)
    else:
        assert body.staff is not None
        user, to = await transfer.staff_window(session, ticket.hall_id, body.staff)
        await transfer.transfer_to_window(tx, ticket, window, current, to, staff=user)


def _answer_session(api: ApiRequest[Any, Any]) -> AbstractAsyncContextManager[AsyncSession]:
    """Where a staff action reads its answer (the ticket's place, the window list): a read
    session, once the change has committed. The write session would begin a new write
    transaction for it, and on SQLite kiosks and other windows would wait for the answer."""
    return api.state.db.read()


def _ticket_route(path: str, action: str, doc: str, **kwargs: Any) -> None:
    async def handler(api: ApiRequest[Any, Any]) -> TicketOut:
        return await _ticket_action(api, action)

    handler.__name__ = f"ticket_{action.replace('-', '_')}"
    handler.__doc__ = doc
    router.route(
        "POST",
        f"/tickets/{{id:int}}/{path}",
        response=TicketOut,
        extra_statuses=(409,),
        scope=TICKET,
        **kwargs,
    )(handler)


_ticket_route("start", "start", "开始办理: the called citizen is at the window.", roles=[STAFF])
_ticket_route("finish", "finish", "办结 with an outcome.", roles=[STAFF], body=FinishBody)
_ticket_route("no-show", "no-show", "过号: the called citizen did not come.", roles=[STAFF])
_ticket_route(
    "return", "return", "回队: the called ticket waits again, keeping its place.", roles=[STAFF]
)
_ticket_route("cancel", "cancel", "取消 a waiting or called ticket.", roles=[STAFF, ADMIN])
_ticket_route(
    "transfer",
    "transfer",
    "转移 to another service, or to a named window or colleague, keeping number and queue time.",
    roles=[STAFF],
    body=TransferBody,
)
_ticket_route(
    "hold",
    "hold",
    "挂起: set the called or serving ticket aside; the window may call others.",
    roles=[STAFF],
)
_ticket_route(
    "resume",
    "resume",
    "恢复办理: take up a held ticket again at its window (when it is free).",
    roles=[STAFF],
)
