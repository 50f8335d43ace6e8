"""HTTP endpoints of undercover visits: sheets, visits, photos, notices and visit plans."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

from starlette.responses import Response

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import ApiError, invalid, not_found
from ..api.scope import HALL, Scope
from ..api.uploads import read_upload
from ..auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from ..halls.lookup import hall_zone, own_hall
from ..halls.models import Hall, Window
from . import evidence, queries, score_sheets, service
from . import plan as visit_plan
from .models import InspectionNotice, InspectionPhoto, VisitPlan
from .schemas import (
    InspectionIn,
    InspectionOut,
    InspectionQuery,
    NoticeOut,
    PhotoOut,
    TemplateIn,
    TemplateOut,
    VisitPlanIn,
    VisitPlanOut,
)
from .views import inspection_out, notice_out, plan_out, template_out

router = ApiRouter("inspections")
#: A visit or notice of the caller's hall and, for a head, of their departments; a plan of the hall.
INSPECTION = Scope("department", "暗访记录", "visit")
NOTICE = Scope("department", "督查通知书", "notice")
PLAN = Scope("hall", "暗访计划", "visit plan")
OFFICE = (INSPECTOR, ADMIN, HEAD)
#: A visit may be recorded at most this far ahead of the hall clock (clock drift).
FUTURE_SLACK = timedelta(minutes=10)


@router.route("GET", "/inspection-templates", roles=OFFICE, response=list[TemplateOut])
async def list_templates(api: ApiRequest) -> list[TemplateOut]:
    """暗访评分表: the current version of every scoring sheet of the hall."""
    assert api.principal.hall_id is not None
    async with api.state.db.read() as session:
        return [
            template_out(t)
            for t in await score_sheets.current_templates(session, api.principal.hall_id)
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
        rows = await queries.template_versions(session, api.principal.hall_id, api.path["code"])
        if not rows and api.path["code"] == score_sheets.DEFAULT_CODE:
            rows = [score_sheets.default_template(api.principal.hall_id)]
        if not rows:
            raise not_found("template", "没有这个评分表 (unknown template)")
        return [template_out(t) for t in rows]


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
        template = await score_sheets.save_template(
            tx,
            code,
            api.body.name,
            [item.model_dump() for item in api.body.items],
            api.principal.user_id,
        )
        await tx.commit()
        return template_out(template)


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
            staff = await queries.user_named(session, hall.id, body.staff)
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
        template = await score_sheets.template_for_use(tx, body.template)
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


@router.route("GET", "/inspections", roles=OFFICE, response=list[InspectionOut], scope=INSPECTION)
async def list_inspections(api: ApiRequest[None, InspectionQuery]) -> list[InspectionOut]:
    """暗访记录列表, newest first; a department head sees their departments' windows."""
    principal = api.principal
    async with api.state.db.read() as session:
        hall = await session.get(Hall, principal.hall_id)
        assert hall is not None
        assert hall.id is not None
        rows = await queries.inspections(
            session, hall.id, api.query.window, api.departments(), api.query.limit
        )
        return [await inspection_out(session, hall, i) for i in rows]


@router.route(
    "GET", "/inspections/{id:int}", roles=OFFICE, response=InspectionOut, scope=INSPECTION
)
async def get_inspection(api: ApiRequest) -> InspectionOut:
    """One visit with its scores, notice and photos."""
    async with api.state.db.read() as session:
        inspection = api.own(await service.load_inspection(session, api.path["id"]))
        hall = await session.get(Hall, inspection.hall_id)
        assert hall is not None
        return await inspection_out(session, hall, inspection)


@router.route(
    "POST",
    "/inspections/{id:int}/photos",
    roles=[INSPECTOR],
    response=PhotoOut,
    status=201,
    extra_statuses=(413, 415, 422),
    scope=INSPECTION,
)
async def upload_photo(api: ApiRequest) -> PhotoOut:
    """取证照片: multipart field ``photo``; JPEG, PNG or WebP, size- and pixel-limited.

    The image is decoded and re-encoded (JPEG stays JPEG, PNG and WebP become PNG, metadata
    is dropped); content that claims to be an image but does not decode is 422.
    """
    data = await read_upload(
        api, "photo", what="图片", missing="请选择要上传的照片（字段 photo）(field photo required)"
    )
    async with api.state.db.write() as session:
        inspection = api.own(await service.load_inspection(session, api.path["id"]))
        tx = api.tx(session, inspection.hall_id)
        assert api.principal.user_id is not None
        photo = await evidence.add_photo(
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
    scope=INSPECTION,
)
async def get_photo(api: ApiRequest) -> Response:
    """An evidence photo (office only); refused (409) when the file on disk is not the one
    recorded (its SHA-256 differs)."""
    async with api.state.db.read() as session:
        photo = await session.get(InspectionPhoto, api.path["id"])
        if photo is None:
            raise not_found("photo", "没有这张照片 (unknown photo)")
        api.own(await service.load_inspection(session, photo.inspection_id))
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


@router.route("GET", "/inspection-notices", roles=OFFICE, response=list[NoticeOut], scope=NOTICE)
async def list_notices(api: ApiRequest) -> list[NoticeOut]:
    """督查通知书: the hall's notices (a department head: their departments')."""
    principal = api.principal
    async with api.state.db.read() as session:
        hall = await session.get(Hall, principal.hall_id)
        assert hall is not None
        assert hall.id is not None
        rows = await queries.notices(session, hall.id, api.departments())
        return [await notice_out(session, n, hall) for n in rows]


@router.route("GET", "/inspection-notices/{id:int}", roles=OFFICE, response=NoticeOut, scope=NOTICE)
async def get_notice(api: ApiRequest) -> NoticeOut:
    """One inspection notice."""
    async with api.state.db.read() as session:
        notice = await session.get(InspectionNotice, api.path["id"])
        if notice is None:
            raise not_found("notice", "没有这份督查通知书 (unknown notice)")
        api.own(notice)
        hall = await session.get(Hall, notice.hall_id)
        assert hall is not None
        return await notice_out(session, notice, hall)


# -- visit plans ---------------------------------------------------------------------------


@router.route(
    "POST",
    "/halls/{hall}/visit-plans",
    roles=[INSPECTOR],
    response=VisitPlanOut,
    status=201,
    scope=HALL,
)
async def create_plan(api: ApiRequest[VisitPlanIn]) -> VisitPlanOut:
    """暗访计划: random windows and times for a week, weighted towards trouble; seed recorded."""
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        plan = await visit_plan.make_plan(
            tx,
            hall,
            week_start=api.body.week_start,
            visits=api.body.visits,
            seed=api.body.seed,
            user_id=api.principal.user_id,
        )
        await tx.commit()
        return await plan_out(session, hall, plan)


@router.route(
    "GET", "/halls/{hall}/visit-plans", roles=[INSPECTOR], response=list[VisitPlanOut], scope=HALL
)
async def list_plans(api: ApiRequest) -> list[VisitPlanOut]:
    """The hall's visit plans, newest first (inspectors only)."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        rows = await queries.plans(session, hall.id)
        return [await plan_out(session, hall, p) for p in rows]


@router.route("GET", "/visit-plans/{id:int}", roles=[INSPECTOR], response=VisitPlanOut, scope=PLAN)
async def get_plan(api: ApiRequest) -> VisitPlanOut:
    """One visit plan; ``reproduced`` plans equal the stored one (same seed, same weights)."""
    async with api.state.db.read() as session:
        plan = await session.get(VisitPlan, api.path["id"])
        if plan is None:
            raise not_found("visit_plan", "没有这个暗访计划 (unknown plan)")
        api.own(plan)
        hall = await session.get(Hall, plan.hall_id)
        assert hall is not None
        return await plan_out(session, hall, plan)
