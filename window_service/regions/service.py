"""The rules of regions: create one, put halls in it, give its office an account.

Audit chains are the halls'. Moving a hall into a region is in that hall's chain
(``hall.region``); a region office's account is in the chain of every hall it can see when
it is created (``user.add``), so each hall's record says who was given its figures. A region
row itself is in no chain (it holds no figures; its halls' chains say where they belong).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict, invalid, not_found
from ..auth.models import User
from ..auth.passwords import check_password, hash_password
from ..auth.roles import REGION_INSPECTOR
from ..chain import snapshot
from ..halls.models import Hall
from ..halls.regions import LEVELS, Region
from ..transaction import Actor, Tx
from .queries import halls_in, region_by_code, subtree

_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def check_code(code: str) -> None:
    if not code or len(code) > 32 or not set(code) <= _CODE_CHARS:
        raise invalid(
            "invalid_region", f"区划编码「{code}」只能由字母、数字、-、_ 组成，最长 32 位"
        )


def child_level(parent: Region | None) -> str:
    """The level a new region gets when none is named: 省 at the top, then 市, then 县."""
    if parent is None:
        return "province"
    return "city" if parent.level == "province" else "county"


async def add_region(
    session: AsyncSession, *, code: str, name: str, parent: str = "", level: str = ""
) -> Region:
    """新建区划 under ``parent`` (a region code; empty: at the top). 409 when the code exists."""
    check_code(code)
    if not name.strip() or len(name) > 200:
        raise invalid("invalid_region", "区划名称不能为空，最长 200 个字")
    if await region_by_code(session, code) is not None:
        raise conflict("region_code_taken", f"区划编码「{code}」已存在 (region code taken)")
    up = None
    if parent:
        up = await region_by_code(session, parent)
        if up is None:
            raise not_found("region", f"没有上级区划「{parent}」 (unknown parent region)")
    if level and level not in LEVELS:
        raise invalid("invalid_level", "层级无效 (level: province, city or county)")
    region = Region(
        code=code,
        name=name.strip(),
        level=level or child_level(up),
        parent_id=up.id if up is not None else None,
    )
    session.add(region)
    await session.flush()
    return region


async def assign_hall(tx: Tx, hall: Hall, region: Region) -> bool:
    """Put ``hall`` in ``region`` (audited in the hall's chain); False when it already is."""
    if hall.region == region.code:
        return False
    before = snapshot(hall)
    hall.region = region.code
    tx.audit("hall.region", hall, before=before)
    return True


async def add_region_user(
    session: AsyncSession,
    *,
    region: Region,
    username: str,
    password: str,
    now: datetime,
    actor: Actor,
    display_name: str = "",
) -> User:
    """An account of the region's office (区域效能办): no hall, bound to ``region``; audited in
    the chain of every hall of the region's subtree (so a region needs a hall first: 409)."""
    check_password(password, [username, display_name, region.code, region.name])
    exists = (
        await session.execute(select(User.id).where(User.username == username))  # type: ignore[call-overload]
    ).first()
    if exists is not None:
        raise conflict("username_taken", "用户名已存在 (username taken)")
    halls = await halls_in(session, await subtree(session, region))
    if not halls:
        raise conflict(
            "region_without_halls",
            f"区划「{region.code}」内还没有服务大厅：先把大厅放入区划，再添加区域账号 "
            "(put a hall in the region first: the account is audited in its halls' chains)",
        )
    user = User(
        hall_id=None,
        region_id=region.id,
        username=username,
        role=REGION_INSPECTOR,
        password_hash=hash_password(password),
        display_name=display_name or username,
    )
    session.add(user)
    await session.flush()
    for hall in halls:
        assert hall.id is not None
        tx = Tx(session, hall.id, now, actor)
        tx.audit("user.add", user, reason=f"区域效能办 {region.code} {region.name}")
        await tx.commit()
    return user
