"""HTTP endpoints of feedback (好差评), appeals (申诉) and rectifications (整改工单)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError, conflict
from ..auth.models import User
from ..auth.principal import Principal
from ..auth.roles import ADMIN, EVALUATOR, HEAD, INSPECTOR
from ..halls.lookup import get_hall, local_time
from ..halls.models import Department, Hall, Service, Window
from ..queue.models import Ticket
from ..ratings import config
from ..ratings.periods import current_month, parse_period
from . import policy, service
from .models import Feedback, FeedbackAppeal, Rectification, counted
from .schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    AppealQuery,
    CallbackIn,
    FeedbackFiguresOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackQuery,
    FeedbackStateOut,
    FiguresQuery,
    FixIn,
    FlaggedQuery,
    LevelOut,
    RatedOut,
    RectificationOut,
    RectificationQuery,
    ReviewIn,
    VerifyIn,
)

router = ApiRouter("feedback")
OFFICE = (INSPECTOR, ADMIN, HEAD)


def _iso(hall: Hall, at: datetime | None) -> str | None:
    return local_time(hall, at).isoformat() if at is not None else None


def _staff_cannot_rate() -> ApiError:
    return ApiError(
        403, "staff_cannot_rate", "工作人员不得代替群众评价 (staff must not rate for citizens)"
    )


def _refuse_device(principal: Principal, ticket: Ticket) -> None:
    """Kiosks, displays and other windows' pads are refused; the window's own pad rates."""
    if principal.kind == "device":
        if principal.role != EVALUATOR:
            raise ApiError(
                403, "device_cannot_rate", "该设备不能用于评价 (this device cannot rate)"
            )
        if principal.hall_id != ticket.hall_id or principal.window_id != ticket.window_id:
            raise ApiError(
                403,
                "other_window",
                "只能评价本窗口办理的业务 (this pad belongs to another window)",
            )


def _hall_scope(principal: Principal, hall: Hall) -> None:
    if principal.hall_id != hall.id:
        raise ApiError(403, "forbidden", "不是本大厅的人员 (another hall)")


def _department_scope(principal: Principal, department_id: int) -> None:
    if principal.role == HEAD and department_id not in principal.department_ids:
        raise ApiError(403, "not_your_department", "只能处理本部门的事项 (not your department)")


async def _state(
    session: AsyncSession, hall: Hall, ticket: Ticket, now: datetime
) -> FeedbackStateOut:
    assert hall.id is not None and ticket.id is not None
    settings, _ = await config.current(session, hall.id)
    state = await policy.rateability(session, hall, ticket, now)
    existing = await policy.existing_feedback(session, ticket.id)
    rated = None
    if existing is not None and existing.id is not None:
        rated = RatedOut(
            id=existing.id,
            ticket=ticket.number,
            rating=existing.rating,
            label=policy.level_label(existing.rating),
            tags=list(existing.tags),
            comment=existing.comment,
            created_at=_iso(hall, existing.created_at) or "",
        )
    return FeedbackStateOut(
        ticket=ticket.number,
        can_rate=state.can_rate,
        reason=state.reason,
        message=state.message,
        deadline=state.deadline.isoformat() if state.deadline else None,
        levels=[
            LevelOut(rating=r, label=label, points=settings.points_for(r))
            for r, label in policy.LEVELS.items()
        ],
        tags=list(policy.TAGS),
        comment_max_chars=settings.comment_max_chars,
        feedback=rated,
    )


@router.route("GET", "/track/{token}/feedback", roles=[PUBLIC], response=FeedbackStateOut)
async def feedback_state(api: ApiRequest) -> FeedbackStateOut:
    """Whether the ticket can be rated, the levels and tags to offer, and its rating if given."""
    async with api.state.db.read() as session:
        ticket = await service.ticket_of(session, api.path["token"])
        hall = await session.get(Hall, ticket.hall_id)
        assert hall is not None
        return await _state(session, hall, ticket, api.state.clock.now())


async def _names(session: AsyncSession, hall_id: int) -> dict[str, dict[int, Any]]:
    """Users, windows, services and departments of the hall by id (for the outputs)."""
    out: dict[str, dict[int, Any]] = {}
    for key, model in (
        ("users", User),
        ("windows", Window),
        ("services", Service),
        ("departments", Department),
    ):
        stmt = select(model).where(model.hall_id == hall_id)  # type: ignore[attr-defined, arg-type]
        out[key] = {row.id: row for row in (await session.execute(stmt)).scalars()}  # type: ignore[attr-defined]
    return out


def _feedback_out(
    hall: Hall,
    fb: Feedback,
    ticket_number: str,
    names: dict[str, dict[int, Any]],
    *,
    rectification: int | None = None,
    appeal: str | None = None,
    private: bool = True,
) -> FeedbackOut:
    assert fb.id is not None
    window = names["windows"].get(fb.window_id or 0)
    staff = names["users"].get(fb.staff_id or 0)
    return FeedbackOut(
        id=fb.id,
        ticket=ticket_number,
        window=window.number if window else None,
        staff=staff.username if staff else None,
        service=names["services"][fb.service_id].code,
        department=names["departments"][fb.department_id].code,
        rating=fb.rating,
        label=policy.level_label(fb.rating),
        points=fb.points,
        tags=list(fb.tags),
        comment=fb.comment,
        contact=fb.contact if private else "",
        channel=fb.channel,
        created_at=_iso(hall, fb.created_at) or "",
        flagged=fb.flagged,
        flag_reason=fb.flag_reason,
        review=(fb.review or "pending") if fb.flagged else None,
        review_reason=fb.review_reason,
        voided=fb.voided,
        void_reason=fb.void_reason,
        rectification=rectification,
        appeal=appeal,
    )


@router.route(
    "POST",
    "/track/{token}/feedback",
    roles=[PUBLIC],
    body=FeedbackIn,
    response=FeedbackOut,
    status=201,
    extra_statuses=(403, 404, 409),
    # Every page session is refused (and counted) below, so none needs a CSRF token here.
    csrf=False,
)
async def rate(api: ApiRequest) -> FeedbackOut:
    """好差评: the citizen rates the finished service once (QR token or the window's pad).

    工作人员不得代评: a rating sent with a staff credential, or from a browser holding a staff
    page session (whatever else it sends), is refused with 403 ``staff_cannot_rate`` and the
    attempt is recorded for the office (audit record, ``office.staff_rating_refused`` event)."""
    body: FeedbackIn = api.body
    principal = api.principal
    staff = principal if principal.is_user else await api.state.auth.session_user(api.request)
    client = api.request.client
    source = service.Source(
        ip=client.host if client else "", device_id=principal.device_id, rater_device=body.device
    )
    if staff is not None:
        async with api.state.db.write() as session:
            ticket = await service.ticket_of(session, api.path["token"])
            tx = api.tx(session, ticket.hall_id, actor=staff.actor)
            await service.record_staff_attempt(
                tx, ticket, via="session" if staff.via_session else "token"
            )
            await tx.commit()
        raise _staff_cannot_rate()
    try:
        async with api.state.db.write() as session:
            ticket = await service.ticket_of(session, api.path["token"])
            _refuse_device(principal, ticket)
            hall = await session.get(Hall, ticket.hall_id)
            assert hall is not None and hall.id is not None
            tx = api.tx(session, hall.id)
            fb = await service.submit(
                tx,
                hall,
                ticket,
                rating=body.rating,
                tags=body.tags,
                comment=body.comment,
                contact=body.contact,
                source=source,
            )
            await tx.commit()
            names = await _names(session, hall.id)
            rect = await session.scalar(
                select(Rectification.id).where(Rectification.feedback_id == fb.id)  # type: ignore[call-overload]
            )
            return _feedback_out(hall, fb, ticket.number, names, rectification=rect, private=False)
    except IntegrityError as exc:
        # Two ratings of one ticket raced (PostgreSQL): the unique ticket_id kept the first.
        raise conflict("already_rated", policy.REFUSALS["already_rated"]) from exc


@router.route(
    "GET", "/halls/{hall}/feedback", roles=OFFICE, query=FeedbackQuery, response=list[FeedbackOut]
)
async def list_feedback(api: ApiRequest) -> list[FeedbackOut]:
    """评价列表 for the office (flagged bursts, bad ratings …); heads see their departments."""
    q: FeedbackQuery = api.query
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        _hall_scope(api.principal, hall)
        assert hall.id is not None
        stmt = (
            select(Feedback, Ticket.number)
            .join(Ticket, Ticket.id == Feedback.ticket_id)  # type: ignore[arg-type]
            .where(Feedback.hall_id == hall.id)  # type: ignore[arg-type]
        )
        if api.principal.role == HEAD:
            stmt = stmt.where(Feedback.department_id.in_(list(api.principal.department_ids)))  # type: ignore[attr-defined]
        if q.flagged is not None:
            stmt = stmt.where(Feedback.flagged.is_(q.flagged))  # type: ignore[attr-defined]
        if q.voided is not None:
            stmt = stmt.where(Feedback.voided.is_(q.voided))  # type: ignore[attr-defined]
        if q.bad is True:
            stmt = stmt.where(Feedback.rating <= 2)  # type: ignore[arg-type, operator]
        elif q.bad is False:
            stmt = stmt.where(Feedback.rating > 2)  # type: ignore[arg-type, operator]
        if q.period:
            start, end = parse_period(q.period).bounds(hall)
            stmt = stmt.where(Feedback.created_at >= start, Feedback.created_at < end)  # type: ignore[arg-type, operator]
        rows = (
            await session.execute(
                stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(q.limit)  # type: ignore[attr-defined, union-attr]
            )
        ).all()
        ids = [fb.id for fb, _ in rows]
        rects: dict[int, int] = dict(
            (
                await session.execute(
                    select(Rectification.feedback_id, Rectification.id).where(  # type: ignore[call-overload]
                        Rectification.feedback_id.in_(ids)  # type: ignore[union-attr]
                    )
                )
            ).all()
        )
        appeals: dict[int, str] = {}
        for fid, status in (
            await session.execute(
                select(FeedbackAppeal.feedback_id, FeedbackAppeal.status)  # type: ignore[call-overload]
                .where(FeedbackAppeal.feedback_id.in_(ids))  # type: ignore[attr-defined]
                .order_by(FeedbackAppeal.id)
            )
        ).all():
            appeals[fid] = status
        names = await _names(session, hall.id)
        return [
            _feedback_out(
                hall, fb, number, names, rectification=rects.get(fb.id), appeal=appeals.get(fb.id)
            )
            for fb, number in rows
        ]


@router.route(
    "GET",
    "/halls/{hall}/feedback/figures",
    roles=[PUBLIC],
    query=FiguresQuery,
    response=FeedbackFiguresOut,
)
async def feedback_figures(api: ApiRequest) -> FeedbackFiguresOut:
    """好差评 figures of a month or quarter: average, satisfaction rate, 回访率 (published)."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        assert hall.id is not None
        period = (
            parse_period(api.query.period)
            if api.query.period
            else current_month(hall, api.state.clock.now())
        )
        start, end = period.bounds(hall)
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.avg(Feedback.rating),
                    func.count().filter(Feedback.rating >= 3),  # type: ignore[arg-type, operator]
                ).where(
                    Feedback.hall_id == hall.id,  # type: ignore[arg-type]
                    counted(),
                    Feedback.created_at >= start,  # type: ignore[arg-type, operator]
                    Feedback.created_at < end,  # type: ignore[arg-type, operator]
                )
            )
        ).one()
        count = int(row[0])
        figures = await service.callback_figures(session, hall.id, start, end)
        return FeedbackFiguresOut(
            period=period.code,
            ratings=count,
            average=round(float(row[1]), 2) if count else None,
            satisfaction_rate=round(int(row[2]) / count * 100, 1) if count else None,
            bad_ratings=figures["bad_ratings"],
            called_back=figures["called_back"],
            callback_rate=figures["callback_rate"],
        )


# -- the office's review of flagged ratings (可疑评价复核) ---------------------------------------


@router.route(
    "GET",
    "/halls/{hall}/feedback/flagged",
    roles=[INSPECTOR, ADMIN],
    query=FlaggedQuery,
    response=list[FeedbackOut],
)
async def list_flagged(api: ApiRequest) -> list[FeedbackOut]:
    """可疑评价: ratings flagged as suspicious, held out of every figure until reviewed."""
    q: FlaggedQuery = api.query
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        _hall_scope(api.principal, hall)
        assert hall.id is not None
        stmt = (
            select(Feedback, Ticket.number)
            .join(Ticket, Ticket.id == Feedback.ticket_id)  # type: ignore[arg-type]
            .where(Feedback.hall_id == hall.id, Feedback.flagged.is_(True))  # type: ignore[arg-type, attr-defined]
        )
        if q.status == "pending":
            stmt = stmt.where(Feedback.review == "")  # type: ignore[arg-type]
        elif q.status == "reviewed":
            stmt = stmt.where(Feedback.review != "")  # type: ignore[arg-type]
        rows = (
            await session.execute(stmt.order_by(Feedback.created_at, Feedback.id).limit(1000))  # type: ignore[arg-type]
        ).all()
        names = await _names(session, hall.id)
        return [_feedback_out(hall, fb, number, names) for fb, number in rows]


@router.route(
    "POST",
    "/feedback/{id:int}/review",
    roles=[INSPECTOR, ADMIN],
    body=ReviewIn,
    response=FeedbackOut,
    extra_statuses=(404, 409),
)
async def review_flagged(api: ApiRequest) -> FeedbackOut:
    """效能办复核: confirm a flagged rating (it counts again) or void it, with the reason kept."""
    body: ReviewIn = api.body
    async with api.state.db.write() as session:
        fb = await service.load_feedback(session, api.path["id"], lock=True)
        hall = await session.get(Hall, fb.hall_id)
        assert hall is not None and hall.id is not None
        _hall_scope(api.principal, hall)
        tx = api.tx(session, hall.id)
        assert api.principal.user_id is not None
        await service.review(
            tx,
            fb,
            decision=body.decision,
            reason=body.reason.strip(),
            user_id=api.principal.user_id,
        )
        await tx.commit()
        ticket = await session.get(Ticket, fb.ticket_id)
        names = await _names(session, hall.id)
        return _feedback_out(hall, fb, ticket.number if ticket else "", names)


# -- appeals -----------------------------------------------------------------------------------


async def _appeal_out(session: AsyncSession, hall: Hall, appeal: FeedbackAppeal) -> AppealOut:
    fb = await session.get(Feedback, appeal.feedback_id)
    assert fb is not None and appeal.id is not None
    ticket = await session.get(Ticket, fb.ticket_id)
    filed = await session.get(User, appeal.filed_by_id)
    decided = await session.get(User, appeal.decided_by_id) if appeal.decided_by_id else None
    return AppealOut(
        id=appeal.id,
        feedback=appeal.feedback_id,
        ticket=ticket.number if ticket else "",
        rating=fb.rating,
        reason=appeal.reason,
        status=appeal.status,
        filed_by=filed.username if filed else "",
        filed_at=_iso(hall, appeal.filed_at) or "",
        decided_by=decided.username if decided else None,
        decided_at=_iso(hall, appeal.decided_at),
        decision_reason=appeal.decision_reason,
    )


@router.route(
    "POST",
    "/feedback/{id:int}/appeals",
    roles=[HEAD],
    body=AppealIn,
    response=AppealOut,
    status=201,
    extra_statuses=(409,),
)
async def file_appeal(api: ApiRequest) -> AppealOut:
    """申诉: a department head asks the office to void a malicious rating of their department."""
    async with api.state.db.write() as session:
        fb = await service.load_feedback(session, api.path["id"], lock=True)
        hall = await session.get(Hall, fb.hall_id)
        assert hall is not None and hall.id is not None
        _hall_scope(api.principal, hall)
        _department_scope(api.principal, fb.department_id)
        tx = api.tx(session, hall.id)
        assert api.principal.user_id is not None
        appeal = await service.file_appeal(
            tx, fb, reason=api.body.reason, user_id=api.principal.user_id
        )
        await tx.commit()
        return await _appeal_out(session, hall, appeal)


@router.route(
    "GET", "/halls/{hall}/appeals", roles=OFFICE, query=AppealQuery, response=list[AppealOut]
)
async def list_appeals(api: ApiRequest) -> list[AppealOut]:
    """申诉列表: pending appeals for the office to decide (heads: their departments')."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        _hall_scope(api.principal, hall)
        stmt = (
            select(FeedbackAppeal)
            .join(Feedback, Feedback.id == FeedbackAppeal.feedback_id)  # type: ignore[arg-type]
            .where(FeedbackAppeal.hall_id == hall.id)  # type: ignore[arg-type]
        )
        if api.query.status != "all":
            stmt = stmt.where(FeedbackAppeal.status == api.query.status)  # type: ignore[arg-type]
        if api.principal.role == HEAD:
            stmt = stmt.where(Feedback.department_id.in_(list(api.principal.department_ids)))  # type: ignore[attr-defined]
        appeals = (await session.execute(stmt.order_by(FeedbackAppeal.id))).scalars().all()  # type: ignore[arg-type]
        return [await _appeal_out(session, hall, a) for a in appeals]


@router.route(
    "POST",
    "/appeals/{id:int}/decision",
    roles=[INSPECTOR],
    body=AppealDecisionIn,
    response=AppealOut,
    extra_statuses=(409,),
)
async def decide_appeal(api: ApiRequest) -> AppealOut:
    """效能办裁定申诉: accepted voids the rating (kept, with the reason); rejected keeps it."""
    async with api.state.db.write() as session:
        appeal = (
            await session.execute(
                select(FeedbackAppeal).where(FeedbackAppeal.id == api.path["id"]).with_for_update()  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()
        if appeal is None:
            raise ApiError(404, "appeal_not_found", "没有这个申诉 (unknown appeal)")
        hall = await session.get(Hall, appeal.hall_id)
        assert hall is not None and hall.id is not None
        _hall_scope(api.principal, hall)
        tx = api.tx(session, hall.id)
        assert api.principal.user_id is not None
        await service.decide_appeal(
            tx,
            appeal,
            accept=api.body.accept,
            reason=api.body.reason,
            user_id=api.principal.user_id,
        )
        await tx.commit()
        return await _appeal_out(session, hall, appeal)


# -- rectifications ----------------------------------------------------------------------------


async def rectification_out(
    session: AsyncSession,
    hall: Hall,
    rect: Rectification,
    now: datetime,
    names: dict[str, dict[int, Any]],
) -> RectificationOut:
    assert rect.id is not None
    ticket = await session.get(Ticket, rect.ticket_id) if rect.ticket_id else None
    fb = await session.get(Feedback, rect.feedback_id) if rect.feedback_id else None
    window = names["windows"].get(rect.window_id or 0)
    staff = names["users"].get(rect.staff_id or 0)
    dept = names["departments"][rect.department_id]
    return RectificationOut(
        id=rect.id,
        kind=rect.kind,
        ticket=ticket.number if ticket else None,
        window=window.number if window else None,
        rating=rect.rating,
        rating_label=policy.level_label(rect.rating) if rect.rating else None,
        due=rect.due.isoformat(),
        status=rect.status,
        status_label=service.STATUSES.get(rect.status, rect.status),
        stage=rect.stage,
        stage_label=service.STAGES.get(rect.stage, rect.stage),
        overdue=service.is_overdue(hall, rect, now),
        department=dept.code,
        department_name=dept.name,
        staff=staff.username if staff else None,
        staff_label=(
            f"{staff.display_name or staff.username}（{staff.staff_no}）"
            if staff and staff.staff_no
            else (staff.display_name or staff.username if staff else "")
        ),
        opened_at=_iso(hall, rect.opened_at) or "",
        inspection=rect.inspection_id,
        feedback=rect.feedback_id,
        comment=fb.comment if fb else "",
        tags=list(fb.tags) if fb else [],
        contact=fb.contact if fb else "",
        finding=rect.finding,
        substantiated=rect.substantiated,
        measures=rect.measures,
        callback_reached=rect.callback_reached,
        citizen_view=rect.citizen_view,
        callback_note=rect.callback_note,
        closed_at=_iso(hall, rect.closed_at),
    )


@router.route(
    "GET",
    "/rectifications",
    roles=OFFICE,
    query=RectificationQuery,
    response=list[RectificationOut],
)
async def list_rectifications(api: ApiRequest) -> list[RectificationOut]:
    """整改工单: the office sees all of its hall; a department head sees their departments'."""
    q: RectificationQuery = api.query
    principal = api.principal
    async with api.state.db.read() as session:
        hall = await session.get(Hall, principal.hall_id)
        assert hall is not None and hall.id is not None
        stmt = select(Rectification).where(Rectification.hall_id == hall.id)  # type: ignore[arg-type]
        if q.status != "all":
            stmt = stmt.where(Rectification.status == q.status)  # type: ignore[arg-type]
        if principal.role == HEAD:
            stmt = stmt.where(Rectification.department_id.in_(list(principal.department_ids)))  # type: ignore[attr-defined]
        rects = (
            (await session.execute(stmt.order_by(Rectification.due, Rectification.id)))  # type: ignore[arg-type]
            .scalars()
            .all()
        )  # type: ignore[arg-type]
        now = api.state.clock.now()
        names = await _names(session, hall.id)
        out = [await rectification_out(session, hall, r, now, names) for r in rects]
        if q.overdue is not None:
            out = [r for r in out if r.overdue is q.overdue]
        return out


async def _rect_for(
    api: ApiRequest, session: AsyncSession, *, lock: bool
) -> tuple[Hall, Rectification]:
    rect = await service.load_rectification(session, api.path["id"], lock=lock)
    hall = await session.get(Hall, rect.hall_id)
    assert hall is not None
    _hall_scope(api.principal, hall)
    _department_scope(api.principal, rect.department_id)
    return hall, rect


@router.route("GET", "/rectifications/{id:int}", roles=OFFICE, response=RectificationOut)
async def get_rectification(api: ApiRequest) -> RectificationOut:
    """One rectification with its progress."""
    async with api.state.db.read() as session:
        hall, rect = await _rect_for(api, session, lock=False)
        assert hall.id is not None
        names = await _names(session, hall.id)
        return await rectification_out(session, hall, rect, api.state.clock.now(), names)


async def _step(api: ApiRequest, step: str) -> RectificationOut:
    async with api.state.db.write() as session:
        hall, rect = await _rect_for(api, session, lock=True)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        body = api.body
        if step == "verify":
            await service.verify(tx, rect, finding=body.finding, substantiated=body.substantiated)
        elif step == "fix":
            await service.fix(tx, rect, measures=body.measures)
        else:
            await service.callback(
                tx, rect, reached=body.reached, citizen_view=body.citizen_view, note=body.note
            )
        await tx.commit()
        names = await _names(session, hall.id)
        return await rectification_out(session, hall, rect, api.state.clock.now(), names)


@router.route(
    "POST",
    "/rectifications/{id:int}/verify",
    roles=[HEAD],
    body=VerifyIn,
    response=RectificationOut,
    extra_statuses=(409,),
)
async def verify_rectification(api: ApiRequest) -> RectificationOut:
    """核实: record what was found and whether the complaint holds."""
    return await _step(api, "verify")


@router.route(
    "POST",
    "/rectifications/{id:int}/fix",
    roles=[HEAD],
    body=FixIn,
    response=RectificationOut,
    extra_statuses=(409,),
)
async def fix_rectification(api: ApiRequest) -> RectificationOut:
    """整改: record the measures taken."""
    return await _step(api, "fix")


@router.route(
    "POST",
    "/rectifications/{id:int}/callback",
    roles=[HEAD],
    body=CallbackIn,
    response=RectificationOut,
    extra_statuses=(409,),
)
async def callback_rectification(api: ApiRequest) -> RectificationOut:
    """回访: record the callback and the citizen's view of the fix; closes the work order."""
    return await _step(api, "callback")
