"""HTTP endpoints of the hall administrator's configuration: thin wrappers around ``service``
(devices: device_routes.py; the set-up workbook: setup_routes.py).

Admin only, own hall only. Changes to services reach this process's kiosk path at once (the
issue queue forgets the hall); other ``serve`` processes pick them up within their cache time
(``queue.hall_batch.HALL_CACHE_SECONDS``, 2 s). Device changes likewise clear this process's
device-key cache; other processes honour a rotated or deactivated key within
``auth.principal.DEVICE_CACHE_SECONDS`` (30 s).
"""

from __future__ import annotations

import re

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import not_found
from ..api.scope import HALL
from ..halls.lookup import departments_by_id, own_hall
from ..halls.models import Department, Hall, Service, Window
from ..queue.issuing import forget_hall
from . import queries, service, staff
from .routing import ADMIN_ONLY, CONFIG, commit
from .schemas import (
    AdminServiceOut,
    AdminWindowOut,
    DepartmentCreate,
    DepartmentOut,
    DepartmentPatch,
    ServiceCreate,
    ServicePatch,
    SettingsOut,
    SettingsPatch,
    StaffCreate,
    StaffOut,
    StaffPatch,
    WindowCreate,
    WindowPatch,
)
from .service import found
from .views import department_out, service_out, settings_out, staff_out, window_out

router = ApiRouter("admin")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _changes(body: object) -> dict[str, object]:
    return body.model_dump(exclude_unset=True)  # type: ignore[attr-defined, no-any-return]


# -- settings ---------------------------------------------------------------------------------
@router.route("GET", "/halls/{hall}/settings", roles=ADMIN_ONLY, response=SettingsOut, scope=HALL)
async def get_settings(api: ApiRequest) -> SettingsOut:
    """大厅设置: name, notice, issuing hours and days, closing time, recall limit."""
    async with api.state.db.read() as session:
        return settings_out(await own_hall(api, session))


@router.route("PATCH", "/halls/{hall}/settings", roles=ADMIN_ONLY, response=SettingsOut, scope=HALL)
async def patch_settings(api: ApiRequest[SettingsPatch]) -> SettingsOut:
    """修改大厅设置 (the hall displays get the new name and notice at once)."""
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
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
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        user = await staff.add_staff(tx, hall, api.body.model_dump())
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
        user = await staff.user_by_name(session, username) if _USERNAME.match(username) else None
        if user is None:
            raise not_found("user", "没有这个人员 (unknown user)")
        user = api.own(found(user, "user", "没有这个人员 (unknown user)"))
        assert user.hall_id is not None  # of the caller's hall (api.own)
        tx = api.tx(session, user.hall_id)
        await staff.update_staff(tx, user, _changes(api.body), acting=api.principal)
        await commit(tx)
        return await staff_out(session, user)
