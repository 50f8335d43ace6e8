"""Which alerts are due (前面还有N人 / 已叫号) and sending each at most once per ticket.

A look at a hall reads its open contacts and their tickets as they stand now, so an event
seen late, twice or not at all changes nothing: what is due is sent once. Each alert is first
claimed in the database (``…_sent_at`` set where it was NULL, committed), then sent outside any
transaction: two processes never both send it, and a slow or failing gateway holds up no call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
from ..halls.lookup import business_day
from ..halls.models import Hall, Window
from ..queue import rules
from ..queue.estimate import ahead_of
from ..queue.models import Ticket
from ..queue.outlook import Outlook, fresh_outlook
from .contacts import erase_before
from .gateway import Gateway
from .models import AlertContact

log = logging.getLogger("window_service.notify")

_TABLE = AlertContact.__table__  # type: ignore[attr-defined]
AHEAD = "ahead"
CALLED = "called"
#: Once a ticket is past these, no alert can be due: its number is erased.
_STILL_DUE = (rules.WAITING, rules.REMOTE, rules.CALLED)


@dataclass(frozen=True)
class Alert:
    contact_id: int
    kind: str
    phone: str
    text: str


def alert_text(hall: Hall, ticket: Ticket, kind: str, ahead: int, where: str) -> str:
    """The message, in Chinese (the citizen's tracking page carries the English)."""
    head = f"【{hall.name}】"
    if kind == CALLED:
        return f"{head}请{ticket.number}号到{where}办理。过号需重新取号。"
    if ticket.status == rules.REMOTE:
        return f"{head}您的网上取号{ticket.number}前面还有{ahead}人，请尽快到大厅签到。"
    return f"{head}您的号码{ticket.number}前面还有{ahead}人，请到等候区留意叫号。"


async def _where(session: AsyncSession, window_id: int | None) -> str:
    """ "1号窗口（一楼A区）": the window called to, with its zone."""
    window = await session.get(Window, window_id) if window_id is not None else None
    if window is None:
        return "窗口"
    return f"{window.number}号窗口（{window.zone}）" if window.zone else f"{window.number}号窗口"


async def due(db: Database, hall_id: int, now: datetime) -> tuple[list[Alert], list[int]]:
    """The alerts due now in the hall (unclaimed), and the contacts that need none any more."""
    alerts: list[Alert] = []
    finished: list[int] = []
    async with db.read() as session:
        hall = await session.get(Hall, hall_id)
        if hall is None:
            return [], []
        today = business_day(hall, now)
        rows = (
            await session.execute(
                select(AlertContact, Ticket)
                .join(Ticket, Ticket.id == AlertContact.ticket_id)  # type: ignore[arg-type]
                .where(
                    AlertContact.hall_id == hall_id,  # type: ignore[arg-type]
                    AlertContact.business_day == today,  # type: ignore[arg-type]
                    AlertContact.erased_at.is_(None),  # type: ignore[union-attr]
                )
            )
        ).all()
        outlook: Outlook | None = None
        for contact, ticket in rows:
            assert contact.id is not None
            if ticket.status not in _STILL_DUE or contact.phone is None:
                finished.append(contact.id)
                continue
            if ticket.status == rules.CALLED:
                if contact.called_sent_at is None:
                    where = await _where(session, ticket.window_id)
                    text = alert_text(hall, ticket, CALLED, 0, where)
                    alerts.append(Alert(contact.id, CALLED, contact.phone, text))
                continue
            if contact.ahead_sent_at is not None or hall.alert_ahead <= 0:
                continue
            if outlook is None:  # the hall's staffing and service times, read once a round
                outlook = await fresh_outlook(session, hall_id, today)
            ahead = sum((await ahead_of(session, ticket, outlook)).values())
            if ahead <= hall.alert_ahead:
                text = alert_text(hall, ticket, AHEAD, ahead, "")
                alerts.append(Alert(contact.id, AHEAD, contact.phone, text))
    return alerts, finished


async def claim(db: Database, alert: Alert, now: datetime) -> bool:
    """Take the alert for this process: True if nobody had (committed before sending). The
    called alert ends the contact: the number is erased in the same statement."""
    column = _TABLE.c.called_sent_at if alert.kind == CALLED else _TABLE.c.ahead_sent_at
    values: dict[str, object] = {column.name: now}
    if alert.kind == CALLED:
        # Called: a "N ahead" not yet sent is past; the number is not needed any more.
        values.update(phone=None, erased_at=now)
    async with db.write() as session:
        result = await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == alert.contact_id, column.is_(None), _TABLE.c.erased_at.is_(None))
            .values(**values)
        )
        await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def erase(db: Database, contact_ids: list[int], now: datetime) -> None:
    if not contact_ids:
        return
    async with db.write() as session:
        await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id.in_(contact_ids), _TABLE.c.erased_at.is_(None))
            .values(phone=None, erased_at=now)
        )
        await session.commit()


async def look(db: Database, gateway: Gateway, hall_id: int, now: datetime) -> int:
    """One look at a hall: send what is due (each once); the number of messages sent."""
    alerts, finished = await due(db, hall_id, now)
    await erase(db, finished, now)
    sent = 0
    for alert in alerts:
        if not await claim(db, alert, now):
            continue  # another process (or an earlier look) has it
        try:
            await gateway.send(alert.phone, alert.text)
            sent += 1
        except Exception as exc:  # logged, never retried: at most once, and never blocking
            log.warning("alert %s of contact %s not sent: %s", alert.kind, alert.contact_id, exc)
    return sent


async def erase_past_days(db: Database, now: datetime) -> None:
    """Housekeeping: erase the numbers kept for business days that have ended."""
    async with db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        async with db.write() as session:
            await erase_before(session, hall.id, business_day(hall, now), now)
            await session.commit()
