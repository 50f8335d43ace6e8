"""Housekeeping: flag rectifications that pass their deadline (整改逾期), once each.

An open rectification whose due day (hall date) has passed gets one ``rectification.overdue``
audit record and one ``office.rectification`` event (``change: "overdue"``), so the office
dashboard hears of it live. The audit record is also the memory of "already flagged", which
keeps the job idempotent across rounds and processes.
"""

from __future__ import annotations

from sqlalchemy import select

from ..halls.lookup import business_day
from ..halls.models import Hall
from ..ledger import AuditRecord
from ..state import AppState
from ..transaction import Actor, Tx
from .models import Rectification

ACTION = "rectification.overdue"


async def _due_ids(state: AppState, hall: Hall) -> list[int]:
    today = business_day(hall, state.clock.now())
    async with state.db.read() as session:
        overdue = set(
            (
                await session.execute(
                    select(Rectification.id).where(  # type: ignore[call-overload]
                        Rectification.hall_id == hall.id,
                        Rectification.status == "open",
                        Rectification.due < today,
                    )
                )
            ).scalars()
        )
        if not overdue:
            return []
        flagged = set(
            (
                await session.execute(
                    select(AuditRecord.entity_id).where(  # type: ignore[call-overload]
                        AuditRecord.hall_id == hall.id,
                        AuditRecord.entity == "rectification",
                        AuditRecord.action == ACTION,
                    )
                )
            ).scalars()
        )
    return sorted(i for i in overdue if str(i) not in flagged)


async def watch_rectifications(state: AppState) -> None:
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        ids = await _due_ids(state, hall)
        if not ids:
            continue
        async with state.db.write() as session:
            tx = Tx(session, hall.id, state.clock.now(), Actor.system(), state.hub.publish_local)
            # Re-checked inside the write transaction: another process may have flagged them.
            done = set(
                (
                    await session.execute(
                        select(AuditRecord.entity_id).where(  # type: ignore[call-overload]
                            AuditRecord.hall_id == hall.id,
                            AuditRecord.entity == "rectification",
                            AuditRecord.action == ACTION,
                            AuditRecord.entity_id.in_([str(i) for i in ids]),  # type: ignore[attr-defined]
                        )
                    )
                ).scalars()
            )
            for rect in (
                await session.execute(
                    select(Rectification).where(Rectification.id.in_(ids))  # type: ignore[union-attr]
                )
            ).scalars():
                if str(rect.id) in done or rect.status != "open":
                    continue
                tx.audit(ACTION, rect, reason=f"整改期限 {rect.due.isoformat()} 已过，尚未办结")
                tx.emit(
                    "office.rectification",
                    department_id=rect.department_id,
                    id=rect.id,
                    change="overdue",
                    due=rect.due.isoformat(),
                )
            await tx.commit()
