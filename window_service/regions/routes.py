"""Region endpoints for a region's office (区域效能办): its halls side by side, and one hall's
statistics as its own office sees them (read-only). Deny by default: only ``region_inspector``
is named, and only for its own region or one under it (403 otherwise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api import dates
from ..api.endpoint import ApiRequest, ApiRouter
from ..auth.roles import REGION_INSPECTOR
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..halls.regions import Region
from ..stats.period import default_period, parse_period
from ..stats.service import hall_stats
from .comparison import compare
from .queries import halls_in, subtree, visible_hall, visible_region
from .schemas import ComparisonQuery, HallStatsQuery

router = ApiRouter("regions")
ROLES = (REGION_INSPECTOR,)


def region_today(halls: list[Hall], now: datetime) -> Any:
    """The region's business day: its first hall's (halls of one region share a zone in
    practice); UTC+8 when it has none yet."""
    if halls:
        return business_day(halls[0], now)
    return business_day(Hall(code="", name=""), now)


async def comparison(
    session: AsyncSession, region: Region, period: str | None, now: datetime
) -> dict[str, Any]:
    """The comparison of ``region``'s subtree for ``period`` (default: this month)."""
    regions = await subtree(session, region)
    halls = await halls_in(session, regions)
    today = region_today(halls, now)
    span = dates.parse_period(period or f"{today.year:04d}-{today.month:02d}", today=today)
    return await compare(session, region, regions, halls, span, now=now)


@router.route("GET", "/regions/{region}", roles=ROLES, response=dict[str, Any])
async def region_detail(api: ApiRequest[None, None]) -> dict[str, Any]:
    """区划: the region, the regions under it and their halls (codes and names)."""
    async with api.state.db.read() as session:
        region = await visible_region(session, api.principal, api.path["region"])
        regions = await subtree(session, region)
        halls = await halls_in(session, regions)
        return {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "regions": [{"code": r.code, "name": r.name, "level": r.level} for r in regions],
            "halls": [{"code": h.code, "name": h.name, "region": h.region} for h in halls],
        }


@router.route("GET", "/regions/{region}/comparison", roles=ROLES, response=dict[str, Any])
async def region_comparison(api: ApiRequest[None, ComparisonQuery]) -> dict[str, Any]:
    """区域比较: every hall of the region (and the regions under it) side by side for a month
    or quarter: tickets, mean and p90 wait, case on-time rate, satisfaction and 差评, published
    stars, rectifications opened, open and overdue."""
    async with api.state.db.read() as session:
        region = await visible_region(session, api.principal, api.path["region"])
        return await comparison(session, region, api.query.period, api.state.clock.now())


@router.route("GET", "/regions/{region}/halls/{hall}/stats", roles=ROLES, response=dict[str, Any])
async def region_hall_stats(api: ApiRequest[None, HallStatsQuery]) -> dict[str, Any]:
    """A hall of the region: its office statistics (as ``GET /halls/{hall}/stats``), read-only."""
    async with api.state.db.read() as session:
        region = await visible_region(session, api.principal, api.path["region"])
        hall = await visible_hall(session, api.principal, region, api.path["hall"])
        now = api.state.clock.now()
        period = api.query.period
        chosen = (
            parse_period(period, today=business_day(hall, now))
            if period
            else default_period(hall, now)
        )
        result = await hall_stats(session, hall, chosen, api.query.by, now=now)
        return result.as_dict()
