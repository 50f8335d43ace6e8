"""The rules of the hall administrator's configuration (管理员配置); staff accounts: staff.py, devices: devices.py.

Every change goes through a ``Tx`` and is audited with the row's state before it; nothing is
deleted (services, staff and devices are deactivated). The routes hold the rows to the
administrator's own hall (their ``scope``); the functions here take plain values.
"""

from __future__ import annotations

from datetime import time
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict, invalid, not_found
from ..cases.deadlines import check_time_limits
from ..chain import snapshot
from ..halls.models import Department, Hall, Service, Window, WindowService
from ..transaction import Tx

T = TypeVar("T")


# -- access ------------------------------------------------------------------------------
def found(row: T | None, what: str, message: str) -> T:
    """The row, or 404 ``{what}_not_found``; whose hall it is, the route's scope checks."""
    if row is None:
        raise not_found(what, message)
    return row


def hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


# -- settings -------------------------------------------------------------------------------
async def update_settings(tx: Tx, hall: Hall, changes: dict[str, Any]) -> None:
    """Change the hall's name, notice, issuing hours/days, closing time, recall limit and when
    the citizen's phone is alerted (``alert_ahead``)."""
    before = snapshot(hall)
    start = changes.get("issuing_start", hhmm(hall.issuing_start))
    end = changes.get("issuing_end", hhmm(hall.issuing_end))
    if start is not None and end is not None and _time(start) >= _time(end):
        raise invalid(
            "invalid_hours", "取号开始时间须早于结束时间 (issuing start must precede end)"
        )
    if "closing_time" in changes and changes["closing_time"] is None:
        raise invalid("invalid_closing_time", "下班时间不能为空 (closing time is required)")
    for key, value in changes.items():
        if key in ("issuing_start", "issuing_end", "closing_time"):
            value = _time(value) if value is not None else None
        elif key in ("name", "recall_limit", "alert_ahead", "issuing_weekdays") and value is None:
            raise invalid("invalid_input", f"{key} 不能为空 ({key} must not be null)")
        elif key == "notice" and value is None:
            value = ""
        setattr(hall, key, value)
    if snapshot(hall) == before:
        return
    tx.session.add(hall)
    tx.audit("hall.settings", hall, before=before)
    if hall.name != before["name"] or hall.notice != before["notice"]:
        tx.emit("hall", notice=hall.notice, name=hall.name)


# -- departments ---------------------------------------------------------------------------
async def _department_by_code(session: AsyncSession, hall_id: int, code: str) -> Department | None:
    return (
        await session.execute(
            select(Department).where(Department.hall_id == hall_id, Department.code == code)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()


async def add_department(tx: Tx, hall: Hall, code: str, name: str) -> Department:
    assert hall.id is not None
    if await _department_by_code(tx.session, hall.id, code) is not None:
        raise conflict("department_code_taken", "部门代码已存在 (department code taken)")
    department = Department(hall_id=hall.id, code=code, name=name)
    tx.session.add(department)
    await tx.session.flush()
    tx.audit("department.add", department)
    return department


async def update_department(tx: Tx, department: Department, changes: dict[str, Any]) -> None:
    before = snapshot(department)
    code = changes.get("code")
    if code is not None and code != department.code:
        if await _department_by_code(tx.session, department.hall_id, code) is not None:
            raise conflict("department_code_taken", "部门代码已存在 (department code taken)")
        department.code = code
    if changes.get("name") is not None:
        department.name = changes["name"]
    if snapshot(department) != before:
        tx.session.add(department)
        tx.audit("department.update", department, before=before)


# -- services ---------------------------------------------------------------------------------
async def _service_clash(
    session: AsyncSession, hall_id: int, *, code: str, prefix: str, except_id: int | None
) -> None:
    rows = await session.execute(
        select(Service.id, Service.code, Service.prefix).where(Service.hall_id == hall_id)  # type: ignore[call-overload]
    )
    for row_id, row_code, row_prefix in rows:
        if row_id == except_id:
            continue
        if row_code == code:
            raise conflict("service_code_taken", "事项代码已存在 (service code taken)")
        if row_prefix == prefix:
            raise conflict("prefix_taken", f"号票字头 {prefix} 已被使用 (prefix taken)")


async def department_of(session: AsyncSession, hall_id: int, code: str) -> Department:
    department = await _department_by_code(session, hall_id, code)
    if department is None:
        raise invalid("unknown_department", f"没有这个部门：{code} (unknown department)")
    return department


def _limits(legal_days: int, promised_days: int) -> None:
    problem = check_time_limits(legal_days, promised_days)
    if problem is not None:
        raise invalid("invalid_time_limits", problem)


SERVICE_FIELDS = (
    "name",
    "legal_days",
    "promised_days",
    "wait_target_minutes",
    "service_target_minutes",
    "guide",
    "materials",
    "fees",
    "legal_basis",
    "active",
)


async def add_service(tx: Tx, hall: Hall, values: dict[str, Any]) -> Service:
    assert hall.id is not None
    _limits(values["legal_days"], values["promised_days"])
    await _service_clash(
        tx.session, hall.id, code=values["code"], prefix=values["prefix"], except_id=None
    )
    department = await department_of(tx.session, hall.id, values["department"])
    assert department.id is not None
    last = (
        await tx.session.execute(
            select(Service.sort_order)  # type: ignore[call-overload]
            .where(Service.hall_id == hall.id)
            .order_by(Service.sort_order.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).scalar_one_or_none()
    service = Service(
        hall_id=hall.id,
        department_id=department.id,
        code=values["code"],
        prefix=values["prefix"],
        sort_order=(last or 0) + 1,
        **{key: values[key] for key in SERVICE_FIELDS if key in values},
    )
    tx.session.add(service)
    await tx.session.flush()
    tx.audit("service.add", service)
    return service


async def update_service(tx: Tx, service: Service, changes: dict[str, Any]) -> None:
    before = snapshot(service)
    for key, value in changes.items():
        if value is None:
            raise invalid("invalid_input", f"{key} 不能为空 ({key} must not be null)")
    _limits(
        changes.get("legal_days", service.legal_days),
        changes.get("promised_days", service.promised_days),
    )
    code = changes.get("code", service.code)
    prefix = changes.get("prefix", service.prefix)
    if code != service.code or prefix != service.prefix:
        await _service_clash(
            tx.session, service.hall_id, code=code, prefix=prefix, except_id=service.id
        )
    if "department" in changes:
        department = await department_of(tx.session, service.hall_id, changes["department"])
        assert department.id is not None
        service.department_id = department.id
    service.code, service.prefix = code, prefix
    for key in SERVICE_FIELDS:
        if key in changes:
            setattr(service, key, changes[key])
    if snapshot(service) != before:
        tx.session.add(service)
        tx.audit("service.update", service, before=before)


# -- windows ------------------------------------------------------------------------------------
async def window_by_number(session: AsyncSession, hall_id: int, number: int) -> Window | None:
    return (
        await session.execute(
            select(Window).where(Window.hall_id == hall_id, Window.number == number)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()


async def window_numbered(session: AsyncSession, hall_id: int, number: int) -> Window:
    window = await window_by_number(session, hall_id, number)
    if window is None:
        raise invalid("unknown_window", f"没有{number}号窗口 (unknown window)")
    return window


async def window_codes(session: AsyncSession, window_id: int) -> list[str]:
    rows = await session.execute(
        select(Service.code)  # type: ignore[call-overload]
        .join(WindowService, WindowService.service_id == Service.id)
        .where(WindowService.window_id == window_id)
        .order_by(WindowService.position)
    )
    return list(rows.scalars())


async def _set_window_services(tx: Tx, window: Window, codes: list[str]) -> None:
    """Replace the window's services (association rows), audited as before/after lists."""
    assert window.id is not None
    services = {
        s.code: s
        for s in (
            await tx.session.execute(select(Service).where(Service.hall_id == window.hall_id))  # type: ignore[arg-type]
        ).scalars()
    }
    before = await window_codes(tx.session, window.id)
    # A switched-off service may stay on a window (it comes back when switched on again), but
    # is not added to one.
    unknown = [
        code
        for code in codes
        if code not in services or not (services[code].active or code in before)
    ]
    if unknown:
        raise invalid("unknown_service", f"没有这些事项：{'、'.join(unknown)} (unknown services)")
    if before == codes:
        return
    for row in (
        await tx.session.execute(
            select(WindowService).where(WindowService.window_id == window.id)  # type: ignore[arg-type]
        )
    ).scalars():
        await tx.session.delete(row)
    await tx.session.flush()
    for position, code in enumerate(codes):
        service_id = services[code].id
        assert service_id is not None
        tx.session.add(WindowService(window_id=window.id, service_id=service_id, position=position))
    tx.audit_raw(
        "window.services",
        "window_service",
        str(window.id),
        before={"window": window.number, "services": before},
        after={"window": window.number, "services": list(codes)},
    )


async def add_window(
    tx: Tx, hall: Hall, number: int, name: str, codes: list[str], zone: str = ""
) -> Window:
    assert hall.id is not None
    if await window_by_number(tx.session, hall.id, number) is not None:
        raise conflict("window_number_taken", f"{number}号窗口已存在 (window number taken)")
    window = Window(hall_id=hall.id, number=number, name=name, zone=zone)
    tx.session.add(window)
    await tx.session.flush()
    tx.audit("window.add", window)
    await _set_window_services(tx, window, codes)
    return window


async def update_window(tx: Tx, window: Window, changes: dict[str, Any]) -> None:
    before = snapshot(window)
    number = changes.get("number")
    if number is not None and number != window.number:
        if await window_by_number(tx.session, window.hall_id, number) is not None:
            raise conflict("window_number_taken", f"{number}号窗口已存在 (window number taken)")
        window.number = number
    if changes.get("name") is not None:
        window.name = changes["name"]
    if changes.get("zone") is not None:
        window.zone = changes["zone"]
    if snapshot(window) != before:
        tx.session.add(window)
        tx.audit("window.update", window, before=before)
    if changes.get("services") is not None:
        await _set_window_services(tx, window, changes["services"])
