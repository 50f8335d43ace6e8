"""The rules of undercover visits (暗访): scoring sheets, visits, notices and photos."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import ApiError, invalid, not_found
from ..cases.calendar import load_calendar
from ..feedback import rectifications
from ..halls.lookup import business_day
from ..halls.models import Department, Hall, Service, Window, WindowService
from ..transaction import Tx
from .models import Inspection, InspectionNotice, InspectionTemplate


async def window_department(session: AsyncSession, window: Window) -> Department:
    """The department a window answers to: that of the first service it serves."""
    row = (
        await session.execute(
            select(Department)
            .join(Service, Service.department_id == Department.id)  # type: ignore[arg-type]
            .join(WindowService, WindowService.service_id == Service.id)  # type: ignore[arg-type]
            .where(WindowService.window_id == window.id)  # type: ignore[arg-type]
            .order_by(WindowService.position)  # type: ignore[arg-type]
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        raise ApiError(409, "window_without_service", "该窗口未配置事项 (window serves nothing)")
    return row


async def window_departments(session: AsyncSession, hall_id: int) -> dict[int, int]:
    """window id → department id (of its first service)."""
    rows = (
        await session.execute(
            select(WindowService.window_id, WindowService.position, Service.department_id)  # type: ignore[call-overload]
            .join(Service, Service.id == WindowService.service_id)
            .where(Service.hall_id == hall_id)
            .order_by(WindowService.window_id, WindowService.position)
        )
    ).all()
    out: dict[int, int] = {}
    for window_id, _, department_id in rows:
        out.setdefault(window_id, department_id)
    return out


def score_sheet(template: InspectionTemplate, scores: dict[str, float]) -> tuple[float, float]:
    """Check item scores against the sheet; (total, max_total). Every item must be scored."""
    items = {item["code"]: item for item in template.items}
    unknown = sorted(set(scores) - set(items))
    if unknown:
        raise invalid("unknown_item", f"评分表中没有这些项目：{'、'.join(unknown)} (unknown items)")
    missing = [code for code in items if code not in scores]
    if missing:
        names = "、".join(items[c]["name"] for c in missing)
        raise invalid("missing_item", f"以下项目未评分：{names} (items not scored)")
    over = [
        code for code, points in scores.items() if points < 0 or points > items[code]["max_points"]
    ]
    if over:
        names = "、".join(f"{items[c]['name']}（满分{items[c]['max_points']}）" for c in over)
        raise invalid("score_out_of_range", f"得分超出范围：{names} (score out of range)")
    total = round(sum(scores.values()), 1)
    max_total = float(sum(item["max_points"] for item in template.items))
    return total, max_total


def percent(total: float, max_total: float) -> float:
    return round(total / max_total * 100, 1) if max_total else 0.0


async def record(
    tx: Tx,
    hall: Hall,
    *,
    window: Window,
    staff_id: int | None,
    template: InspectionTemplate,
    visited_at: Any,
    scores: dict[str, float],
    notes: str,
    inspector_id: int,
) -> tuple[Inspection, InspectionNotice | None]:
    """Record a visit; below the threshold an inspection notice (督查通知书) is issued."""
    session = tx.session
    assert hall.id is not None and window.id is not None and template.id is not None
    total, max_total = score_sheet(template, scores)
    department = await window_department(session, window)
    assert department.id is not None
    inspection = Inspection(
        hall_id=hall.id,
        template_id=template.id,
        window_id=window.id,
        staff_id=staff_id,
        department_id=department.id,
        inspector_id=inspector_id,
        visited_at=visited_at,
        recorded_at=tx.now,
        scores={k: float(v) for k, v in scores.items()},
        total=total,
        max_total=max_total,
        notes=notes,
    )
    session.add(inspection)
    await session.flush()
    tx.audit("inspection.record", inspection)
    settings, _ = await config.current(session, hall.id)
    notice = None
    if percent(total, max_total) < settings.inspection_threshold:
        notice = await issue_notice(tx, hall, inspection, department, window, settings)
    tx.emit(
        "office.inspection",
        department_id=department.id,
        id=inspection.id,
        window=window.number,
        total=total,
    )
    return inspection, notice


async def issue_notice(
    tx: Tx,
    hall: Hall,
    inspection: Inspection,
    department: Department,
    window: Window,
    settings: config.Settings,
) -> InspectionNotice:
    session = tx.session
    assert hall.id is not None and inspection.id is not None and department.id is not None
    # Numbers per hall and year; the hall row lock orders concurrent notices.
    # FOR NO KEY UPDATE: one at a time still, without blocking other transactions'
    # foreign-key checks on the hall row (their audit/event inserts, made while they
    # hold the hall ledger lock) — FOR UPDATE deadlocked with them under load.
    await session.execute(select(Hall.id).where(Hall.id == hall.id).with_for_update(key_share=True))  # type: ignore[call-overload]
    today = business_day(hall, tx.now)
    seq = (
        await session.execute(
            select(func.coalesce(func.max(InspectionNotice.seq), 0)).where(
                InspectionNotice.hall_id == hall.id,  # type: ignore[arg-type]
                InspectionNotice.year == today.year,  # type: ignore[arg-type]
            )
        )
    ).scalar_one() + 1
    calendar = await load_calendar(session, hall.id)
    due: date = calendar.add_working_days(today, settings.notice_days)
    pct = percent(inspection.total, inspection.max_total)
    text = (
        f"{department.name}：\n"
        f"效能办于{cn_date(business_day(hall, inspection.visited_at))}对{window.number}号窗口进行暗访，"
        f"得分{inspection.total:g}分（满分{inspection.max_total:g}分，折合{pct:g}分），"
        f"低于{settings.inspection_threshold:g}分的合格线。请于{cn_date(due)}前完成整改，"
        f"并将整改情况书面报送效能办。"
    )
    notice = InspectionNotice(
        hall_id=hall.id,
        inspection_id=inspection.id,
        department_id=department.id,
        year=today.year,
        seq=int(seq),
        issued_at=tx.now,
        due=due,
        text=text,
    )
    session.add(notice)
    await session.flush()
    tx.audit("inspection_notice.issue", notice)
    await rectifications.open_for_inspection(
        tx,
        inspection_id=inspection.id,
        window_id=window.id,  # type: ignore[arg-type]
        staff_id=inspection.staff_id,
        department_id=department.id,
        due=due,
    )
    return notice


def cn_date(day: date) -> str:
    """2026年12月3日 (the Chinese way, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def notice_number(notice: InspectionNotice) -> str:
    return f"效督〔{notice.year}〕{notice.seq}号"


async def load_inspection(session: AsyncSession, inspection_id: int) -> Inspection:
    inspection = await session.get(Inspection, inspection_id)
    if inspection is None:
        raise not_found("inspection", "没有这条暗访记录 (unknown inspection)")
    return inspection
