"""The administrator's answers: the hall's settings, departments, services, windows, accounts
and devices as the API and the admin pages show them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..halls.models import Department, Device, Hall, Service, Window
from . import queries, service
from .schemas import (
    AdminServiceOut,
    AdminWindowOut,
    DepartmentOut,
    DeviceKeyOut,
    DeviceOut,
    SettingsOut,
    StaffOut,
)
from .staff import user_department_codes


def settings_out(hall: Hall) -> SettingsOut:
    return SettingsOut(
        code=hall.code,
        name=hall.name,
        notice=hall.notice,
        issuing_start=service.hhmm(hall.issuing_start),
        issuing_end=service.hhmm(hall.issuing_end),
        issuing_weekdays=hall.issuing_weekdays,
        closing_time=service.hhmm(hall.closing_time) or "",
        recall_limit=hall.recall_limit,
        alert_ahead=hall.alert_ahead,
    )


def department_out(d: Department) -> DepartmentOut:
    assert d.id is not None
    return DepartmentOut(id=d.id, code=d.code, name=d.name)


def service_out(s: Service, departments: dict[int, Department]) -> AdminServiceOut:
    assert s.id is not None
    department = departments[s.department_id]
    return AdminServiceOut(
        id=s.id,
        code=s.code,
        name=s.name,
        prefix=s.prefix,
        department=department.code,
        department_name=department.name,
        legal_days=s.legal_days,
        promised_days=s.promised_days,
        wait_target_minutes=s.wait_target_minutes,
        service_target_minutes=s.service_target_minutes,
        guide=s.guide,
        materials=s.materials,
        fees=s.fees,
        legal_basis=s.legal_basis,
        active=s.active,
    )


async def window_out(session: AsyncSession, w: Window) -> AdminWindowOut:
    assert w.id is not None
    staff = await queries.window_staff(session, w.id)
    return AdminWindowOut(
        id=w.id,
        number=w.number,
        name=w.name,
        zone=w.zone,
        status=w.status,
        services=await service.window_codes(session, w.id),
        staff=staff,
    )


async def staff_out(session: AsyncSession, u: User) -> StaffOut:
    assert u.id is not None
    window = await session.get(Window, u.window_id) if u.window_id is not None else None
    return StaffOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        staff_no=u.staff_no,
        role=u.role,
        window=window.number if window is not None else None,
        departments=await user_department_codes(session, u.id),
        active=u.active,
    )


async def device_out(session: AsyncSession, d: Device, key: str | None = None) -> DeviceOut:
    assert d.id is not None
    window = await session.get(Window, d.window_id) if d.window_id is not None else None
    fields = {
        "id": d.id,
        "kind": d.kind,
        "name": d.name,
        "window": window.number if window is not None else None,
        "active": d.active,
        "created_at": d.created_at,
    }
    return DeviceKeyOut(**fields, key=key) if key is not None else DeviceOut(**fields)
