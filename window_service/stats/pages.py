"""The office statistics page (/office/stats): filters, SVG charts, a table, export links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.errors import ApiError
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from .charts import Series, bar_chart, line_chart
from .service import BY_LABELS, BY_VALUES, Stats, default_period, hall_stats, parse_period

ROLES = (ADMIN, INSPECTOR, HEAD)

OFFICE_LINKS.append(
    OfficeLink(
        "/office/stats",
        N_("效能统计"),
        roles=ROLES,
        description=N_("取号、等候、办理时长、评价与办件时限，按日、月、季度统计，可导出"),
    )
)


def charts(stats: Stats) -> list[str]:
    data = stats.as_dict()
    rows = data["rows"]
    out = []
    hours = [h for h in data["hours"] if 7 <= h["hour"] <= 19 or h["tickets"]]
    out.append(
        bar_chart(
            "各时段取号量与平均等候 (tickets and mean wait by hour)",
            [f"{h['hour']}时" for h in hours],
            [
                Series("取号数", [h["tickets"] for h in hours]),
                Series("平均等候(分)", [h["mean_wait"] for h in hours]),
            ],
        )
    )
    if stats.period.kind != "day":
        out.append(
            line_chart(
                "每日取号与办结 (tickets and served by day)",
                [d["day"][5:] for d in data["days"]],
                [
                    Series("取号数", [d["tickets"] for d in data["days"]]),
                    Series("办结数", [d["served"] for d in data["days"]]),
                    Series("过号数", [d["no_shows"] for d in data["days"]]),
                ],
            )
        )
    if rows and stats.by != "hall":
        labels = [r["label"] for r in rows]
        out.append(
            bar_chart(
                f"按{BY_LABELS[stats.by]}等候时长 (wait minutes: mean, median, p90)",
                labels,
                [
                    Series("平均", [r["wait_minutes"]["mean"] for r in rows]),
                    Series("中位数", [r["wait_minutes"]["median"] for r in rows]),
                    Series("P90", [r["wait_minutes"]["p90"] for r in rows]),
                ],
                unit="分钟",
            )
        )
        out.append(
            bar_chart(
                f"按{BY_LABELS[stats.by]}满意度与差评率 (satisfaction, bad-rating %)",
                labels,
                [
                    Series("满意度", [r["satisfaction"] for r in rows]),
                    Series(
                        "差评率%",
                        [None if r["bad_rate"] is None else r["bad_rate"] * 100 for r in rows],
                    ),
                    Series(
                        "按时办结率%",
                        [
                            None if r["case_on_time_rate"] is None else r["case_on_time_rate"] * 100
                            for r in rows
                        ],
                    ),
                ],
            )
        )
    return out


async def stats_page(request: Request) -> Response:
    user = await require_page_user(request, roles=ROLES)
    if isinstance(user, Response):
        return user
    state = app_state(request)
    period_code = (request.query_params.get("period") or "").strip()[:16]
    by = request.query_params.get("by") or "hall"
    if by not in BY_VALUES:
        by = "hall"
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id) if user.hall_id is not None else None
        if hall is None:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        now = state.clock.now()
        error = ""
        try:
            period = (
                parse_period(period_code, today=business_day(hall, now))
                if period_code
                else default_period(hall, now)
            )
        except ApiError as exc:
            error = exc.message
            period = default_period(hall, now)
        departments = user.department_ids if user.role == HEAD else None
        stats = await hall_stats(session, hall, period, by, now=now, department_ids=departments)
    query = urlencode({"period": period.code, "by": by})
    context: dict[str, Any] = {
        "hall": hall,
        "stats": stats.as_dict(),
        "period": period,
        "by": by,
        "by_labels": BY_LABELS,
        "charts": charts(stats),
        "error": error,
        "csv_url": f"/api/v1/halls/{hall.code}/stats/export?{query}&format=csv",
        "xlsx_url": f"/api/v1/halls/{hall.code}/stats/export?{query}&format=xlsx",
        "head_scope": user.role == HEAD,
    }
    return await render(request, "office_stats.html", context)


routes = [Route("/office/stats", stats_page, methods=["GET"])]
