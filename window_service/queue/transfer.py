"""转移: a ticket moves on, keeping its number and queue time (the citizen is not sent back).

To another service (it waits there for any window serving it), or to a named window or
colleague (转移到窗口/人员): it keeps its service and waits for that window only (the window
where the colleague is on duty), called there in its queue-time order.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict, not_found
from ..auth.models import User
from ..auth.roles import STAFF
from ..chain import snapshot
from ..halls.lookup import window_service_ids
from ..halls.models import Service, Window, WindowDuty
from ..transaction import Tx
from . import rules
from .models import Ticket
from .service import emit_queue, emit_ticket, record_step, require_state

MOVABLE = (rules.WAITING, rules.CALLED, rules.SERVING)


def _requeue(ticket: Ticket) -> None:
    ticket.status = rules.WAITING
    ticket.window_id = None
    ticket.started_at = None


async def transfer(
    tx: Tx, ticket: Ticket, window: Window | None, source: Service, target: Service
) -> Ticket:
    """转移 to another service: the ticket waits there, keeping number and queue time."""
    require_state(ticket, *MOVABLE, action="转移")
    if target.id == ticket.service_id:
        raise conflict("same_service", "号票已在该事项队列中 (already queued for that service)")
    if target.hall_id != ticket.hall_id or not target.active:
        raise not_found("service", "没有这个事项 (unknown service)")
    before = snapshot(ticket)
    _requeue(ticket)
    ticket.service_id = target.id  # type: ignore[assignment]
    ticket.target_window_id = None
    record_step(tx, ticket, "transferred", from_service=source.code, to_service=target.code)
    tx.audit("ticket.transfer", ticket, before=before)
    emit_ticket(tx, ticket, window)
    await emit_queue(
        tx, ticket.hall_id, [source, target], change="transferred", ticket=ticket.number
    )
    return ticket


async def window_by_number(session: AsyncSession, hall_id: int, number: int) -> Window:
    window = (
        await session.execute(
            select(Window).where(Window.hall_id == hall_id, Window.number == number)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if window is None:
        raise not_found("window", f"没有 {number} 号窗口 (unknown window)")
    return window


async def staff_window(session: AsyncSession, hall_id: int, username: str) -> tuple[User, Window]:
    """The colleague and the window where they are on duty (在岗; else their own window)."""
    user = (
        await session.execute(select(User).where(User.username == username))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if user is None or user.hall_id != hall_id or user.role != STAFF or not user.active:
        raise not_found("staff", "没有这位窗口工作人员 (unknown staff member)")
    duty = (
        await session.execute(select(WindowDuty).where(WindowDuty.staff_id == user.id))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    window_id = duty.window_id if duty is not None else user.window_id
    window = await session.get(Window, window_id) if window_id is not None else None
    if window is None:
        raise conflict(
            "staff_not_on_duty",
            f"{user.display_name or user.username} 当前不在任何窗口，不能转给其办理 "
            "(the colleague is at no window)",
        )
    return user, window


async def transfer_to_window(
    tx: Tx,
    ticket: Ticket,
    window: Window | None,
    service: Service,
    target: Window,
    *,
    staff: User | None = None,
) -> Ticket:
    """转移到窗口 (or to the colleague on duty there): the ticket waits for ``target`` only."""
    require_state(ticket, *MOVABLE, action="转移")
    assert target.id is not None
    if target.hall_id != ticket.hall_id:
        raise not_found("window", "没有这个窗口 (unknown window)")
    if target.status == "closed":
        raise conflict(
            "window_closed", f"{target.number} 号窗口已关闭，不能转入 (the window is closed)"
        )
    if ticket.service_id not in await window_service_ids(tx.session, target.id):
        raise conflict(
            "window_not_serving",
            f"{target.number} 号窗口不办理「{service.name}」，不能转入 "
            "(that window does not serve the ticket's service)",
        )
    if ticket.window_id == target.id and ticket.status in rules.AT_WINDOW:
        raise conflict("same_window", "号票已在该窗口办理 (the ticket is already at that window)")
    before = snapshot(ticket)
    _requeue(ticket)
    ticket.target_window_id = target.id
    detail: dict[str, object] = {"to_window": target.number}
    if staff is not None:
        detail["to_staff"] = staff.username
    record_step(tx, ticket, "transferred", **detail)
    tx.audit("ticket.transfer", ticket, before=before)
    emit_ticket(tx, ticket, window)
    await emit_queue(tx, ticket.hall_id, [service], change="transferred", ticket=ticket.number)
    return ticket
