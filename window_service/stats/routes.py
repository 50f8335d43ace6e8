"""Statistics API for the office: JSON figures and CSV/XLSX exports (inspector, admin, head)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from ..api.dates import StatsPeriod
from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import ApiError
from ..api.schemas import Query
from ..auth.principal import Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..halls.lookup import business_day, get_hall
from ..halls.models import Hall
from .export import filename, to_csv, to_xlsx
from .figures import Stats
from .period import default_period, parse_period
from .service import hall_stats

router = ApiRouter("stats")
OFFICE = (ADMIN, INSPECTOR, HEAD)


class StatsQuery(Query):
    #: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY-Qn``; default: this month.
    period: StatsPeriod | None = None
    by: Literal["hall", "department", "service", "window", "staff"] = "hall"


class ExportQuery(StatsQuery):
    format: Literal["csv", "xlsx"] = "csv"


def scope_of(principal: Principal, hall: Hall) -> frozenset[int] | None:
    """The departments the caller may see (None: all). Office roles of this hall only."""
    if principal.role not in OFFICE or principal.hall_id != hall.id:
        raise ApiError(403, "forbidden", "无权查看本大厅的统计 (not allowed for this hall)")
    if principal.role == HEAD:
        return principal.department_ids
    return None


async def compute(
    session: AsyncSession, api: ApiRequest[Any, Any], hall: Hall, period: str | None, by: str
) -> Stats:
    departments = scope_of(api.principal, hall)
    now = api.state.clock.now()
    today = business_day(hall, now)
    chosen = parse_period(period, today=today) if period else default_period(hall, now)
    return await hall_stats(session, hall, chosen, by, now=now, department_ids=departments)


@router.route("GET", "/halls/{hall}/stats", roles=OFFICE, response=dict[str, Any])
async def stats(api: ApiRequest[None, StatsQuery]) -> dict[str, Any]:
    """效能统计: a day, month or quarter by hall, department, service, window or staff member.

    Tickets, no-shows, waiting and service time (mean, median, p90, minutes), by hour and by
    day, green-channel share, satisfaction and 差评 rate, case on-time rate and breaches;
    by staff member or department, the issued efficiency warnings (效能告诫, ``warnings``) of
    the period's quarters. A department head sees their departments only.
    """
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        result = await compute(session, api, hall, api.query.period, api.query.by)
        return result.as_dict()


@router.route("GET", "/halls/{hall}/stats/export", roles=OFFICE)
async def stats_export(api: ApiRequest[None, ExportQuery]) -> Response:
    """统计导出: the same figures as a CSV or XLSX file."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        result = await compute(session, api, hall, api.query.period, api.query.by)
    if api.query.format == "xlsx":
        body = to_xlsx(result)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = to_csv(result)
        media = "text/csv; charset=utf-8"
    name = filename(result, api.query.format)
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
