"""暗访评分表: the scoring sheets of undercover visits, versioned per hall (the built-in sheet is
stored the first time it is used or edited; visits keep the version they were scored on)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import invalid
from ..db import utcnow
from ..transaction import Tx
from .models import InspectionTemplate

DEFAULT_CODE = "standard"


DEFAULT_NAME = "窗口服务暗访评分表"


#: The default sheet (after county sheets): 100 points over seven items.
DEFAULT_ITEMS: list[dict[str, Any]] = [
    {
        "code": "on_duty",
        "name": "在岗在位",
        "max_points": 20,
        "description": "工作时间离岗、串岗、脱岗，每人次扣5分；窗口无人且未放置暂离牌扣10分",
    },
    {
        "code": "attitude",
        "name": "服务态度",
        "max_points": 20,
        "description": "门难进、脸难看、话难听、事难办，推诿扯皮，每次扣5分",
    },
    {
        "code": "appearance",
        "name": "仪容仪表",
        "max_points": 10,
        "description": "未按规定着装、未佩戴工作牌或桌牌缺失，每项扣2分",
    },
    {
        "code": "one_time_notice",
        "name": "一次性告知",
        "max_points": 15,
        "description": "未一次性告知所需全部材料，或让群众多次往返，每次扣5分",
    },
    {
        "code": "efficiency",
        "name": "办事效率",
        "max_points": 15,
        "description": "无故拖延、超时办理、做与工作无关的事，每次扣5分",
    },
    {
        "code": "fees",
        "name": "收费规范",
        "max_points": 10,
        "description": "擅自收费、超标准收费或未公示收费依据，扣10分",
    },
    {
        "code": "integrity",
        "name": "廉洁自律",
        "max_points": 10,
        "description": "吃拿卡要、收受礼品礼金，扣10分并移送处理",
    },
]


def default_template(hall_id: int) -> InspectionTemplate:
    """The built-in sheet, not yet stored (it is stored the first time it is used or edited)."""
    return InspectionTemplate(
        hall_id=hall_id,
        code=DEFAULT_CODE,
        version=0,
        name=DEFAULT_NAME,
        items=DEFAULT_ITEMS,
        created_at=utcnow(),
    )


async def current_templates(session: AsyncSession, hall_id: int) -> list[InspectionTemplate]:
    """The newest version of every sheet of the hall (the default sheet always among them)."""
    rows = (
        await session.execute(
            select(InspectionTemplate)
            .where(InspectionTemplate.hall_id == hall_id)  # type: ignore[arg-type]
            .order_by(InspectionTemplate.code, InspectionTemplate.version)  # type: ignore[arg-type]
        )
    ).scalars()
    latest: dict[str, InspectionTemplate] = {}
    for row in rows:
        latest[row.code] = row
    if DEFAULT_CODE not in latest:
        latest[DEFAULT_CODE] = default_template(hall_id)
    return sorted(latest.values(), key=lambda t: (t.code != DEFAULT_CODE, t.code))


async def template_for_use(tx: Tx, code: str) -> InspectionTemplate:
    """The newest stored version of ``code``; the default sheet is stored on first use."""
    for template in await current_templates(tx.session, tx.hall_id):
        if template.code == code:
            if template.id is None:
                await config.lock_hall(tx.session, tx.hall_id)
                again = await current_templates(tx.session, tx.hall_id)
                stored = next(t for t in again if t.code == code)
                if stored.id is not None:  # another request stored it meanwhile
                    return stored
                template.version = 1
                template.created_at = tx.now
                tx.session.add(template)
                await tx.session.flush()
                tx.audit("inspection_template.create", template)
            return template
    raise invalid("unknown_template", f"没有这个评分表：{code} (unknown template)")


def check_items(items: list[dict[str, Any]]) -> None:
    codes = [item["code"] for item in items]
    if len(set(codes)) != len(codes):
        raise invalid("duplicate_item", "评分项目代码重复 (duplicate item codes)")


async def save_template(
    tx: Tx, code: str, name: str, items: list[dict[str, Any]], user_id: int | None
) -> InspectionTemplate:
    """Edit (or create) a sheet: a new version; visits recorded on older versions keep theirs."""
    check_items(items)
    await config.lock_hall(tx.session, tx.hall_id)
    latest = max(
        (t.version for t in await current_templates(tx.session, tx.hall_id) if t.code == code),
        default=0,
    )
    if code == DEFAULT_CODE and latest == 0:
        await template_for_use(tx, code)
        latest = 1
    template = InspectionTemplate(
        hall_id=tx.hall_id,
        code=code,
        version=latest + 1,
        name=name,
        items=items,
        created_at=tx.now,
        created_by_id=user_id,
    )
    tx.session.add(template)
    await tx.session.flush()
    tx.audit("inspection_template.version", template)
    return template
