"""挂起 and 恢复: a called or serving ticket set aside at its window, and taken up again.

The citizen steps away (to fetch a copy, a missing paper); the window is free to call others
meanwhile. The held ticket stays the window's (``window_id``) and only that window resumes
it, once it has no other ticket called or serving. It resumes where it stood: serving when
service had started, else called. Each hold is a ``held`` step in the ticket's events and
counts in ``Ticket.holds`` (the office statistics add them up per window, staff, service and
day). A ticket still held when its business day ends expires like a waiting one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict
from ..chain import snapshot
from ..halls.models import Window
from ..transaction import Tx
from . import rules
from .models import Ticket
from .service import current_at_window, emit_ticket, record_step, require_state


async def hold(tx: Tx, ticket: Ticket, window: Window | None) -> Ticket:
    """挂起: set the window's called or serving ticket aside."""
    require_state(ticket, *rules.AT_WINDOW, action="挂起")
    before = snapshot(ticket)
    was = ticket.status
    ticket.status = rules.HELD
    ticket.holds += 1
    record_step(tx, ticket, "held", was=was)
    tx.audit("ticket.hold", ticket, before=before)
    emit_ticket(tx, ticket, window)
    return ticket


async def resume(tx: Tx, ticket: Ticket, window: Window | None) -> Ticket:
    """恢复办理: the held ticket is the window's current ticket again (409 while it is busy)."""
    require_state(ticket, rules.HELD, action="恢复办理")
    if window is None or window.id is None:
        raise conflict("no_window", "号票没有所属窗口，不能恢复 (the ticket has no window)")
    # The window's row is the lock calls take: a call and a resume at one window do not race.
    await tx.session.execute(
        select(Window.id).where(Window.id == window.id).with_for_update()  # type: ignore[arg-type]
    )
    busy = await current_at_window(tx.session, window.id)
    if busy is not None:
        raise conflict(
            "window_busy",
            f"窗口当前还有 {busy.number} 号未办结，请先办结、挂起或回队后再恢复 {ticket.number} "
            "(finish, hold or return the current ticket first)",
        )
    before = snapshot(ticket)
    ticket.status = rules.SERVING if ticket.started_at is not None else rules.CALLED
    ticket.staff_id = tx.actor.user_id or ticket.staff_id
    record_step(tx, ticket, "resumed", to=ticket.status)
    tx.audit("ticket.resume", ticket, before=before)
    emit_ticket(tx, ticket, window)
    return ticket


async def held_at_window(session: AsyncSession, window_id: int, day: date) -> list[Ticket]:
    """The window's held tickets of the business day, oldest hold first."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.window_id == window_id,  # type: ignore[arg-type]
            Ticket.status == rules.HELD,  # type: ignore[arg-type]
            Ticket.business_day == day,  # type: ignore[arg-type]
        )
        .order_by(Ticket.called_at, Ticket.id)  # type: ignore[arg-type]
    )
    return list((await session.execute(stmt)).scalars())
