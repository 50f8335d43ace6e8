"""HTTP endpoints of undercover visits: sheets, visits, photos, notices and visit plans."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.responses import Response

from ..api.dates import ascii_int
from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import ApiError, invalid, not_found
from ..auth.models import User
from ..auth.principal import Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from ..cases.calendar import load_calendar
from ..feedback.models import Rectification
from ..halls.lookup import get_hall, get_window, hall_zone, local_time
from ..halls.models import Department, Hall, Window
from ..transaction import Tx
from . import plan as visit_plan
from . import service
from .models import Inspection, InspectionNotice, InspectionPhoto, InspectionTemplate, VisitPlan
from .schemas import (
    InspectionIn,
    InspectionOut,
    InspectionQuery,
    NoticeOut,
    PhotoOut,
    PlannedVisitOut,
    TemplateIn,
    TemplateItemOut,
    TemplateOut,
    VisitPlanIn,
    VisitPlanOut,
)

router = ApiRouter("inspections")
OFFICE = (INSPECTOR, ADMIN, HEAD)
#: A visit may be recorded at most this far ahead of the hall clock (clock drift).
FUTURE_SLACK = timedelta(minutes=10)


def _template_out(t: InspectionTemplate) -> TemplateOut:
    return TemplateOut(
        code=t.code,
        name=t.name,
        version=max(t.version, 1),
        items=[TemplateItemOut(**item) for item in t.items],
        max_total=float(sum(item["max_points"] for item in t.items)),
    )


def _own_hall(principal: Principal, hall_id: int) -> None:
    if principal.hall_id != hall_id:
        raise ApiError(403, "forbidden", "不是本大厅的人员 (another hall)")


def _own_department(principal: Principal, department_id: int) -> None:
    if principal.role == HEAD and department_id not in principal.department_ids:
        raise ApiError(403, "not_your_department", "只能查看本部门的事项 (not your department)")


@router.route("GET", "/inspection-templates", roles=OFFICE, response=list[TemplateOut])
async def list_templates(api: ApiRequest) -> list[TemplateOut]:
    """暗访评分表: the current version of every scoring sheet of the hall."""
    assert api.principal.hall_id is not None
    async with api.state.db.read() as session:
        return [
            _template_out(t)
            for t in await service.current_templates(session, api.principal.hall_id)
        ]


@router.route(
    "GET",
    "/inspection-templates/{code}/versions",
    roles=OFFICE,
    response=list[TemplateOut],
)
async def template_versions(api: ApiRequest) -> list[TemplateOut]:
    """Every version of a scoring sheet, oldest first."""
    assert api.principal.hall_id is not None
    async with api.state.db.read() as session:
        rows = list(
            (
                await session.execute(
                    select(InspectionTemplate)
                    .where(
                        InspectionTemplate.hall_id == api.principal.hall_id,  # type: ignore[arg-type]
                        InspectionTemplate.code == api.path["code"],  # type: ignore[arg-type]
                    )
                    .order_by(InspectionTemplate.version)  # type: ignore[arg-type]
                )
            ).scalars()
        )
        if not rows and api.path["code"] == service.DEFAULT_CODE:
            rows = [service.default_template(api.principal.hall_id)]
        if not rows:
            raise not_found("template", "没有这个评分表 (unknown template)")
        return [_template_out(t) for t in rows]


@router.route(
    "PUT",
    "/inspection-templates/{code}",
    roles=[INSPECTOR, ADMIN],
    response=TemplateOut,
)
async def save_template(api: ApiRequest[TemplateIn]) -> TemplateOut:
    """Edit or create a scoring sheet: adds a version; recorded visits keep their version."""
    code = api.path["code"]
    if not (1 <= len(code) <= 32 and code.replace("_", "").isalnum() and code.isascii()):
        raise invalid("invalid_code", "评分表代码无效 (invalid template code)")
    assert api.principal.hall_id is not None
    async with api.state.db.write() as session:
        tx = api.tx(session, api.principal.hall_id)
        template = await service.save_template(
            tx,
            code,
            api.body.name,
            [item.model_dump() for item in api.body.items],
            api.principal.user_id,
        )
        await tx.commit()
        return _template_out(template)


async def _notice_out(session: AsyncSession, notice: InspectionNotice, hall: Hall) -> NoticeOut:
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
        notice=await _notice_out(session, notice, hall) if notice else None,
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


@router.route(
    "POST",
    "/inspections",
    roles=[INSPECTOR],
    response=InspectionOut,
    status=201,
    extra_statuses=(404,),
)
async def record_inspection(api: ApiRequest[InspectionIn]) -> InspectionOut:
    """暗访记录: a visit to a window, scored on a sheet; below the threshold a notice is issued."""
    body = api.body
    principal = api.principal
    assert principal.hall_id is not None and principal.user_id is not None
    async with api.state.db.write() as session:
        hall = await session.get(Hall, principal.hall_id)
        assert hall is not None and hall.id is not None
        window = await session.get(Window, body.window)
        if window is None or window.hall_id != hall.id:
            raise not_found("window", "没有这个窗口 (unknown window)")
        staff_id = None
        if body.staff:
            staff = (
                await session.execute(
                    select(User).where(User.username == body.staff, User.hall_id == hall.id)  # type: ignore[arg-type]
                )
            ).scalar_one_or_none()
            if staff is None or staff.role != STAFF:
                raise invalid("unknown_staff", "没有这名窗口工作人员 (unknown staff member)")
            staff_id = staff.id
        visited_at = body.visited_at
        if visited_at.tzinfo is None:
            visited_at = visited_at.replace(tzinfo=hall_zone(hall))
        now = api.state.clock.now()
        if visited_at > now + FUTURE_SLACK:
            raise invalid(
                "visit_in_future", "暗访时间不能晚于当前时间 (visited_at is in the future)"
            )
        if visited_at < now - timedelta(days=366):
            raise invalid("visit_too_old", "暗访时间过早 (visited_at more than a year ago)")
        tx = api.tx(session, hall.id)
        template = await service.template_for_use(tx, body.template)
        inspection, _ = await service.record(
            tx,
            hall,
            window=window,
            staff_id=staff_id,
            template=template,
            visited_at=visited_at,
            scores=body.scores,
            notes=body.notes,
            inspector_id=principal.user_id,
        )
        await tx.commit()
        return await inspection_out(session, hall, inspection)


@router.route("GET", "/inspections", roles=OFFICE, response=list[InspectionOut])
async def list_inspections(api: ApiRequest[None, InspectionQuery]) -> list[InspectionOut]:
    """暗访记录列表, newest first; a department head sees their departments' windows."""
    principal = api.principal
    async with api.state.db.read() as session:
        hall = await session.get(Hall, principal.hall_id)
        assert hall is not None
        stmt = select(Inspection).where(Inspection.hall_id == hall.id)  # type: ignore[arg-type]
        if api.query.window is not None:
            stmt = stmt.where(Inspection.window_id == api.query.window)  # type: ignore[arg-type]
        if principal.role == HEAD:
            stmt = stmt.where(Inspection.department_id.in_(list(principal.department_ids)))  # type: ignore[attr-defined]
        rows = (
            await session.execute(
                stmt.order_by(Inspection.visited_at.desc(), Inspection.id.desc()).limit(  # type: ignore[attr-defined, union-attr]
                    api.query.limit
                )
            )
        ).scalars()
        return [await inspection_out(session, hall, i) for i in rows]


@router.route("GET", "/inspections/{id:int}", roles=OFFICE, response=InspectionOut)
async def get_inspection(api: ApiRequest) -> InspectionOut:
    """One visit with its scores, notice and photos."""
    async with api.state.db.read() as session:
        inspection = await service.load_inspection(session, api.path["id"])
        _own_hall(api.principal, inspection.hall_id)
        _own_department(api.principal, inspection.department_id)
        hall = await session.get(Hall, inspection.hall_id)
        assert hall is not None
        return await inspection_out(session, hall, inspection)


async def _read_upload(api: ApiRequest[Any, Any]) -> bytes:
    limit = api.state.settings.max_upload_bytes
    too_big = ApiError(
        413, "payload_too_large", f"图片过大，不超过 {limit // 1024} KB (at most {limit} bytes)"
    )
    length = api.request.headers.get("content-length")
    if length is not None and ((size := ascii_int(length)) is None or size > limit + 16 * 1024):
        raise too_big
    if not api.request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", "请以 multipart/form-data 上传图片 (multipart expected)"
        )
    try:
        form = await api.request.form(max_files=1, max_fields=4, max_part_size=limit + 1)
    except Exception as exc:  # malformed multipart bodies
        raise invalid("invalid_upload", "上传内容无效 (malformed upload)") from exc
    try:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise invalid(
                "photo_required", "请选择要上传的照片（字段 photo）(field photo required)"
            )
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise too_big
        if not data:
            raise invalid("empty_upload", "上传的文件为空 (empty file)")
        return data
    finally:
        await form.close()


@router.route(
    "POST",
    "/inspections/{id:int}/photos",
    roles=[INSPECTOR],
    response=PhotoOut,
    status=201,
    extra_statuses=(413, 415, 422),
)
async def upload_photo(api: ApiRequest) -> PhotoOut:
    """取证照片: multipart field ``photo``; JPEG, PNG or WebP, size- and pixel-limited.

    The image is decoded and re-encoded (JPEG stays JPEG, PNG and WebP become PNG, metadata
    is dropped); content that claims to be an image but does not decode is 422.
    """
    data = await _read_upload(api)
    async with api.state.db.write() as session:
        inspection = await service.load_inspection(session, api.path["id"])
        _own_hall(api.principal, inspection.hall_id)
        tx = api.tx(session, inspection.hall_id)
        assert api.principal.user_id is not None
        photo = await service.add_photo(
            tx,
            inspection,
            data,
            var_dir=api.state.settings.var_dir,
            user_id=api.principal.user_id,
            max_pixels=api.state.settings.max_photo_pixels,
        )
        await tx.commit()
        return PhotoOut(
            id=photo.id,  # type: ignore[arg-type]
            content_type=photo.content_type,
            size=photo.size,
            url=f"/api/v1/inspection-photos/{photo.id}",
        )


@router.route(
    "GET",
    "/inspection-photos/{id:int}",
    roles=[INSPECTOR, ADMIN],
    response=None,
    extra_statuses=(409,),
)
async def get_photo(api: ApiRequest) -> Response:
    """An evidence photo (office only); refused (409) when the file on disk is not the one
    recorded (its SHA-256 differs)."""
    async with api.state.db.read() as session:
        photo = await session.get(InspectionPhoto, api.path["id"])
        if photo is None:
            raise not_found("photo", "没有这张照片 (unknown photo)")
        inspection = await service.load_inspection(session, photo.inspection_id)
        _own_hall(api.principal, inspection.hall_id)
    path = api.state.settings.var_dir / photo.path
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        raise not_found("photo", "照片文件缺失 (photo file missing)") from None
    # What is sent is what was hashed: the bytes read once.
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        raise ApiError(
            409,
            "evidence_altered",
            "照片文件与记录不符，已被替换，拒绝提供 (the photo file does not match its record)",
        )
    return Response(
        data,
        media_type=photo.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.route("GET", "/inspection-notices", roles=OFFICE, response=list[NoticeOut])
async def list_notices(api: ApiRequest) -> list[NoticeOut]:
    """督查通知书: the hall's notices (a department head: their departments')."""
    principal = api.principal
    async with api.state.db.read() as session:
        hall = await session.get(Hall, principal.hall_id)
        assert hall is not None
        stmt = select(InspectionNotice).where(InspectionNotice.hall_id == hall.id)  # type: ignore[arg-type]
        if principal.role == HEAD:
            stmt = stmt.where(InspectionNotice.department_id.in_(list(principal.department_ids)))  # type: ignore[attr-defined]
        rows = (await session.execute(stmt.order_by(InspectionNotice.id.desc()))).scalars()  # type: ignore[union-attr]
        return [await _notice_out(session, n, hall) for n in rows]


@router.route("GET", "/inspection-notices/{id:int}", roles=OFFICE, response=NoticeOut)
async def get_notice(api: ApiRequest) -> NoticeOut:
    """One inspection notice."""
    async with api.state.db.read() as session:
        notice = await session.get(InspectionNotice, api.path["id"])
        if notice is None:
            raise not_found("notice", "没有这份督查通知书 (unknown notice)")
        _own_hall(api.principal, notice.hall_id)
        _own_department(api.principal, notice.department_id)
        hall = await session.get(Hall, notice.hall_id)
        assert hall is not None
        return await _notice_out(session, notice, hall)


# -- visit plans ---------------------------------------------------------------------------


async def _plan_out(session: AsyncSession, hall: Hall, plan: VisitPlan) -> VisitPlanOut:
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


async def make_plan(
    tx: Tx, hall: Hall, *, week_start: Any, visits: int, seed: int | None, user_id: int | None
) -> VisitPlan:
    session = tx.session
    assert hall.id is not None
    if week_start.weekday() != 0:
        raise invalid("not_a_monday", "计划周须从星期一开始 (week_start must be a Monday)")
    calendar = await load_calendar(session, hall.id)
    days = [
        week_start + timedelta(days=i)
        for i in range(7)
        if calendar.is_working_day(week_start + timedelta(days=i))
    ]
    if not days:
        raise invalid("no_working_days", "该周没有工作日 (no working days that week)")
    weights = await visit_plan.window_weights(session, hall, tx.now)
    if not weights:
        raise invalid("no_windows", "本大厅没有窗口 (no windows)")
    seed = seed if seed is not None else secrets.randbelow(2**31)
    picks = visit_plan.plan_visits(seed, {k: v["weight"] for k, v in weights.items()}, days, visits)
    plan = VisitPlan(
        hall_id=hall.id,
        week_start=week_start,
        seed=seed,
        visits=visits,
        weights=weights,
        days=[d.isoformat() for d in days],
        plan=picks,
        created_at=tx.now,
        created_by_id=user_id,
    )
    session.add(plan)
    await session.flush()
    tx.audit("visit_plan.create", plan)
    return plan


@router.route(
    "POST",
    "/halls/{hall}/visit-plans",
    roles=[INSPECTOR],
    response=VisitPlanOut,
    status=201,
)
async def create_plan(api: ApiRequest[VisitPlanIn]) -> VisitPlanOut:
    """暗访计划: random windows and times for a week, weighted towards trouble; seed recorded."""
    async with api.state.db.write() as session:
        hall = await get_hall(session, api.path["hall"])
        _own_hall(api.principal, hall.id)  # type: ignore[arg-type]
        tx = api.tx(session, hall.id)  # type: ignore[arg-type]
        plan = await make_plan(
            tx,
            hall,
            week_start=api.body.week_start,
            visits=api.body.visits,
            seed=api.body.seed,
            user_id=api.principal.user_id,
        )
        await tx.commit()
        return await _plan_out(session, hall, plan)


@router.route("GET", "/halls/{hall}/visit-plans", roles=[INSPECTOR], response=list[VisitPlanOut])
async def list_plans(api: ApiRequest) -> list[VisitPlanOut]:
    """The hall's visit plans, newest first (inspectors only)."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        _own_hall(api.principal, hall.id)  # type: ignore[arg-type]
        rows = (
            await session.execute(
                select(VisitPlan)
                .where(VisitPlan.hall_id == hall.id)  # type: ignore[arg-type]
                .order_by(VisitPlan.id.desc())  # type: ignore[union-attr]
                .limit(52)
            )
        ).scalars()
        return [await _plan_out(session, hall, p) for p in rows]


@router.route("GET", "/visit-plans/{id:int}", roles=[INSPECTOR], response=VisitPlanOut)
async def get_plan(api: ApiRequest) -> VisitPlanOut:
    """One visit plan; ``reproduced`` plans equal the stored one (same seed, same weights)."""
    async with api.state.db.read() as session:
        plan = await session.get(VisitPlan, api.path["id"])
        if plan is None:
            raise not_found("visit_plan", "没有这个暗访计划 (unknown plan)")
        _own_hall(api.principal, plan.hall_id)
        hall = await session.get(Hall, plan.hall_id)
        assert hall is not None
        return await _plan_out(session, hall, plan)


__all__ = ["datetime", "get_window", "router"]
