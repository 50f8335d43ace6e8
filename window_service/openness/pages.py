"""Pages of openness: the public results page (办件结果公示) /results/{hall}, and the office's
page of fee flags and the platform backlog (/office/openness)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.errors import ApiError
from ..auth.roles import ADMIN, INSPECTOR
from ..halls.lookup import business_day, get_hall, local_time
from ..halls.models import Hall
from ..outbox.backlog import backlogs
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from . import fees, queries, results
from .views import charges_out

OFFICE_LINKS.append(
    OfficeLink(
        "/office/openness",
        N_("收费与公开"),
        roles=(INSPECTOR, ADMIN),
        description=N_("乱收费预警、收费标准执行情况；好差评平台推送积压"),
    )
)

#: Labels the pages show from openness.results and openness.fees, marked for the catalogue.
LABEL_TEXTS = (
    *(N_("准予办结"), N_("不予受理")),
    *(N_("超标准收费"), N_("免费事项收费"), N_("收取标准外费用"), N_("事项未设收费标准")),
)

BAD_RANGE = N_("日期无效：开始日期不能晚于结束日期，且一次最多查询92天")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    return date.fromisoformat(text.strip()[:10])


async def results_page(request: Request) -> Response:
    """办件结果公示 (public): decided cases of a date range, the applicant's name masked."""
    state = app_state(request)
    now = state.clock.now()
    async with state.db.read() as session:
        try:
            hall = await get_hall(session, request.path_params["hall"])
        except ApiError:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        raw_from = request.query_params.get("from", "")
        raw_to = request.query_params.get("to", "")
        try:
            start, end = results.result_range(hall, now, _day(raw_from), _day(raw_to))
        except (ApiError, ValueError):
            return await render(
                request,
                "openness/results.html",
                {"hall": hall, "rows": [], "message": BAD_RANGE, "start": raw_from, "end": raw_to},
                status=422,
            )
        rows = await results.decided_cases(session, hall, start, end)
    return await render(
        request,
        "openness/results.html",
        {
            "hall": hall,
            "rows": rows,
            "message": None,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )


async def office_page(request: Request) -> Response:
    """收费与公开: this month's fee flags and figures, and the platform backlog."""
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN))
    if isinstance(user, Response):
        return user
    state = app_state(request)
    now = state.clock.now()
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        today = business_day(hall, now)
        start = today.replace(day=1)
        counted = await fees.fee_breaches(session, hall.id, start, today)
        rows = await queries.flagged_charges(session, hall.id, start)
        flags = await charges_out(session, hall, rows)
        backlog = (await backlogs(session, hall.id)).get(hall.id)
    oldest = backlog.oldest_pending_at if backlog else None
    return await render(
        request,
        "openness/office.html",
        {
            "hall": hall,
            "start": start,
            "end": today,
            "counted": counted,
            "flags": flags,
            "backlog": backlog,
            "configured": bool(state.settings.platform_url),
            "oldest": local_time(hall, oldest).isoformat()[:16].replace("T", " ") if oldest else "",
            "oldest_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
        },
    )


routes = [
    Route("/results/{hall}", results_page, methods=["GET"]),
    Route("/office/openness", office_page, methods=["GET"]),
]
