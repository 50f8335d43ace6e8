"""What the openness endpoints and pages read: services with their departments, charges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.errors import ApiError
from ..auth.models import User
from ..cases.models import Case
from ..halls.models import Department, Service, Window
from ..queue.models import Ticket
from .models import FeeCharge


async def active_services(session: AsyncSession, hall_id: int) -> list[tuple[Service, str]]:
    """The hall's active services with their department's name, in the kiosk's order."""
    rows = await session.execute(
        select(Service, Department.name)
        .join(Department, col(Department.id) == col(Service.department_id))
        .where(col(Service.hall_id) == hall_id, col(Service.active).is_(True))
        .order_by(col(Service.sort_order), col(Service.id))
    )
    return [(svc, name) for svc, name in rows.all()]


async def first_case_of(session: AsyncSession, ticket_id: int | None) -> int | None:
    """The first case accepted from the ticket (None: none)."""
    return (
        await session.execute(
            select(Case.id).where(col(Case.ticket_id) == ticket_id).order_by(col(Case.id)).limit(1)
        )
    ).scalar_one_or_none()


async def load_charge(session: AsyncSession, charge_id: int, hall_id: int) -> FeeCharge:
    """The hall's charge, locked for update; 404 for another hall's as for none."""
    charge = (
        await session.execute(
            select(FeeCharge).where(col(FeeCharge.id) == charge_id).with_for_update()
        )
    ).scalar_one_or_none()
    if charge is None or charge.hall_id != hall_id:
        raise ApiError(404, "not_found", "没有这条收费记录 (unknown charge)")
    return charge


async def flagged_charges(
    session: AsyncSession,
    hall_id: int,
    start: date,
    end: date | None = None,
    *,
    kinds: Sequence[str] | None = None,
    limit: int = 100,
) -> list[FeeCharge]:
    """Charges of the business days [start, end] with a breach (of ``kinds``; None: any),
    newest first."""
    breach = col(FeeCharge.breach)
    stmt: Any = select(FeeCharge).where(
        col(FeeCharge.hall_id) == hall_id,
        breach.is_not(None) if kinds is None else breach.in_(list(kinds)),
        col(FeeCharge.business_day) >= start,
    )
    if end is not None:
        stmt = stmt.where(col(FeeCharge.business_day) <= end)
    stmt = stmt.order_by(col(FeeCharge.charged_at).desc(), col(FeeCharge.id).desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def charge_names(
    session: AsyncSession, rows: Sequence[FeeCharge]
) -> dict[str, dict[int, Any]]:
    """What the charges name, by id: service codes, ticket numbers, case receipt numbers,
    window numbers and staff usernames."""

    def ids(attr: str) -> list[int]:
        return list({getattr(r, attr) for r in rows if getattr(r, attr) is not None})

    out: dict[str, dict[int, Any]] = {}
    for key, model, attr, value in (
        ("services", Service, "service_id", "code"),
        ("tickets", Ticket, "ticket_id", "number"),
        ("cases", Case, "case_id", "receipt_no"),
        ("windows", Window, "window_id", "number"),
        ("users", User, "staff_id", "username"),
    ):
        stmt = select(model).where(col(model.id).in_(ids(attr)))  # type: ignore[attr-defined]
        out[key] = {r.id: getattr(r, value) for r in (await session.execute(stmt)).scalars()}  # type: ignore[attr-defined]
    return out
