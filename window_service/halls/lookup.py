"""Finding a hall and its parts, and the hall's calendar (business day, issuing hours)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import ApiRequest
from ..api.errors import not_found
from .models import Department, Hall, Service, Window, WindowService

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
#: How the materials (申请材料) of a service are kept in one text: separated by ；
#: (older entries used 、 or line breaks, which are read the same way).
_MATERIALS = re.compile(r"[；;、\n]+")


def material_list(materials: str) -> list[str]:
    """A service's materials (申请材料) as a list."""
    return [part.strip() for part in _MATERIALS.split(materials) if part.strip()]


def hall_zone(hall: Hall) -> ZoneInfo:
    return ZoneInfo(hall.timezone or "Asia/Shanghai")


def local_time(hall: Hall, at: datetime) -> datetime:
    return at.astimezone(hall_zone(hall))


def business_day(hall: Hall, at: datetime) -> date:
    """The hall's business day at ``at``: the calendar date in the hall's time zone."""
    return local_time(hall, at).date()


def issuing_open(hall: Hall, at: datetime) -> bool:
    """Whether the kiosk hands out tickets at ``at`` (the hall's issuing hours and days)."""
    local = local_time(hall, at)
    if hall.issuing_weekdays and str(local.isoweekday()) not in hall.issuing_weekdays:
        return False
    start, end = hall.issuing_start, hall.issuing_end
    now = local.time().replace(tzinfo=None)
    if start is not None and now < start:
        return False
    return not (end is not None and now >= end)


async def get_hall(session: AsyncSession, code: str) -> Hall:
    if not _CODE.match(code):
        raise not_found("hall", "没有这个服务大厅 (unknown hall)")
    hall = (await session.execute(select(Hall).where(Hall.code == code))).scalar_one_or_none()  # type: ignore[arg-type]
    if hall is None:
        raise not_found("hall", "没有这个服务大厅 (unknown hall)")
    return hall


async def own_hall(api: ApiRequest[Any, Any], session: AsyncSession) -> Hall:
    """The hall of a route's path (``/halls/{hall}/…``), held to the route's declared scope:
    404 if there is none, the scope's 403 if it is not the caller's."""
    return api.own(await get_hall(session, api.path["hall"]))


async def get_service(session: AsyncSession, hall_id: int, code: str) -> Service:
    if not _CODE.match(code):
        raise not_found("service", "没有这个事项 (unknown service)")
    service = (
        await session.execute(
            select(Service).where(Service.hall_id == hall_id, Service.code == code)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if service is None or not service.active:
        raise not_found("service", "没有这个事项 (unknown service)")
    return service


async def get_window(session: AsyncSession, window_id: int, *, lock: bool = False) -> Window:
    stmt = select(Window).where(Window.id == window_id)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    window = (await session.execute(stmt)).scalar_one_or_none()
    if window is None:
        raise not_found("window", "没有这个窗口 (unknown window)")
    return window


async def window_service_ids(session: AsyncSession, window_id: int) -> list[int]:
    rows = await session.execute(
        select(WindowService.service_id)
        .where(WindowService.window_id == window_id)  # type: ignore[arg-type]
        .order_by(WindowService.position)  # type: ignore[arg-type]
    )
    return list(rows.scalars())


async def services_by_id(session: AsyncSession, hall_id: int) -> dict[int, Service]:
    rows = await session.execute(select(Service).where(Service.hall_id == hall_id))  # type: ignore[arg-type]
    return {s.id: s for s in rows.scalars() if s.id is not None}


async def departments_by_id(session: AsyncSession, hall_id: int) -> dict[int, Department]:
    rows = await session.execute(select(Department).where(Department.hall_id == hall_id))  # type: ignore[arg-type]
    return {d.id: d for d in rows.scalars() if d.id is not None}


async def spoken_zone(session: AsyncSession, window: Window) -> str:
    """The zone (区域) to name when calling to ``window``: its zone when the hall has windows
    in other zones too, else "" (a hall of one zone needs no directions). No query for a
    window without a zone."""
    if not window.zone:
        return ""
    other = (
        await session.execute(
            select(Window.id)  # type: ignore[call-overload]
            .where(Window.hall_id == window.hall_id, Window.zone != window.zone)
            .limit(1)
        )
    ).first()
    return window.zone if other is not None else ""
