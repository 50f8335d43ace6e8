"""HTTP endpoints of the hall administrator's configuration: thin wrappers around ``service``.

Admin only, own hall only. Changes to services reach this process's kiosk path at once (the
issue queue forgets the hall); other ``serve`` processes pick them up within their cache time
(``queue.issuing.HALL_CACHE_SECONDS``, 2 s). Device changes likewise clear this process's
device-key cache; other processes honour a rotated or deactivated key within
``auth.principal.DEVICE_CACHE_SECONDS`` (30 s).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import conflict, invalid, not_found
from ..api.scope import HALL, Scope
from ..api.uploads import read_upload
from ..auth.roles import ADMIN
from ..halls.lookup import departments_by_id, get_hall
from ..halls.models import Department, Device, Hall, Service, Window
from ..queue.issuing import forget_hall
from ..transaction import Tx
from . import queries, service, setup
from .schemas import (
    AdminServiceOut,
    AdminWindowOut,
    DepartmentCreate,
    DepartmentOut,
    DepartmentPatch,
    DeviceAction,
    DeviceCreate,
    DeviceKeyOut,
    DeviceOut,
    ServiceCreate,
    ServicePatch,
    SettingsOut,
    SettingsPatch,
    SetupCounts,
    SetupImportOut,
    SetupImportQuery,
    StaffCreate,
    StaffOut,
    StaffPatch,
    WindowCreate,
    WindowPatch,
)
from .service import found
from .views import department_out, device_out, service_out, settings_out, staff_out, window_out
from .workbook import write_workbook

router = ApiRouter("admin")
ADMIN_ONLY = [ADMIN]
#: A department, service, window, account or device: of the administrator's own hall.
CONFIG = Scope("hall", "配置", "configuration")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


async def commit(tx: Tx) -> None:
    """Commit; a duplicate that slipped past the checks (two administrators racing) is a 409."""
    try:
        await tx.commit()
    except IntegrityError as exc:
        await tx.session.rollback()
        raise conflict(
            "duplicate", "与已有配置重复，请刷新后重试 (duplicate; reload and retry)"
        ) from exc


def _changes(body: object) -> dict[str, object]:
    return body.model_dump(exclude_unset=True)  # type: ignore[attr-defined, no-any-return]


# -- settings ---------------------------------------------------------------------------------
@router.route("GET", "/halls/{hall}/settings", roles=ADMIN_ONLY, response=SettingsOut, scope=HALL)
async def get_settings(api: ApiRequest) -> SettingsOut:
    """大厅设置: name, notice, issuing hours and days, closing time, recall limit."""
    async with api.state.db.read() as session:
        return settings_out(api.own(await get_hall(session, api.path["hall"])))


@router.route("PATCH", "/halls/{hall}/settings", roles=ADMIN_ONLY, response=SettingsOut, scope=HALL)
async def patch_settings(api: ApiRequest[SettingsPatch]) -> SettingsOut:
    """修改大厅设置 (the hall displays get the new name and notice at once)."""
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        await service.update_settings(tx, hall, _changes(api.body))
        await commit(tx)
        forget_hall(api.request, hall.code)
        return settings_out(hall)


# -- departments ------------------------------------------------------------------------------
@router.route(
    "GET", "/halls/{hall}/departments", roles=ADMIN_ONLY, response=list[DepartmentOut], scope=HALL
)
async def list_departments(api: ApiRequest) -> list[DepartmentOut]:
    """部门列表."""
    async with api.state.db.read() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        departments = await departments_by_id(session, hall.id)
        return [department_out(d) for d in sorted(departments.values(), key=lambda d: d.code)]


@router.route(
    "POST",
    "/halls/{hall}/departments",
    roles=ADMIN_ONLY,
    response=DepartmentOut,
    status=201,
    extra_statuses=(409,),
    scope=HALL,
)
async def create_department(api: ApiRequest[DepartmentCreate]) -> DepartmentOut:
    """新增部门."""
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        department = await service.add_department(tx, hall, api.body.code, api.body.name)
        await commit(tx)
        return department_out(department)


@router.route(
    "PATCH",
    "/departments/{id:int}",
    roles=ADMIN_ONLY,
    response=DepartmentOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def patch_department(api: ApiRequest[DepartmentPatch]) -> DepartmentOut:
    """修改部门代码或名称."""
    async with api.state.db.write() as session:
        department = await session.get(Department, api.path["id"])
        department = api.own(found(department, "department", "没有这个部门 (unknown department)"))
        tx = api.tx(session, department.hall_id)
        await service.update_department(tx, department, _changes(api.body))
        await commit(tx)
        return department_out(department)


# -- services ---------------------------------------------------------------------------------
@router.route(
    "GET",
    "/halls/{hall}/admin/services",
    roles=ADMIN_ONLY,
    response=list[AdminServiceOut],
    scope=HALL,
)
async def list_services(api: ApiRequest) -> list[AdminServiceOut]:
    """事项配置 (all services, inactive ones too, with guide, materials and fees)."""
    async with api.state.db.read() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        departments = await departments_by_id(session, hall.id)
        return [service_out(s, departments) for s in await queries.services(session, hall.id)]


@router.route(
    "POST",
    "/halls/{hall}/services",
    roles=ADMIN_ONLY,
    response=AdminServiceOut,
    status=201,
    extra_statuses=(409,),
    scope=HALL,
)
async def create_service(api: ApiRequest[ServiceCreate]) -> AdminServiceOut:
    """新增事项 (prefix unique in the hall; promised days ≤ legal days)."""
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        svc = await service.add_service(tx, hall, api.body.model_dump())
        await commit(tx)
        forget_hall(api.request, hall.code)
        return service_out(svc, await departments_by_id(session, hall.id))


@router.route(
    "PATCH",
    "/services/{id:int}",
    roles=ADMIN_ONLY,
    response=AdminServiceOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def patch_service(api: ApiRequest[ServicePatch]) -> AdminServiceOut:
    """修改事项 (deactivate with active=false; nothing is deleted)."""
    async with api.state.db.write() as session:
        svc = await session.get(Service, api.path["id"])
        svc = api.own(found(svc, "service", "没有这个事项 (unknown service)"))
        hall = await session.get(Hall, svc.hall_id)
        assert hall is not None
        tx = api.tx(session, svc.hall_id)
        await service.update_service(tx, svc, _changes(api.body))
        await commit(tx)
        forget_hall(api.request, hall.code)
        return service_out(svc, await departments_by_id(session, svc.hall_id))


# -- windows ----------------------------------------------------------------------------------
@router.route(
    "GET",
    "/halls/{hall}/admin/windows",
    roles=ADMIN_ONLY,
    response=list[AdminWindowOut],
    scope=HALL,
)
async def list_windows(api: ApiRequest) -> list[AdminWindowOut]:
    """窗口配置 (number, name, services in order of preference, staff assigned)."""
    async with api.state.db.read() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        return [await window_out(session, w) for w in await queries.windows(session, hall.id)]


@router.route(
    "POST",
    "/halls/{hall}/windows",
    roles=ADMIN_ONLY,
    response=AdminWindowOut,
    status=201,
    extra_statuses=(409,),
    scope=HALL,
)
async def create_window(api: ApiRequest[WindowCreate]) -> AdminWindowOut:
    """新增窗口 with the services it serves."""
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        body = api.body
        window = await service.add_window(
            tx, hall, body.number, body.name, body.services, zone=body.zone
        )
        await commit(tx)
        return await window_out(session, window)


@router.route(
    "PATCH",
    "/windows/{id:int}/config",
    roles=ADMIN_ONLY,
    response=AdminWindowOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def patch_window(api: ApiRequest[WindowPatch]) -> AdminWindowOut:
    """修改窗口编号、名称或所办事项 (services replace the old list, in order)."""
    async with api.state.db.write() as session:
        window = await session.get(Window, api.path["id"])
        window = api.own(found(window, "window", "没有这个窗口 (unknown window)"))
        tx = api.tx(session, window.hall_id)
        await service.update_window(tx, window, _changes(api.body))
        await commit(tx)
        return await window_out(session, window)


# -- staff -------------------------------------------------------------------------------------
@router.route("GET", "/halls/{hall}/staff", roles=ADMIN_ONLY, response=list[StaffOut], scope=HALL)
async def list_staff(api: ApiRequest) -> list[StaffOut]:
    """人员列表 (every account of the hall, deactivated ones too)."""
    async with api.state.db.read() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        return [await staff_out(session, u) for u in await queries.users(session, hall.id)]


@router.route(
    "POST",
    "/halls/{hall}/staff",
    roles=ADMIN_ONLY,
    response=StaffOut,
    status=201,
    extra_statuses=(409,),
    scope=HALL,
)
async def create_staff(api: ApiRequest[StaffCreate]) -> StaffOut:
    """新增人员 (staff need a window; heads may answer for departments)."""
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        user = await service.add_staff(tx, hall, api.body.model_dump())
        await commit(tx)
        return await staff_out(session, user)


@router.route(
    "PATCH",
    "/staff/{username}",
    roles=ADMIN_ONLY,
    response=StaffOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def patch_staff(api: ApiRequest[StaffPatch]) -> StaffOut:
    """修改人员：窗口、角色、分管部门、停用/启用、重置密码 (deactivation ends their sign-ins)."""
    username = api.path["username"]
    async with api.state.db.write() as session:
        user = await service.user_by_name(session, username) if _USERNAME.match(username) else None
        if user is None:
            raise not_found("user", "没有这个人员 (unknown user)")
        user = api.own(found(user, "user", "没有这个人员 (unknown user)"))
        tx = api.tx(session, user.hall_id)
        await service.update_staff(tx, user, _changes(api.body), acting=api.principal)
        await commit(tx)
        return await staff_out(session, user)


# -- devices ------------------------------------------------------------------------------------
@router.route(
    "GET", "/halls/{hall}/devices", roles=ADMIN_ONLY, response=list[DeviceOut], scope=HALL
)
async def list_devices(api: ApiRequest) -> list[DeviceOut]:
    """设备列表 (kiosks, displays, evaluator pads; keys are never shown again)."""
    async with api.state.db.read() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        return [await device_out(session, d) for d in await queries.devices(session, hall.id)]


@router.route(
    "POST", "/halls/{hall}/devices", roles=ADMIN_ONLY, response=DeviceKeyOut, status=201, scope=HALL
)
async def create_device(api: ApiRequest[DeviceCreate]) -> DeviceOut:
    """登记设备; the response carries its key, shown this once."""
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        body = api.body
        device, key = await service.add_device(tx, hall, body.kind, body.name, body.window)
        await commit(tx)
        api.state.auth.forget_devices()
        return await device_out(session, device, key)


async def _device(session: AsyncSession, api: ApiRequest[Any, Any]) -> Device:
    device = await session.get(Device, api.path["id"])
    device = api.own(found(device, "device", "没有这个设备 (unknown device)"))
    return device


@router.route(
    "POST",
    "/devices/{id:int}/rotate-key",
    roles=ADMIN_ONLY,
    response=DeviceKeyOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def rotate_device_key(api: ApiRequest[DeviceAction]) -> DeviceOut:
    """更换设备密钥 (the old key stops working; the new one is shown this once)."""
    async with api.state.db.write() as session:
        device = await _device(session, api)
        tx = api.tx(session, device.hall_id)
        key = await service.rotate_key(tx, device, api.body.reason)
        await commit(tx)
        api.state.auth.forget_devices()
        return await device_out(session, device, key)


@router.route(
    "POST",
    "/devices/{id:int}/deactivate",
    roles=ADMIN_ONLY,
    response=DeviceOut,
    extra_statuses=(409,),
    scope=CONFIG,
)
async def deactivate_device(api: ApiRequest[DeviceAction]) -> DeviceOut:
    """停用设备 (its key stops working; the record stays)."""
    async with api.state.db.write() as session:
        device = await _device(session, api)
        tx = api.tx(session, device.hall_id)
        await service.deactivate_device(tx, device, api.body.reason)
        await commit(tx)
        api.state.auth.forget_devices()
        return await device_out(session, device)


__all__ = ["router"]


# -- set-up workbook (大厅配置导入) ---------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _counts(counter: Counter[str]) -> SetupCounts:
    return SetupCounts(
        department=counter["department"],
        service=counter["service"],
        window=counter["window"],
        user=counter["user"],
    )


@router.route("GET", "/setup/template", roles=ADMIN_ONLY, response=None)
async def setup_template(api: ApiRequest) -> Response:
    """导入模板: the set-up workbook's four sheets, with one example row each (.xlsx)."""
    return _xlsx(write_workbook(), "大厅配置导入模板.xlsx")


@router.route("GET", "/halls/{hall}/setup/export", roles=ADMIN_ONLY, response=None, scope=HALL)
async def setup_export(api: ApiRequest) -> Response:
    """导出配置: the hall's configuration as a set-up workbook (.xlsx; no passwords)."""
    async with api.state.db.read() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        data = write_workbook(await setup.export_setup(session, hall))
    return _xlsx(data, f"{hall.code}-配置.xlsx")


@router.route(
    "POST",
    "/halls/{hall}/setup/import",
    roles=ADMIN_ONLY,
    response=SetupImportOut,
    extra_statuses=(413, 415),
    scope=HALL,
)
async def setup_import(api: ApiRequest[None, SetupImportQuery]) -> SetupImportOut:
    """导入配置: a set-up workbook (multipart field ``file``), checked whole before anything
    is written. ``dry_run=true`` only reports. Errors: 422 ``invalid_workbook`` with every
    problem in ``details`` (``sheet``, ``row``, ``column``, ``message``)."""
    data = await read_upload(
        api, "file", what="文件", missing="请选择要导入的工作簿（字段 file）(field file required)"
    )
    async with api.state.db.write() as session:
        hall = api.own(await get_hall(session, api.path["hall"]))
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        try:
            summary = await setup.import_workbook(tx, hall, data, dry_run=api.query.dry_run)
        except setup.SetupRefused as refused:
            raise invalid(
                "invalid_workbook",
                f"工作簿有 {len(refused.problems)} 处错误，未写入任何内容 "
                "(the workbook has errors; nothing was written)",
                details=[
                    {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message}
                    for p in refused.problems
                ],
            ) from refused
        except IntegrityError as exc:
            await session.rollback()
            raise conflict(
                "duplicate", "与已有配置重复，请刷新后重试 (duplicate; reload and retry)"
            ) from exc
    if not api.query.dry_run and summary.changes:
        forget_hall(api.request, hall.code)
    return SetupImportOut(
        dry_run=api.query.dry_run,
        created=_counts(summary.created),
        updated=_counts(summary.updated),
        switched_off=_counts(summary.switched_off),
        changes=summary.changes,
        passwords=summary.passwords,
    )
