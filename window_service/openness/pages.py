"""Pages of openness: the public results page (办件结果公示) /results/{hall}."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.errors import ApiError
from ..halls.lookup import get_hall
from ..state import app_state
from ..web.pages import N_, error_page, render
from . import results

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


routes = [Route("/results/{hall}", results_page, methods=["GET"])]
