"""HTTP endpoints of feedback (好差评) and appeals (申诉); rectifications: rectification_routes.py."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..accountability.periods import current_month, parse_period
from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import conflict
from ..api.scope import HALL
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..halls.lookup import get_hall, own_hall
from ..halls.models import Hall
from ..queue.models import Ticket
from . import appeals, channels, policy, queries, service
from .figures import callback_figures, rating_figures
from .schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    AppealQuery,
    EntryIn,
    FeedbackFiguresOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackQuery,
    FeedbackStateOut,
    FiguresQuery,
    FlaggedQuery,
    ReviewIn,
)
from .scopes import APPEAL, HALL_LISTS, OFFICE, RATING
from .views import appeal_out, feedback_out, feedback_state

router = ApiRouter("feedback")


@router.route("GET", "/track/{token}/feedback", roles=[PUBLIC], response=FeedbackStateOut)
async def get_feedback_state(api: ApiRequest) -> FeedbackStateOut:
    """Whether the ticket can be rated, the levels and tags to offer, and its rating if given."""
    async with api.state.db.read() as session:
        ticket = await service.ticket_of(session, api.path["token"])
        hall = await session.get(Hall, ticket.hall_id)
        assert hall is not None
        return await feedback_state(session, hall, ticket, api.state.clock.now())


@router.route(
    "POST",
    "/track/{token}/feedback",
    roles=[PUBLIC],
    response=FeedbackOut,
    status=201,
    extra_statuses=(403, 404, 409),
    # Every page session is refused (and counted) below, so none needs a CSRF token here.
    csrf=False,
)
async def rate(api: ApiRequest[FeedbackIn]) -> FeedbackOut:
    """好差评: the citizen rates the finished service once (QR token or the window's pad).

    工作人员不得代评: a rating sent with a staff credential, or from a browser holding a staff
    page session (whatever else it sends), is refused with 403 ``staff_cannot_rate`` and the
    attempt is recorded for the office (audit record, ``office.staff_rating_refused`` event)."""
    body = api.body
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
        raise policy.staff_cannot_rate()
    try:
        async with api.state.db.write() as session:
            ticket = await service.ticket_of(session, api.path["token"])
            policy.check_rater(principal, ticket)
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
            names = await queries.names(session, hall.id)
            assert fb.id is not None
            rect = (await queries.rectification_of(session, [fb.id])).get(fb.id)
            return feedback_out(hall, fb, ticket.number, names, rectification=rect, private=False)
    except IntegrityError as exc:
        # Two ratings of one ticket raced (PostgreSQL): the unique ticket_id kept the first.
        raise conflict("already_rated", policy.REFUSALS["already_rated"]) from exc


@router.route(
    "GET", "/halls/{hall}/feedback", roles=OFFICE, response=list[FeedbackOut], scope=HALL_LISTS
)
async def list_feedback(api: ApiRequest[None, FeedbackQuery]) -> list[FeedbackOut]:
    """评价列表 for the office (flagged bursts, bad ratings …); heads see their departments."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        since, until = parse_period(q.period).bounds(hall) if q.period else (None, None)
        rows = await queries.ratings(
            session,
            hall.id,
            departments=api.departments(),
            flagged=q.flagged,
            voided=q.voided,
            bad=q.bad,
            since=since,
            until=until,
            limit=q.limit,
        )
        ids = [fb.id for fb, _ in rows if fb.id is not None]
        rects = await queries.rectification_of(session, ids)
        appeals = await queries.appeal_status_of(session, ids)
        names = await queries.names(session, hall.id)
        return [
            feedback_out(
                hall,
                fb,
                number,
                names,
                rectification=rects.get(fb.id or 0),
                appeal=appeals.get(fb.id or 0),
            )
            for fb, number in rows
        ]


@router.route(
    "POST",
    "/halls/{hall}/feedback/entries",
    roles=[INSPECTOR],
    response=FeedbackOut,
    status=201,
    extra_statuses=(404, 422),
    scope=HALL,
)
async def enter_feedback(api: ApiRequest[EntryIn]) -> FeedbackOut:
    """登记: a rating from another channel (12345 hotline, suggestion box, invited supervisor,
    on-site review) against one ticket, case, window, staff member or department; it counts
    like any rating, and a 差评 opens a rectification."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        fb = await channels.enter(
            tx,
            hall,
            channels.Subject(
                ticket=body.ticket,
                day=body.day,
                receipt_no=body.receipt_no,
                window=body.window,
                staff=body.staff,
                department=body.department,
            ),
            channel=body.channel,
            rating=body.rating,
            comment=body.comment.strip(),
            contact=body.contact,
            reference=body.reference.strip(),
            tags=body.tags,
        )
        await tx.commit()
        rects = await queries.rectification_of(session, [fb.id or 0])
        ticket = await session.get(Ticket, fb.subject_ticket_id) if fb.subject_ticket_id else None
        names = await queries.names(session, hall.id)
        return feedback_out(
            hall, fb, ticket.number if ticket else "", names, rectification=rects.get(fb.id or 0)
        )


@router.route("GET", "/halls/{hall}/feedback/figures", roles=[PUBLIC], response=FeedbackFiguresOut)
async def feedback_figures(api: ApiRequest[None, FiguresQuery]) -> FeedbackFiguresOut:
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
        rated = await rating_figures(session, hall.id, start, end)
        figures = await callback_figures(session, hall.id, start, end)
        return FeedbackFiguresOut(
            period=period.code,
            ratings=rated.ratings,
            average=rated.average,
            satisfaction_rate=rated.satisfaction_rate,
            bad_ratings=figures["bad_ratings"],
            called_back=figures["called_back"],
            callback_rate=figures["callback_rate"],
        )


# -- the office's review of flagged ratings (可疑评价复核) ---------------------------------------


@router.route(
    "GET",
    "/halls/{hall}/feedback/flagged",
    roles=[INSPECTOR, ADMIN],
    response=list[FeedbackOut],
    scope=HALL,
)
async def list_flagged(api: ApiRequest[None, FlaggedQuery]) -> list[FeedbackOut]:
    """可疑评价: ratings flagged as suspicious, held out of every figure until reviewed."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        rows = await queries.flagged(session, hall.id, api.query.status)
        names = await queries.names(session, hall.id)
        return [feedback_out(hall, fb, number, names) for fb, number in rows]


@router.route(
    "POST",
    "/feedback/{id:int}/review",
    roles=[INSPECTOR, ADMIN],
    response=FeedbackOut,
    extra_statuses=(404, 409),
    scope=RATING,
)
async def review_flagged(api: ApiRequest[ReviewIn]) -> FeedbackOut:
    """效能办复核: confirm a flagged rating (it counts again) or void it, with the reason kept."""
    body = api.body
    async with api.state.db.write() as session:
        fb = api.own(await service.load_feedback(session, api.path["id"], lock=True))
        hall = await session.get(Hall, fb.hall_id)
        assert hall is not None and hall.id is not None
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
        ticket = await session.get(Ticket, fb.ticket_id) if fb.ticket_id else None
        names = await queries.names(session, hall.id)
        return feedback_out(hall, fb, ticket.number if ticket else "", names)


# -- appeals -----------------------------------------------------------------------------------


@router.route(
    "POST",
    "/feedback/{id:int}/appeals",
    roles=[HEAD],
    response=AppealOut,
    status=201,
    extra_statuses=(409,),
    scope=RATING,
)
async def file_appeal(api: ApiRequest[AppealIn]) -> AppealOut:
    """申诉: a department head asks the office to void a malicious rating of their department."""
    async with api.state.db.write() as session:
        fb = api.own(await service.load_feedback(session, api.path["id"], lock=True))
        hall = await session.get(Hall, fb.hall_id)
        assert hall is not None and hall.id is not None
        tx = api.tx(session, hall.id)
        assert api.principal.user_id is not None
        appeal = await appeals.file_appeal(
            tx, fb, reason=api.body.reason, user_id=api.principal.user_id
        )
        await tx.commit()
        return await appeal_out(session, hall, appeal)


@router.route(
    "GET", "/halls/{hall}/appeals", roles=OFFICE, response=list[AppealOut], scope=HALL_LISTS
)
async def list_appeals(api: ApiRequest[None, AppealQuery]) -> list[AppealOut]:
    """申诉列表: pending appeals for the office to decide (heads: their departments')."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        appeals = await queries.appeals(session, hall.id, api.query.status, api.departments())
        return [await appeal_out(session, hall, a) for a in appeals]


@router.route(
    "POST",
    "/appeals/{id:int}/decision",
    roles=[INSPECTOR],
    response=AppealOut,
    extra_statuses=(409,),
    scope=APPEAL,
)
async def decide_appeal(api: ApiRequest[AppealDecisionIn]) -> AppealOut:
    """效能办裁定申诉: accepted voids the rating (kept, with the reason); rejected keeps it."""
    async with api.state.db.write() as session:
        appeal = api.own(await queries.load_appeal(session, api.path["id"], lock=True))
        hall = await session.get(Hall, appeal.hall_id)
        assert hall is not None and hall.id is not None
        tx = api.tx(session, hall.id)
        assert api.principal.user_id is not None
        await appeals.decide_appeal(
            tx,
            appeal,
            accept=api.body.accept,
            reason=api.body.reason,
            user_id=api.principal.user_id,
        )
        await tx.commit()
        return await appeal_out(session, hall, appeal)
