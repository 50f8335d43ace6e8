"""HTTP endpoints of efficiency warnings (效能告诫): the office proposes, issues, declines."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import conflict
from ..api.scope import HALL, Scope
from ..auth.roles import ADMIN, INSPECTOR
from ..halls.lookup import own_hall
from ..halls.models import Hall
from . import service
from .schemas import DecisionIn, ProposeIn, WarningOut, WarningsQuery
from .views import warnings_out

router = ApiRouter("efficiency")
WARNING = Scope("hall", "效能告诫", "warning")
RACE = "warning_race"


@router.route(
    "GET",
    "/halls/{hall}/warnings",
    roles=[INSPECTOR, ADMIN],
    response=list[WarningOut],
    extra_statuses=(404, 422),
    scope=HALL,
)
async def list_warnings(api: ApiRequest[None, WarningsQuery]) -> list[WarningOut]:
    """效能告诫: the hall's proposed, issued and declined warnings (newest quarter first)."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        period = service.quarter(q.period).code if q.period else None
        rows = await service.warnings_of(session, hall.id, period, q.status)
        return await warnings_out(session, hall, rows)


@router.route(
    "POST",
    "/halls/{hall}/warnings/propose",
    roles=[INSPECTOR],
    response=list[WarningOut],
    extra_statuses=(404, 422),
    scope=HALL,
)
async def propose(api: ApiRequest[ProposeIn]) -> list[WarningOut]:
    """Read a quarter's figures and propose a warning for everyone over a threshold (the
    warnings proposed or brought up to date now; nothing twice)."""
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        period = service.quarter(api.body.period)
        tx = api.tx(session, hall.id or 0)
        try:
            rows = await service.propose(tx, hall, period)
            await tx.commit()
        except IntegrityError as exc:  # another process proposed the same warning first
            raise conflict(RACE, "效能告诫正在由其他操作生成，请刷新后重试 (try again)") from exc
        return await warnings_out(session, hall, rows)


async def _decide(api: ApiRequest[DecisionIn], issue: bool) -> WarningOut:
    async with api.state.db.write() as session:
        warning = api.own(await service.get_warning(session, int(api.path["id"])))
        hall = await session.get(Hall, warning.hall_id)
        assert hall is not None and hall.id is not None
        tx = api.tx(session, hall.id)
        await service.decide(tx, hall, warning, issue=issue, reason=api.body.reason)
        try:
            await tx.commit()
        except IntegrityError as exc:  # two warnings issued at once took the same number
            raise conflict(RACE, "告诫书编号被同时占用，请重试 (try again)") from exc
        [out] = await warnings_out(session, hall, [warning])
        return out


@router.route(
    "POST",
    "/warnings/{id:int}/issue",
    roles=[INSPECTOR],
    response=WarningOut,
    extra_statuses=(404, 409, 422),
    scope=WARNING,
)
async def issue(api: ApiRequest[DecisionIn]) -> WarningOut:
    """下发: issue a proposed warning, with the office's reason (409 once decided)."""
    return await _decide(api, True)


@router.route(
    "POST",
    "/warnings/{id:int}/decline",
    roles=[INSPECTOR],
    response=WarningOut,
    extra_statuses=(404, 409, 422),
    scope=WARNING,
)
async def decline(api: ApiRequest[DecisionIn]) -> WarningOut:
    """不予告诫: decline a proposed warning, with the office's reason (409 once decided)."""
    return await _decide(api, False)
