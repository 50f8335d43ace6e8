"""What the region endpoints read: a region, its subtree, the halls in it, who may see it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError, not_found
from ..auth.principal import Principal
from ..auth.roles import REGION_INSPECTOR
from ..halls.models import Hall
from ..halls.regions import Region


async def region_by_code(session: AsyncSession, code: str) -> Region | None:
    region: Region | None = (
        await session.execute(select(Region).where(Region.code == code))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    return region


async def all_regions(session: AsyncSession) -> list[Region]:
    """Every region (a country has a few thousand at most: read at once, walked in memory)."""
    return list((await session.execute(select(Region).order_by(Region.code))).scalars())  # type: ignore[arg-type]


def subtree_of(regions: list[Region], root: Region) -> list[Region]:
    """``root`` and every region under it, root first, then by code."""
    children: dict[int | None, list[Region]] = {}
    for region in regions:
        children.setdefault(region.parent_id, []).append(region)
    out: list[Region] = []
    todo = [root]
    seen: set[int | None] = set()
    while todo:
        region = todo.pop(0)
        if region.id in seen:  # a loop in hand-edited data must not hang the page
            continue
        seen.add(region.id)
        out.append(region)
        todo.extend(sorted(children.get(region.id, []), key=lambda r: r.code))
    return out


async def subtree(session: AsyncSession, root: Region) -> list[Region]:
    return subtree_of(await all_regions(session), root)


async def halls_in(session: AsyncSession, regions: list[Region]) -> list[Hall]:
    """The halls whose ``region`` is one of ``regions``' codes, by code (one query)."""
    codes = [r.code for r in regions]
    if not codes:
        return []
    return list(
        (
            await session.execute(
                select(Hall).where(Hall.region.in_(codes)).order_by(Hall.code)  # type: ignore[attr-defined, arg-type]
            )
        ).scalars()
    )


async def visible_region(session: AsyncSession, principal: Principal, code: str) -> Region:
    """The region ``code`` if the caller oversees it (their own region or one under it);
    403 for anyone else, 404 for an unknown code asked by a region inspector."""
    if principal.role != REGION_INSPECTOR or principal.region_id is None:
        raise ApiError(403, "forbidden", "无权查看该区域 (not allowed for this region)")
    region = await region_by_code(session, code) if len(code) <= 32 else None
    if region is None:
        raise not_found("region", "没有这个区域 (unknown region)")
    own = await session.get(Region, principal.region_id)
    if own is None or region.id not in {r.id for r in await subtree(session, own)}:
        raise ApiError(403, "forbidden", "无权查看该区域 (not allowed for this region)")
    return region


async def visible_hall(
    session: AsyncSession, principal: Principal, region: Region, hall_code: str
) -> Hall:
    """A hall of ``region``'s subtree (the caller already sees the region), else 404."""
    halls = await halls_in(session, await subtree(session, region))
    for hall in halls:
        if hall.code == hall_code:
            return hall
    raise not_found("hall", "该区域没有这个服务大厅 (no such hall in this region)")
