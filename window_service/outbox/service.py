"""Writing messages for the outside 好差评 platform, in the transaction of what they report.

``rating`` and ``rectification`` are called by the feedback rules (one line each). The message
is numbered per hall under the lock of the hall's outbox row, which the transaction holds until
it commits, so numbers follow commit order: the delivery loop never sees number 11 committed
while number 10 is still to come.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from ..auth.models import User
from ..cases.models import Case
from ..chain import to_jsonable
from ..feedback import policy
from ..feedback.models import Feedback, Rectification
from ..halls.lookup import local_time
from ..halls.models import Department, Hall, Service, Window
from ..queue.models import Ticket
from ..transaction import Tx
from .models import PlatformDelivery

RATING = "rating"
RECTIFICATION = "rectification"

_NEXT_SEQ = text(
    "INSERT INTO platform_outbox_hall (hall_id, last_seq, lease_owner) VALUES (:hall_id, 1, '') "
    "ON CONFLICT (hall_id) DO UPDATE SET last_seq = platform_outbox_hall.last_seq + 1 "
    "RETURNING last_seq"
)


def delivery_id(hall_code: str, seq: int) -> str:
    """The message's idempotency key: the same on every attempt, unique across halls."""
    return f"{hall_code}-{seq}"


async def enqueue(tx: Tx, hall: Hall, kind: str, body: dict[str, Any]) -> PlatformDelivery:
    """Add a message to the hall's outbox (delivered after this transaction commits)."""
    assert hall.id is not None
    seq = int((await tx.session.execute(_NEXT_SEQ, {"hall_id": hall.id})).scalar_one())
    message = {
        "id": delivery_id(hall.code, seq),
        "seq": seq,
        "type": kind,
        "hall": hall.code,
        "hall_name": hall.name,
        **body,
    }
    row = PlatformDelivery(
        hall_id=hall.id,
        seq=seq,
        kind=kind,
        body=to_jsonable(message),
        created_at=tx.now,
        next_attempt_at=tx.now,
    )
    tx.session.add(row)
    return row


async def _subject(tx: Tx, feedback_or_rect: Feedback | Rectification) -> dict[str, Any]:
    """What was rated: service, department, window, staff number, ticket and case."""
    session = tx.session
    row = feedback_or_rect
    out: dict[str, Any] = {}
    service_id = getattr(row, "service_id", None)
    if service_id is None and isinstance(row, Rectification) and row.feedback_id is not None:
        fb = await session.get(Feedback, row.feedback_id)
        service_id = fb.service_id if fb is not None else None
    svc = await session.get(Service, service_id) if service_id is not None else None
    out["service"] = svc.code if svc else None
    out["service_name"] = svc.name if svc else None
    dept = await session.get(Department, row.department_id)
    out["department"] = dept.code if dept else None
    out["department_name"] = dept.name if dept else None
    window = await session.get(Window, row.window_id) if row.window_id else None
    out["window"] = window.number if window else None
    staff = await session.get(User, row.staff_id) if row.staff_id else None
    out["staff_no"] = (staff.staff_no or None) if staff else None
    # The office's entries of other channels name their ticket and case apart.
    ticket_id = row.ticket_id or getattr(row, "subject_ticket_id", None)
    ticket = await session.get(Ticket, ticket_id) if ticket_id else None
    out["ticket"] = ticket.number if ticket else None
    receipt = None
    case_id = getattr(row, "case_id", None)
    if case_id:
        case = await session.get(Case, case_id)
        receipt = case.receipt_no if case else None
    elif ticket_id:
        receipt = (
            await session.execute(
                select(Case.receipt_no)
                .where(col(Case.ticket_id) == ticket_id)
                .order_by(col(Case.id))
                .limit(1)
            )
        ).scalar_one_or_none()
    out["receipt_no"] = receipt
    return out


async def rating(tx: Tx, feedback: Feedback) -> None:
    """A new rating (好差评) for the platform: level, channel, service and the case's receipt
    number. Never the citizen's contact or the rating token."""
    hall = await tx.session.get(Hall, feedback.hall_id)
    assert hall is not None
    body = {
        "rating_id": feedback.id,
        "level": feedback.rating,
        "label": policy.level_label(feedback.rating),
        "channel": feedback.channel,
        "tags": list(feedback.tags),
        "comment": feedback.comment,
        "rated_at": local_time(hall, feedback.created_at).isoformat(),
        **(await _subject(tx, feedback)),
    }
    await enqueue(tx, hall, RATING, body)


async def rectification(tx: Tx, rect: Rectification, change: str) -> None:
    """A step of a bad rating's rectification (整改): opened, verified, fixed, closed, voided."""
    if rect.kind != "feedback":
        return  # inspection notices are the office's own, not citizens' ratings
    hall = await tx.session.get(Hall, rect.hall_id)
    assert hall is not None
    body = {
        "rating_id": rect.feedback_id,
        "rectification_id": rect.id,
        "change": change,
        "stage": rect.stage,
        "status": rect.status,
        "due": rect.due.isoformat(),
        "substantiated": rect.substantiated,
        "finding": rect.finding,
        "measures": rect.measures,
        "callback_reached": rect.callback_reached,
        "citizen_view": rect.citizen_view,
        "at": local_time(hall, tx.now).isoformat(),
        **(await _subject(tx, rect)),
    }
    await enqueue(tx, hall, RECTIFICATION, body)
