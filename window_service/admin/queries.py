"""What the administrator's lists read: a hall's services, windows, accounts and devices."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..halls.models import Device, Service, Window


async def services(session: AsyncSession, hall_id: int) -> list[Service]:
    """Every service of the hall, inactive ones too, in the kiosk's order."""
    stmt = (
        select(Service)
        .where(Service.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(Service.sort_order, Service.prefix)  # type: ignore[arg-type]
    )
    return list((await session.execute(stmt)).scalars())


async def windows(session: AsyncSession, hall_id: int) -> list[Window]:
    stmt = select(Window).where(Window.hall_id == hall_id).order_by(Window.number)  # type: ignore[arg-type]
    return list((await session.execute(stmt)).scalars())


async def users(session: AsyncSession, hall_id: int) -> list[User]:
    """Every account of the hall, deactivated ones too, by username."""
    stmt = select(User).where(User.hall_id == hall_id).order_by(User.username)  # type: ignore[arg-type]
    return list((await session.execute(stmt)).scalars())


async def devices(session: AsyncSession, hall_id: int) -> list[Device]:
    stmt = select(Device).where(Device.hall_id == hall_id).order_by(Device.id)  # type: ignore[arg-type]
    return list((await session.execute(stmt)).scalars())


async def window_staff(session: AsyncSession, window_id: int) -> list[str]:
    """The usernames of the window's active staff."""
    stmt = (
        select(User.username)  # type: ignore[call-overload]
        .where(User.window_id == window_id, User.active.is_(True))  # type: ignore[attr-defined]
        .order_by(User.username)
    )
    return list((await session.execute(stmt)).scalars())
