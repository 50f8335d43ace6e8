"""Pages of efficiency warnings: the office's list (/office/warnings) and the printable
效能告诫书 (/office/warnings/{id}/print)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accountability.periods import parse_period
from ..api.dates import ascii_int
from ..api.errors import ApiError
from ..auth.roles import ADMIN, INSPECTOR
from ..halls.lookup import business_day, local_time
from ..halls.models import Hall
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from . import service
from .views import warnings_out

OFFICE_LINKS.append(
    OfficeLink(
        "/office/warnings",
        N_("效能告诫"),
        roles=(INSPECTOR, ADMIN),
        description=N_("一个季度内多次差评、暗访不合格或一次性告知违规，提出并下发效能告诫"),
    )
)

#: Labels the pages show from the service's codes, marked for the catalogue.
LABELS = {
    "bad_ratings": N_("查实差评"),
    "failed_inspections": N_("暗访不合格"),
    "notice_breaches": N_("一次性告知违规"),
    "staff": N_("工作人员"),
    "department": N_("部门"),
    "proposed": N_("待处理"),
    "issued": N_("已下发"),
    "declined": N_("不予告诫"),
}


async def warnings_page(request: Request) -> Response:
    """效能告诫: a quarter's proposals and decisions; the office proposes, issues, declines."""
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN))
    if isinstance(user, Response):
        return user
    state = app_state(request)
    now = state.clock.now()
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        today = business_day(hall, now)
        current = f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"
        try:
            period = service.quarter(request.query_params.get("period") or current)
        except ApiError:
            return await error_page(request, 422, N_("季度无效"))
        rows = await warnings_out(
            session, hall, await service.warnings_of(session, hall.id, period.code)
        )
    return await render(
        request,
        "efficiency/warnings.html",
        {
            "hall": hall,
            "period": period,
            "rows": rows,
            "labels": LABELS,
            "grounds": service.GROUNDS,
            "can_decide": user.role == INSPECTOR,
        },
    )


async def print_page(request: Request) -> Response:
    """效能告诫书, printable (A4), for an issued warning."""
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN))
    if isinstance(user, Response):
        return user
    warning_id = ascii_int(request.path_params["id"])
    async with app_state(request).db.read() as session:
        warning = None
        if warning_id is not None and warning_id < 2**31:
            try:
                warning = await service.get_warning(session, warning_id)
            except ApiError:
                warning = None
        if warning is None or warning.hall_id != user.hall_id or warning.status != "issued":
            return await error_page(request, 404, N_("没有这份效能告诫书"))
        hall = await session.get(Hall, warning.hall_id)
        assert hall is not None
        [row] = await warnings_out(session, hall, [warning])
    assert warning.decided_at is not None
    return await render(
        request,
        "efficiency/print.html",
        {
            "hall": hall,
            "w": row,
            "period": parse_period(row.period),
            "issued": local_time(hall, warning.decided_at),
            "labels": LABELS,
            "grounds": service.GROUNDS,
        },
    )


routes = [
    Route("/office/warnings", warnings_page, methods=["GET"]),
    Route("/office/warnings/{id}/print", print_page, methods=["GET"]),
]
