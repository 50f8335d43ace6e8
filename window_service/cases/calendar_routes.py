"""HTTP endpoints of the working calendar (工作日历): the years entered and the years to enter."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.responses import JSONResponse

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import invalid
from ..auth.roles import ADMIN
from ..halls.lookup import local_time
from .access import principal_hall
from .calendar_admin import DayEntry, calendar_status, enter_year
from .schemas import (
    CalendarDayOut,
    CalendarStatusOut,
    CalendarYearBody,
    CalendarYearOut,
    DayIn,
)
from .scopes import OFFICE
from .views import year_out

router = ApiRouter("cases")


@router.route("GET", "/calendar", roles=OFFICE, response=CalendarStatusOut)
async def calendar_overview(api: ApiRequest) -> CalendarStatusOut:
    """工作日历: known years and the years the administrator should enter (预计期限提醒)."""
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        status = await calendar_status(session, hall, api.state.clock.now())
        return CalendarStatusOut.model_validate(status, from_attributes=True)


@router.route("GET", "/calendar/years/{year:int}", roles=OFFICE, response=CalendarYearOut)
async def calendar_year(api: ApiRequest) -> CalendarYearOut:
    """A year's holidays and make-up working days (entered, or from the official package)."""
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        return await year_out(session, hall, int(api.path["year"]))


def _entries(items: list[DayIn | date]) -> list[DayEntry]:
    return [DayEntry(i.date, i.name) if isinstance(i, DayIn) else DayEntry(i) for i in items]


@router.route(
    "PUT",
    "/calendar/years/{year:int}",
    roles=[ADMIN],
    response=CalendarYearOut,
)
async def enter_calendar_year(api: ApiRequest[CalendarYearBody]) -> Any:
    """录入节假日: a year's holidays and make-up days; provisional deadlines are recomputed."""
    year = int(api.path["year"])
    if not 2000 <= year <= 2200:
        raise invalid("invalid_year", "年份无效 (invalid year)")
    body = api.body
    async with api.state.db.write() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        holidays, workdays = _entries(body.holidays), _entries(body.workdays)
        entry, changed = await enter_year(tx, hall, year, holidays, workdays, body.note)
        await tx.commit()
        days = sorted(
            [CalendarDayOut(date=h.day, working=False, name=h.name) for h in holidays]
            + [CalendarDayOut(date=w.day, working=True, name=w.name) for w in workdays],
            key=lambda d: d.date,
        )
        out = CalendarYearOut(
            year=year,
            source="entered",
            entered_at=local_time(hall, entry.entered_at).isoformat(),
            note=entry.note,
            days=days,
            recomputed=changed,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=200)
