"""The office statistics page (/office/stats): period pickers, ECharts charts (static/stats.js,\nvendored ECharts), a table, export links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.errors import ApiError
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..halls.lookup import business_day, local_time
from ..halls.models import Hall
from ..state import app_state
from ..web.pages import (
    N_,
    OFFICE_LINKS,
    OfficeLink,
    error_page,
    gettext_for,
    render,
    require_page_user,
)
from .estimates import estimate_accuracy
from .figures import Stats
from .period import default_period, parse_period
from .service import BY_LABELS, BY_VALUES, hall_stats

ROLES = (ADMIN, INSPECTOR, HEAD)

OFFICE_LINKS.append(
    OfficeLink(
        "/office/stats",
        N_("效能统计"),
        roles=ROLES,
        description=N_("取号、等候、办理时长、评价与办件时限，按日、月、季度统计，可导出"),
    )
)


PERIOD_KINDS = ("day", "month", "quarter")


def recent_quarters(today: date, count: int = 8) -> list[tuple[str, date]]:
    """The quarter picker's choices: this quarter and the ones before, newest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(count):
        out.append((f"{year:04d}-Q{quarter}", date(year, quarter * 3 - 2, 1)))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return out


def _series(name: str, values: list[Any], kind: str = "bar", axis: int = 0) -> dict[str, Any]:
    return {"name": name, "type": kind, "data": values, "axis": axis}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def charts(stats: Stats, now: datetime, _: Callable[[str], str]) -> list[dict[str, Any]]:
    """What static/stats.js draws with ECharts: titles and series in the page's language.
    Days after the hall's today, and today's hours still to come, are left out (they have no
    figures yet, not zero ones); ``now`` is the hall's local time."""
    today = now.date()
    data = stats.as_dict()
    rows = data["rows"]
    out: list[dict[str, Any]] = []
    last_hour = now.hour if stats.period.first == today and stats.period.kind == "day" else 23
    hours = [
        h
        for h in data["hours"]
        if (7 <= h["hour"] <= 19 or h["tickets"]) and h["hour"] <= last_hour
    ]
    out.append(
        {
            "title": _("各时段取号量与平均等候"),
            "categories": [_("%(h)s时") % {"h": h["hour"]} for h in hours],
            "axes": [_("取号数"), _("分钟")],
            "series": [
                _series(_("取号数"), [h["tickets"] for h in hours]),
                _series(_("平均等候（分钟）"), [h["mean_wait"] for h in hours], "line", 1),
            ],
        }
    )
    if stats.period.kind != "day":
        days = [d for d in data["days"] if d["day"] <= today.isoformat()]
        out.append(
            {
                "title": _("每日取号与办结"),
                "categories": [d["day"][5:] for d in days],
                "axes": [_("人次")],
                "series": [
                    _series(_("取号数"), [d["tickets"] for d in days], "line"),
                    _series(_("办结数"), [d["served"] for d in days], "line"),
                    _series(_("过号数"), [d["no_shows"] for d in days], "line"),
                ],
                "empty": _("本期间尚未开始。") if not days else "",
            }
        )
    if rows and stats.by != "hall":
        labels = [r["label"] for r in rows]
        by = _(BY_LABELS[stats.by])
        out.append(
            {
                "title": _("按%(by)s等候时长（分钟）") % {"by": by},
                "categories": labels,
                "axes": [_("分钟")],
                "series": [
                    _series(_("平均"), [r["wait_minutes"]["mean"] for r in rows]),
                    _series(_("中位数"), [r["wait_minutes"]["median"] for r in rows]),
                    _series("P90", [r["wait_minutes"]["p90"] for r in rows]),
                ],
            }
        )
        out.append(
            {
                "title": _("按%(by)s满意度、差评率与按时办结率") % {"by": by},
                "categories": labels,
                "axes": [_("分 / %")],
                "series": [
                    _series(_("满意度"), [r["satisfaction"] for r in rows]),
                    _series(_("差评率 %"), [_pct(r["bad_rate"]) for r in rows]),
                    _series(_("按时办结率 %"), [_pct(r["case_on_time_rate"]) for r in rows]),
                ],
            }
        )
    return out


async def stats_page(request: Request) -> Response:
    user = await require_page_user(request, roles=ROLES)
    if isinstance(user, Response):
        return user
    state = app_state(request)
    params = request.query_params
    kind = params.get("kind")
    # The pickers send kind=day|month|quarter and that kind's field; links send period=….
    field = kind if kind in PERIOD_KINDS else "period"
    period_code = (params.get(field) or "").strip()[:16]
    by = request.query_params.get("by") or "hall"
    if by not in BY_VALUES:
        by = "hall"
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id) if user.hall_id is not None else None
        if hall is None:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        now = state.clock.now()
        today = business_day(hall, now)
        error = ""
        try:
            period = (
                parse_period(period_code, today=today) if period_code else default_period(hall, now)
            )
        except ApiError:
            error = N_("统计期间无效（不能早于大厅启用或晚于今天），已改为显示本月。")
            period = default_period(hall, now)
        departments = user.department_ids if user.role == HEAD else None
        stats = await hall_stats(session, hall, period, by, now=now, department_ids=departments)
        estimates = await estimate_accuracy(session, hall, period, department_ids=departments)
    query = urlencode({"period": period.code, "by": by})
    context: dict[str, Any] = {
        "hall": hall,
        "stats": stats.as_dict(),
        "period": period,
        "by": by,
        "by_labels": BY_LABELS,
        "charts": charts(stats, local_time(hall, now), gettext_for(request)),
        "error": error,
        "today": today,
        "quarters": recent_quarters(today),
        "csv_url": f"/api/v1/halls/{hall.code}/stats/export?{query}&format=csv",
        "xlsx_url": f"/api/v1/halls/{hall.code}/stats/export?{query}&format=xlsx",
        "head_scope": user.role == HEAD,
        "estimates": estimates,
    }
    return await render(request, "office_stats.html", context)


routes = [Route("/office/stats", stats_page, methods=["GET"])]
