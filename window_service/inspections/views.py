"""The inspection endpoints' answers: sheets, visits, notices and plans as the API shows them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..feedback.models import Rectification
from ..halls.lookup import local_time
from ..halls.models import Department, Hall, Window
from . import service
from .models import Inspection, InspectionNotice, InspectionPhoto, InspectionTemplate, VisitPlan
from .schemas import (
    InspectionOut,
    NoticeOut,
    PhotoOut,
    PlannedVisitOut,
    TemplateItemOut,
    TemplateOut,
    VisitPlanOut,
)


def template_out(t: InspectionTemplate) -> TemplateOut:
    return TemplateOut(
        code=t.code,
        name=t.name,
        version=max(t.version, 1),
        items=[TemplateItemOut(**item) for item in t.items],
        max_total=float(sum(item["max_points"] for item in t.items)),
    )


async def notice_out(session: AsyncSession, notice: InspectionNotice, hall: Hall) -> NoticeOut:
    assert notice.id is not None
    dept = await session.get(Department, notice.department_id)
    inspection = await session.get(Inspection, notice.inspection_id)
    assert dept is not None and inspection is not None
    window = await session.get(Window, inspection.window_id)
    rect = (
        await session.execute(
            select(Rectification).where(Rectification.inspection_id == inspection.id)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    return NoticeOut(
        id=notice.id,
        number=service.notice_number(notice),
        inspection=notice.inspection_id,
        department=dept.code,
        department_name=dept.name,
        window=window.number if window else 0,
        issued_at=local_time(hall, notice.issued_at).isoformat(),
        due=notice.due.isoformat(),
        text=notice.text,
        rectification=rect.id if rect else None,
        rectification_status=rect.status if rect else None,
        print_url=f"/office/notices/{notice.id}",
    )


async def inspection_out(
    session: AsyncSession, hall: Hall, inspection: Inspection
) -> InspectionOut:
    assert inspection.id is not None
    window = await session.get(Window, inspection.window_id)
    staff = await session.get(User, inspection.staff_id) if inspection.staff_id else None
    inspector = await session.get(User, inspection.inspector_id)
    dept = await session.get(Department, inspection.department_id)
    template = await session.get(InspectionTemplate, inspection.template_id)
    assert window is not None and dept is not None and template is not None
    notice = (
        await session.execute(
            select(InspectionNotice).where(InspectionNotice.inspection_id == inspection.id)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    photos = (
        await session.execute(
            select(InspectionPhoto)
            .where(InspectionPhoto.inspection_id == inspection.id)  # type: ignore[arg-type]
            .order_by(InspectionPhoto.id)  # type: ignore[arg-type]
        )
    ).scalars()
    pct = service.percent(inspection.total, inspection.max_total)
    return InspectionOut(
        id=inspection.id,
        window=window.id,  # type: ignore[arg-type]
        window_number=window.number,
        staff=staff.username if staff else None,
        department=dept.code,
        inspector=inspector.username if inspector else "",
        visited_at=local_time(hall, inspection.visited_at).isoformat(),
        template=template.code,
        template_version=template.version,
        scores=inspection.scores,
        total=inspection.total,
        max_total=inspection.max_total,
        percent=pct,
        passed=notice is None,
        notes=inspection.notes,
        notice=await notice_out(session, notice, hall) if notice else None,
        photos=[
            PhotoOut(
                id=p.id,  # type: ignore[arg-type]
                content_type=p.content_type,
                size=p.size,
                url=f"/api/v1/inspection-photos/{p.id}",
            )
            for p in photos
        ],
    )


async def plan_out(session: AsyncSession, hall: Hall, plan: VisitPlan) -> VisitPlanOut:
    assert plan.id is not None
    windows = {
        w.id: w.number
        for w in (await session.execute(select(Window).where(Window.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
    }
    creator = await session.get(User, plan.created_by_id) if plan.created_by_id else None
    return VisitPlanOut(
        id=plan.id,
        week_start=plan.week_start.isoformat(),
        seed=plan.seed,
        visits=plan.visits,
        plan=[
            PlannedVisitOut(
                window=windows.get(v["window_id"], 0),
                window_id=v["window_id"],
                day=v["day"],
                time=v["time"],
            )
            for v in plan.plan
        ],
        weights=plan.weights,
        created_at=local_time(hall, plan.created_at).isoformat(),
        created_by=creator.username if creator else None,
    )
