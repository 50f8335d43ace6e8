"""咨询登记: a consultation at a window, whose registrar becomes its first responder (首问负责)."""

from __future__ import annotations

from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..queue.models import Ticket, TicketEvent
from ..transaction import Tx
from .models import Consultation
from .service import Where


async def register_consultation(
    tx: Tx,
    hall: Hall,
    service: Service,
    *,
    summary: str,
    citizen_name: str,
    referred_to: str,
    ticket: Ticket | None,
    where: Where,
) -> Consultation:
    """咨询登记: the registrar becomes the consultation's first responder (a ``ticket`` of
    ``hall``: the route's scope holds it to the caller's hall and window)."""
    assert hall.id is not None and service.id is not None
    row = Consultation(
        hall_id=hall.id,
        service_id=service.id,
        ticket_id=ticket.id if ticket is not None else None,
        window_id=where.window_id,
        staff_id=tx.actor.user_id,
        summary=summary,
        citizen_name=citizen_name,
        referred_to=referred_to,
        created_at=tx.now,
        business_day=business_day(hall, tx.now),
    )
    tx.session.add(row)
    await tx.session.flush()
    if ticket is not None:
        assert ticket.id is not None
        tx.session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=tx.now,
                action="consultation",
                staff_id=tx.actor.user_id,
                window_id=where.window_id,
                service_id=service.id,
                detail={"consultation": row.id, "referred_to": referred_to},
            )
        )
    tx.audit("consultation.register", row)
    tx.emit(
        "office.consultation",
        department_id=service.department_id,
        service=service.code,
        referred=bool(referred_to),
    )
    return row
