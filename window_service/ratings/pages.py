"""Pages of the accountability area: the public notice board (电子公示栏) and the office pages
for inspections (暗访), visit plans, rectifications (整改), notices and star ratings.

The office pages are thin: they render the page with what it needs and the actions go through
the JSON API (static/accountability.js, with the session cookie and CSRF header).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accountability import config
from ..accountability.periods import current_month
from ..api.dates import ascii_int
from ..api.errors import ApiError
from ..audit import anchors as audit_anchors
from ..auth.models import User
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..evaluation.ranking import latest_ranking
from ..feedback import policy
from ..feedback.queries import published_rectifications
from ..feedback.rectifications import CITIZEN_VIEWS
from ..halls.lookup import business_day, get_hall, local_time
from ..halls.models import Department, Hall, Window
from ..inspections import evidence, score_sheets
from ..inspections import queries as inspection_queries
from ..inspections import service as inspections
from ..inspections.models import Inspection, InspectionNotice, InspectionTemplate
from ..openness.fees import standard_texts
from ..openness.results import latest_results
from ..queue import queries as queue_queries
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from .board import board_data

OFFICE_LINKS.extend(
    [
        OfficeLink(
            "/office/inspections",
            N_("暗访督查"),
            roles=(INSPECTOR,),
            description=N_("按评分表记录暗访、上传取证照片、签发督查通知书；每周随机暗访计划"),
        ),
        OfficeLink(
            "/office/rectifications",
            N_("差评整改"),
            roles=(INSPECTOR, ADMIN, HEAD),
            description=N_("差评与督查整改工单：核实、整改、回访，逾期提醒；评价申诉"),
        ),
        OfficeLink(
            "/office/ratings",
            N_("星级评定"),
            roles=(INSPECTOR, ADMIN, HEAD),
            description=N_("窗口、人员、部门月度/季度星级，公示后冻结；权重与阈值设置"),
        ),
    ]
)


async def board_page(request: Request) -> Response:
    """电子公示栏 /board/{hall}: public, for a TV in the hall (refreshes itself)."""
    async with app_state(request).db.read() as session:
        try:
            hall = await get_hall(session, request.path_params["hall"])
        except ApiError:
            return await error_page(request, 404, N_("没有这个服务大厅"))
        board = await board_data(session, hall)
        anchors = await audit_anchors.board_context(session, hall)
        results = await latest_results(session, hall, app_state(request).clock.now())
        fee_texts = await standard_texts(session, hall.id or 0)
        rectified = await published_rectifications(session, hall.id or 0)
        evaluation = await latest_ranking(session, hall.id or 0)
    for r in rectified:
        r["closed_at"] = local_time(hall, r["closed_at"]) if r["closed_at"] else None
    return await render(
        request,
        "accountability/board.html",
        {
            "hall": hall,
            "board": board,
            "results": results,
            "fee_texts": fee_texts,
            "rectified": rectified,
            "evaluation": evaluation,
            "citizen_views": CITIZEN_VIEWS,
            **anchors,
        },
    )


async def inspections_page(request: Request) -> Response:
    user = await require_page_user(request, roles=(INSPECTOR,))
    if isinstance(user, Response):
        return user
    state = app_state(request)
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        templates = await score_sheets.current_templates(session, hall.id)
        windows = await queue_queries.windows(session, hall.id)
        staff = await inspection_queries.staff(session, hall.id)
        recent = await inspection_queries.inspections(session, hall.id, None, None, 20)
        numbers = {w.id: w.number for w in windows}
        photos = await evidence.photos_by_inspection(session, [i.id or 0 for i in recent])
        notices = {
            n.inspection_id: n for n in await inspection_queries.notices(session, hall.id, None)
        }
        now = state.clock.now()
    today = business_day(hall, now)
    people = {u.id: u for u in staff if u.id is not None}
    return await render(
        request,
        "accountability/inspections.html",
        {
            "hall": hall,
            "templates": [
                {"code": t.code, "name": t.name, "version": max(t.version, 1), "items": t.items}
                for t in templates
            ],
            "windows": windows,
            "staff": staff,
            "recent": [
                {
                    "id": i.id,
                    "window": numbers.get(i.window_id),
                    "visited_at": local_time(hall, i.visited_at).strftime("%Y-%m-%d %H:%M"),
                    "total": i.total,
                    "max_total": i.max_total,
                    "notice": notices.get(i.id or 0),
                    "notice_number": inspections.notice_number(notices[i.id])
                    if i.id in notices
                    else "",
                    "staff": people.get(i.staff_id or 0),
                    "photos": [p.id for p in photos.get(i.id or 0, [])],
                }
                for i in recent
            ],
            "now_local": local_time(hall, now).strftime("%Y-%m-%dT%H:%M"),
            "today": today,
            # the plan's default week: the Monday after the hall's today (not the browser's)
            "next_monday": today + timedelta(days=7 - today.weekday()),
            "this_monday": today - timedelta(days=today.weekday()),
        },
    )


async def notice_page(request: Request) -> Response:
    """督查通知书, printable (A4)."""
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN, HEAD))
    if isinstance(user, Response):
        return user
    notice_id = ascii_int(request.path_params["id"])
    if notice_id is None:
        return await error_page(request, 404, N_("没有这份督查通知书"))
    async with app_state(request).db.read() as session:
        notice = await session.get(InspectionNotice, notice_id) if notice_id < 2**31 else None
        if notice is None or notice.hall_id != user.hall_id:
            return await error_page(request, 404, N_("没有这份督查通知书"))
        if user.role == HEAD and notice.department_id not in user.department_ids:
            return await error_page(request, 403, N_("无权访问此页面"))
        hall = await session.get(Hall, notice.hall_id)
        dept = await session.get(Department, notice.department_id)
        inspection = await session.get(Inspection, notice.inspection_id)
        assert hall is not None and dept is not None and inspection is not None
        window = await session.get(Window, inspection.window_id)
        template = await session.get(InspectionTemplate, inspection.template_id)
        assert template is not None
        staff = await session.get(User, inspection.staff_id) if inspection.staff_id else None
        photos = (await evidence.photos_by_inspection(session, [notice.inspection_id]))[
            notice.inspection_id
        ]
    items: list[dict[str, Any]] = [
        {**item, "score": inspection.scores.get(item["code"])} for item in template.items
    ]
    return await render(
        request,
        "accountability/notice.html",
        {
            "hall": hall,
            "notice": notice,
            "number": inspections.notice_number(notice),
            "department": dept,
            "window": window,
            "inspection": inspection,
            "items": items,
            "issued": local_time(hall, notice.issued_at),
            "visited": local_time(hall, inspection.visited_at),
            "staff": staff,
            "photos": [p.id for p in photos],
            # the photo endpoint serves the office (inspector, admin); a head sees the count
            "can_see_photos": user.role in (INSPECTOR, ADMIN),
        },
    )


async def rectifications_page(request: Request) -> Response:
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN, HEAD))
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None
    return await render(
        request,
        "accountability/rectifications.html",
        {
            "hall": hall,
            "levels": policy.LEVELS,
            "can_progress": user.role == HEAD,
            "can_decide": user.role == INSPECTOR,
            "can_review": user.role in (INSPECTOR, ADMIN),
        },
    )


async def ratings_page(request: Request) -> Response:
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN, HEAD))
    if isinstance(user, Response):
        return user
    state = app_state(request)
    async with state.db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        settings, version = await config.current(session, hall.id)
        period = current_month(hall, state.clock.now())
    return await render(
        request,
        "accountability/ratings.html",
        {
            "hall": hall,
            "period": period.code,
            "settings": settings.model_dump(mode="json"),
            "version": version,
            "can_publish": user.role == INSPECTOR,
            "can_configure": user.role in (INSPECTOR, ADMIN),
        },
    )


routes = [
    Route("/board/{hall}", board_page, methods=["GET"]),
    Route("/office/inspections", inspections_page, methods=["GET"]),
    Route("/office/notices/{id}", notice_page, methods=["GET"]),
    Route("/office/rectifications", rectifications_page, methods=["GET"]),
    Route("/office/ratings", ratings_page, methods=["GET"]),
]
