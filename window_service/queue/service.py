"""The rules of the queue: calling and every step of a ticket's life after issuing.

Functions take a ``Tx`` (session, hall clock, actor) and plain values, change rows, and say
what happened (events for screens, audit records); they know nothing of HTTP.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict, invalid
from ..chain import snapshot
from ..halls.lookup import business_day, spoken_zone, window_service_ids
from ..halls.models import Hall, Service, Window, WindowDuty, WindowService
from ..transaction import Tx
from . import priority, rules
from .models import Ticket, TicketEvent


async def waiting_count(session: AsyncSession, hall_id: int, service_id: int) -> int:
    stmt = select(func.count()).where(
        Ticket.hall_id == hall_id,  # type: ignore[arg-type]
        Ticket.service_id == service_id,  # type: ignore[arg-type]
        Ticket.status == rules.WAITING,  # type: ignore[arg-type]
    )
    return int((await session.execute(stmt)).scalar_one())


async def emit_queue(
    tx: Tx, hall_id: int, services: list[Service], *, change: str, ticket: str | None = None
) -> None:
    """Tell screens the new waiting counts of the services a change touched."""
    waiting = {}
    for service in services:
        assert service.id is not None
        waiting[service.prefix] = await waiting_count(tx.session, hall_id, service.id)
    tx.emit("queue", change=change, ticket=ticket, waiting=waiting)


def record_step(tx: Tx, ticket: Ticket, action: str, **detail: object) -> None:
    assert ticket.id is not None
    tx.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=tx.now,
            action=action,
            staff_id=tx.actor.user_id,
            window_id=ticket.window_id,
            service_id=ticket.service_id,
            detail=dict(detail),
        )
    )


async def current_at_window(session: AsyncSession, window_id: int) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(Ticket.window_id == window_id, Ticket.status.in_(rules.AT_WINDOW))  # type: ignore[arg-type, attr-defined]
        .order_by(Ticket.called_at.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def call_next(
    tx: Tx, hall: Hall, window: Window, services: dict[int, Service]
) -> Ticket | None:
    """叫号: the next ticket for ``window`` (green channel first within the fair-priority
    limit, then queue time; see ``priority.py``), or None.

    The window row is locked first, so two terminals of one window are served one at a time
    and the second sees the first's call; the candidate ticket is locked with SKIP LOCKED on
    PostgreSQL, so two windows never take the same ticket.
    """
    session = tx.session
    assert window.id is not None and hall.id is not None
    if window.status != "open":
        raise conflict("window_not_open", "窗口已暂停服务，请先恢复 (the window is paused)")
    busy = await current_at_window(session, window.id)
    if busy is not None:
        raise conflict(
            "window_busy",
            f"窗口当前还有 {busy.number} 号未办结，请先办结、过号或回队 "
            "(finish, mark no-show or return the current ticket first)",
        )
    service_ids = await window_service_ids(session, window.id)
    if not service_ids:
        return None
    ticket = await priority.next_ticket(
        session, hall, window, [services[i] for i in service_ids if i in services], tx.now
    )
    if ticket is None:
        return None
    staff_id = tx.actor.user_id
    ticket.status = rules.CALLED
    ticket.window_id = window.id
    ticket.staff_id = staff_id
    ticket.called_at = tx.now
    if ticket.first_called_at is None:
        ticket.first_called_at = tx.now
    ticket.recalls = 0
    ticket.call_count += 1
    if ticket.first_responder_id is None:
        ticket.first_responder_id = staff_id
    if staff_id is not None:
        await _put_on_duty(tx, window, staff_id)
    record_step(tx, ticket, "called")
    tx.audit("ticket.call", ticket)
    service = services[ticket.service_id]
    _emit_call(tx, ticket, service, window, await spoken_zone(session, window), recall=False)
    await emit_queue(tx, hall.id, [service], change="called", ticket=ticket.number)
    return ticket


async def _put_on_duty(tx: Tx, window: Window, staff_id: int) -> None:
    """The staff member is now on duty at this window (and at no other)."""
    session = tx.session
    assert window.id is not None
    duty = await session.get(WindowDuty, window.id)
    if duty is not None and duty.staff_id == staff_id:
        return
    await session.execute(
        delete(WindowDuty).where(
            (WindowDuty.staff_id == staff_id) | (WindowDuty.window_id == window.id)  # type: ignore[arg-type]
        )
    )
    session.add(WindowDuty(window_id=window.id, staff_id=staff_id, since=tx.now))


def _emit_call(
    tx: Tx, ticket: Ticket, service: Service, window: Window, zone: str, *, recall: bool
) -> None:
    tx.emit(
        "call",
        ticket=ticket.number,
        service=service.code,
        window=window.number,
        zone=window.zone,
        recall=recall,
        text=rules.call_text(ticket.number, window.number, zone),
        at=tx.now,
    )


async def recall(tx: Tx, hall: Hall, window: Window, services: dict[int, Service]) -> Ticket:
    """重呼: announce the window's called ticket again (at most ``hall.recall_limit`` times)."""
    assert window.id is not None
    ticket = await current_at_window(tx.session, window.id)
    if ticket is None or ticket.status != rules.CALLED:
        raise conflict("nothing_to_recall", "窗口当前没有已叫号的号票可重呼 (no called ticket)")
    if ticket.recalls >= hall.recall_limit:
        raise conflict(
            "recall_limit",
            f"同一号票最多重呼 {hall.recall_limit} 次，请标记过号 (recall limit reached)",
        )
    before = snapshot(ticket)
    ticket.recalls += 1
    record_step(tx, ticket, "recalled", recalls=ticket.recalls)
    tx.audit("ticket.recall", ticket, before=before)
    zone = await spoken_zone(tx.session, window)
    _emit_call(tx, ticket, services[ticket.service_id], window, zone, recall=True)
    return ticket


def require_state(ticket: Ticket, *states: str, action: str) -> None:
    if ticket.status not in states:
        label = rules.STATUS_LABELS.get(ticket.status, ticket.status)
        raise conflict(
            "invalid_state",
            f"号票 {ticket.number} 当前状态为「{label}」，不能{action} "
            f"(not allowed while the ticket is {ticket.status})",
        )


def emit_ticket(tx: Tx, ticket: Ticket, window: Window | None) -> None:
    tx.emit(
        "ticket",
        ticket=ticket.number,
        status=ticket.status,
        window=window.number if window is not None else None,
        outcome=ticket.outcome,
    )


async def start(tx: Tx, ticket: Ticket, window: Window | None) -> Ticket:
    """开始办理."""
    require_state(ticket, rules.CALLED, action="开始办理")
    before = snapshot(ticket)
    ticket.status = rules.SERVING
    ticket.started_at = tx.now
    ticket.staff_id = tx.actor.user_id or ticket.staff_id
    record_step(tx, ticket, "started")
    tx.audit("ticket.start", ticket, before=before)
    emit_ticket(tx, ticket, window)
    return ticket


async def finish(tx: Tx, ticket: Ticket, window: Window | None, outcome: str) -> Ticket:
    """办结 with an outcome (completed · accepted · correction · rejected · consulted)."""
    if outcome not in rules.OUTCOMES:
        raise invalid("invalid_outcome", "办理结果无效 (unknown outcome)")
    require_state(ticket, rules.SERVING, action="办结")
    before = snapshot(ticket)
    ticket.status = rules.DONE
    ticket.outcome = outcome
    ticket.finished_at = tx.now
    record_step(tx, ticket, "finished", outcome=outcome)
    tx.audit("ticket.finish", ticket, before=before)
    emit_ticket(tx, ticket, window)
    return ticket


async def no_show(tx: Tx, ticket: Ticket, window: Window | None) -> Ticket:
    """过号: the called citizen did not come."""
    require_state(ticket, rules.CALLED, action="标记过号")
    before = snapshot(ticket)
    ticket.status = rules.NO_SHOW
    ticket.finished_at = tx.now
    record_step(tx, ticket, "no_show")
    tx.audit("ticket.no_show", ticket, before=before)
    emit_ticket(tx, ticket, window)
    return ticket


async def return_to_queue(
    tx: Tx, ticket: Ticket, window: Window | None, service: Service
) -> Ticket:
    """回队: a called ticket waits again, keeping its queue time."""
    require_state(ticket, rules.CALLED, action="回队")
    before = snapshot(ticket)
    ticket.status = rules.WAITING
    ticket.window_id = None
    record_step(tx, ticket, "returned", window=window.number if window else None)
    tx.audit("ticket.return", ticket, before=before)
    emit_ticket(tx, ticket, window)
    await emit_queue(tx, ticket.hall_id, [service], change="returned", ticket=ticket.number)
    return ticket


async def cancel(tx: Tx, ticket: Ticket, window: Window | None, service: Service) -> Ticket:
    """取消 a waiting, called or held ticket."""
    require_state(ticket, rules.WAITING, rules.CALLED, rules.HELD, action="取消")
    before = snapshot(ticket)
    was_waiting = ticket.status == rules.WAITING
    ticket.status = rules.CANCELLED
    ticket.finished_at = tx.now
    record_step(tx, ticket, "cancelled")
    tx.audit("ticket.cancel", ticket, before=before)
    emit_ticket(tx, ticket, window)
    if was_waiting:
        await emit_queue(tx, ticket.hall_id, [service], change="cancelled", ticket=ticket.number)
    return ticket


async def set_window_status(tx: Tx, window: Window, status: str) -> Window:
    """暂停 / 恢复 a window."""
    if status not in ("open", "paused", "closed"):
        raise invalid("invalid_status", "窗口状态无效 (unknown window status)")
    if window.status == "closed" and status != "closed":
        # closed by the administrator (a window no longer in the hall's set-up): only the
        # administrator's configuration opens it again
        raise conflict("window_closed", "窗口已关闭，请联系管理员 (the window is closed)")
    before = snapshot(window)
    window.status = status
    tx.audit(f"window.{status}", window, before=before)
    tx.emit("window", window=window.number, status=status)
    return window


async def expire_past_days(tx: Tx, hall: Hall, *, batch: int = 500) -> int:
    """Close tickets still waiting (or held at a window, or remote tickets never checked in)
    after their business day ended (过期). Never deletes."""
    today = business_day(hall, tx.now)
    stmt = (
        select(Ticket)
        .where(
            Ticket.hall_id == hall.id,  # type: ignore[arg-type]
            Ticket.status.in_((rules.WAITING, rules.REMOTE, rules.HELD)),  # type: ignore[attr-defined]
            Ticket.business_day < today,  # type: ignore[arg-type]
        )
        .order_by(Ticket.id)  # type: ignore[arg-type]
        .limit(batch)
    )
    tickets = list((await tx.session.execute(stmt)).scalars())
    for ticket in tickets:
        before = snapshot(ticket)
        ticket.status = rules.EXPIRED
        ticket.finished_at = tx.now
        record_step(tx, ticket, "expired")
        tx.audit("ticket.expire", ticket, before=before, reason="business day ended")
    if tickets:
        touched = {t.service_id for t in tickets}
        services = [s for sid in sorted(touched) if (s := await tx.session.get(Service, sid))]
        await emit_queue(tx, hall.id, services, change="expired")  # type: ignore[arg-type]
    return len(tickets)


async def window_services_codes(session: AsyncSession, hall_id: int) -> dict[int, list[int]]:
    rows = await session.execute(
        select(WindowService.window_id, WindowService.service_id)
        .join(Window, Window.id == WindowService.window_id)  # type: ignore[arg-type]
        .where(Window.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(WindowService.window_id, WindowService.position)  # type: ignore[arg-type]
    )
    out: dict[int, list[int]] = {}
    for window_id, service_id in rows:
        out.setdefault(window_id, []).append(service_id)
    return out
