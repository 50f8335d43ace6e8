"""The administrator's configuration page (/office/admin, 大厅配置): settings, departments,
services, windows, staff and devices, each with simple forms that call the admin API
(static/admin.js through app.js's ``api()``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.roles import ADMIN, DEVICE_KINDS, ROLE_LABELS, USER_ROLES
from ..halls.lookup import departments_by_id
from ..halls.models import Hall
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from . import queries
from .views import department_out, device_out, service_out, settings_out, staff_out, window_out

OFFICE_LINKS.append(
    OfficeLink(
        "/office/admin",
        N_("大厅配置"),
        roles=(ADMIN,),
        description=N_("大厅设置、部门、事项、窗口、人员与设备的配置（仅管理员）"),
    )
)

DEVICE_KIND_LABELS = {"kiosk": N_("取号机"), "display": N_("显示屏"), "evaluator": N_("评价器")}


async def admin_page(request: Request) -> Response:
    """大厅配置: everything a county's administrator sets up in their own hall."""
    user = await require_page_user(request, roles=(ADMIN,))
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        if hall is None or hall.id is None:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        departments = await departments_by_id(session, hall.id)
        services = await queries.services(session, hall.id)
        windows = await queries.windows(session, hall.id)
        users = await queries.users(session, hall.id)
        devices = await queries.devices(session, hall.id)
        shown = [service_out(s, departments) for s in services]
        context = {
            "hall": hall,
            "settings": settings_out(hall),
            "departments": [
                department_out(d) for d in sorted(departments.values(), key=lambda d: d.code)
            ],
            "services": shown,
            "service_names": {s.code: s.name for s in shown},
            "department_names": {d.code: d.name for d in departments.values()},
            "windows": [await window_out(session, w) for w in windows],
            "staff": [await staff_out(session, u) for u in users],
            "devices": [await device_out(session, d) for d in devices],
            "roles": [(role, ROLE_LABELS[role]) for role in USER_ROLES],
            "role_labels": ROLE_LABELS,
            "device_kinds": [(kind, DEVICE_KIND_LABELS[kind]) for kind in DEVICE_KINDS],
            "device_labels": DEVICE_KIND_LABELS,
        }
    return await render(request, "admin/office_admin.html", context)


routes = [Route("/office/admin", admin_page, methods=["GET"])]
