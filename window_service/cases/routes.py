"""HTTP endpoints of cases, consultations, accountability figures and the working calendar."""

from __future__ import annotations

from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import forbidden, invalid
from ..api.scope import Scope
from ..auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from ..halls.lookup import business_day, get_service, get_window, local_time
from ..halls.models import Hall, Service, Window
from ..halls.scopes import WINDOW
from ..queue.models import Ticket
from ..queue.queries import load_ticket
from ..queue.scopes import TICKET
from . import deadlines as dl
from . import figures as fig
from . import queries, service
from .access import check_case_access, look_up, principal_hall
from .calendar import load_calendar
from .calendar_admin import DayEntry, calendar_status, enter_year
from .commitments import counts as commitment_counts
from .models import Case
from .responsibility import NO_OUTCOME_REASONS, first_responder_figures, ticket_chain
from .schemas import (
    CalendarDayOut,
    CalendarStatusOut,
    CalendarYearBody,
    CalendarYearOut,
    CaseCreate,
    CaseDetailOut,
    CaseOut,
    CasesQuery,
    ChainOut,
    CommitmentOut,
    CommitmentReport,
    CompleteBody,
    ConsultationCreate,
    ConsultationOut,
    CorrectionBody,
    DayIn,
    ExtendBody,
    FiguresOut,
    FiguresQuery,
    FiguresReport,
    LookupQuery,
    PeriodQuery,
    PublicCaseOut,
    RejectBody,
    ResponderOut,
    ResponderReport,
    UnresolvedOut,
)
from .views import case_detail, cases_out, lookups, public_out, year_out
from .watch import policy_of

router = ApiRouter("cases")
OFFICE = (ADMIN, INSPECTOR, HEAD)
#: The office's lists and figures: of the caller's hall, a head's of their departments.
OFFICE_LISTS = Scope("department", "办件", "case")


async def _detail(
    api: ApiRequest[Any, Any], session: AsyncSession, hall: Hall, case: Case
) -> CaseDetailOut:
    assert hall.id is not None
    cal = await load_calendar(session, hall.id)
    return await case_detail(
        session,
        hall,
        case,
        cal,
        api.state.clock.now(),
        policy_of(api.state),
        base_url=api.base_url(),
    )


@router.route(
    "POST",
    "/tickets/{id:int}/case",
    roles=[STAFF],
    response=CaseOut,
    status=201,
    extra_statuses=(409,),
    scope=TICKET.at("window", not_your_window="只能为本窗口正在办理的号票受理 (not your ticket)"),
)
async def accept_case(api: ApiRequest[CaseCreate]) -> Any:
    """受理: open a case from the ticket being served at your window."""
    body = api.body
    principal = api.principal
    async with api.state.db.write() as session:
        ticket = api.own(await load_ticket(session, api.path["id"], lock=True))
        hall = await principal_hall(session, principal)
        assert hall.id is not None
        svc = await session.get(Service, ticket.service_id)
        assert svc is not None
        cal = await load_calendar(session, hall.id)
        tx = api.tx(session, hall.id)
        case = await service.accept(
            tx,
            hall,
            svc,
            ticket,
            cal,
            applicant_name=body.applicant_name,
            applicant_phone=body.applicant_phone,
            where=service.Where(principal.window_id),
        )
        await tx.commit()
        return await _detail(api, session, hall, case)


@router.route("GET", "/cases", roles=OFFICE, response=list[CaseOut], scope=OFFICE_LISTS)
async def list_cases(api: ApiRequest[None, CasesQuery]) -> list[CaseOut]:
    """办件列表 for the office: warned (yellow/red) and overdue cases; heads see their own."""
    q = api.query
    principal = api.principal
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, principal)
        assert hall.id is not None
        cal = await load_calendar(session, hall.id)
        policy = policy_of(api.state)
        warned_by = (cal, business_day(hall, now), policy) if q.warning is not None else None
        cases = await queries.office_cases(
            session,
            hall.id,
            status=q.status,
            provisional=q.provisional,
            departments=api.departments(),
            limit=q.limit,
            warned_by=warned_by,
        )
        if q.warning is not None:
            warned = (c for c in cases if dl.warning_of(cal, hall, c, now, policy) == q.warning)
            cases = list(islice(warned, q.limit))
        return await cases_out(session, hall, cases, cal, now, policy, api.base_url())


@router.route(
    "GET",
    "/cases/lookup",
    roles=[PUBLIC],
    response=PublicCaseOut,
    extra_statuses=(404, 429),
)
async def lookup_case(api: ApiRequest[None, LookupQuery]) -> PublicCaseOut:
    """办件查询 (public): status and deadlines by receipt number and check code."""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        case = await look_up(api.state.db, session, q.receipt_no, q.check_code, now)
        hall = await session.get(Hall, case.hall_id)
        assert hall is not None and hall.id is not None
        cal = await load_calendar(session, hall.id)
        lk = await lookups(session, hall, [case])
        return public_out(hall, case, lk, cal, now)


@router.route("GET", "/cases/{receipt_no}", roles=[STAFF, *OFFICE], response=CaseDetailOut)
async def get_case(api: ApiRequest) -> CaseDetailOut:
    """One case with its correction notices, history and first-responder chain."""
    async with api.state.db.read() as session:
        case = await service.get_case(session, api.path["receipt_no"])
        await check_case_access(session, api.principal, case, act=False)
        hall = await principal_hall(session, api.principal)
        return await _detail(api, session, hall, case)


@router.route("GET", "/windows/{id:int}/cases", roles=[STAFF], response=list[CaseOut], scope=WINDOW)
async def window_cases(api: ApiRequest) -> list[CaseOut]:
    """本窗口在办办件: open cases accepted at your window, soonest deadline first, with warnings."""
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        window = api.own(await get_window(session, api.path["id"]))
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        assert window.id is not None
        cases = await queries.window_open_cases(session, window.id)
        cal = await load_calendar(session, hall.id)
        policy = policy_of(api.state)
        return await cases_out(session, hall, cases, cal, now, policy, api.base_url())


async def _case_action(api: ApiRequest[Any, Any], action: str) -> CaseDetailOut:
    principal = api.principal
    async with api.state.db.write() as session:
        case = await service.get_case(session, api.path["receipt_no"], lock=True)
        await check_case_access(session, principal, case, act=True)
        if action == "extend" and principal.role != HEAD:
            raise forbidden("延期须由本部门负责人批准 (only the department head approves)")
        hall = await principal_hall(session, principal)
        assert hall.id is not None
        cal = await load_calendar(session, hall.id)
        tx = api.tx(session, hall.id)
        where = service.Where(principal.window_id if principal.role == STAFF else None)
        if action == "correction":
            await service.issue_correction(tx, hall, case, api.body.materials, where=where)
        elif action == "resume":
            await service.resume(tx, hall, case, cal, where=where)
        elif action == "complete":
            await service.decide(tx, hall, case, cal, dl.COMPLETED, api.body.note, where=where)
        elif action == "reject":
            await service.decide(tx, hall, case, cal, dl.REJECTED, api.body.reason, where=where)
        elif action == "extend":
            await service.extend(tx, hall, case, cal, api.body.days, api.body.reason, where=where)
        await tx.commit()
        return await _detail(api, session, hall, case)


def _action_route(path: str, doc: str, roles: list[str], body: Any = None) -> None:
    async def handler(api: ApiRequest[Any, Any]) -> CaseDetailOut:
        return await _case_action(api, path)

    handler.__name__ = f"case_{path}"
    handler.__doc__ = doc
    router.route(
        "POST",
        f"/cases/{{receipt_no}}/{path}",
        roles=roles,
        body=body,
        response=CaseDetailOut,
        extra_statuses=(409,),
    )(handler)


_action_route(
    "correction",
    "补正告知 (一次性告知): list every missing material; the clock stops. A second notice is "
    "recorded as a breach.",
    [STAFF, HEAD],
    CorrectionBody,
)
_action_route(
    "resume",
    "材料补齐: the clock restarts the next working day; deadlines shift by the stopped days.",
    [STAFF, HEAD],
)
_action_route("complete", "办结 the case.", [STAFF, HEAD], CompleteBody)
_action_route("reject", "不予受理 with a reason.", [STAFF, HEAD], RejectBody)
_action_route(
    "extend",
    "延期: the department head approves more working days, with a reason.",
    [HEAD],
    ExtendBody,
)


@router.route(
    "GET", "/tickets/{id:int}/chain", roles=[STAFF, *OFFICE], response=ChainOut, scope=TICKET
)
async def ticket_chain_view(api: ApiRequest) -> ChainOut:
    """首问负责: the ticket's first responder and everyone who touched it, in order."""
    async with api.state.db.read() as session:
        ticket = api.own(await load_ticket(session, api.path["id"]))
        hall = await principal_hall(session, api.principal)
        chain = await ticket_chain(session, hall, ticket)
        return ChainOut(
            ticket=ticket.number,
            first_responder=chain.first_responder,
            touched=chain.touched,
            steps=chain.steps,
        )


@router.route(
    "POST",
    "/consultations",
    roles=[STAFF],
    response=ConsultationOut,
    status=201,
    scope=TICKET.at(
        "window", not_your_window="只能为本窗口办理的号票登记 (not your window's ticket)"
    ),
)
async def register_consultation(api: ApiRequest[ConsultationCreate]) -> ConsultationOut:
    """咨询登记: a consultation at your window, with or without a ticket."""
    body = api.body
    principal = api.principal
    async with api.state.db.write() as session:
        hall = await principal_hall(session, principal)
        assert hall.id is not None
        svc = await get_service(session, hall.id, body.service)
        ticket: Ticket | None = None
        if body.ticket is not None:
            ticket = api.own(await load_ticket(session, body.ticket))
        tx = api.tx(session, hall.id)
        row = await service.register_consultation(
            tx,
            hall,
            svc,
            summary=body.summary,
            citizen_name=body.citizen_name,
            referred_to=body.referred_to,
            ticket=ticket,
            where=service.Where(principal.window_id),
        )
        await tx.commit()
        window = await session.get(Window, row.window_id) if row.window_id else None
        assert row.id is not None
        return ConsultationOut(
            id=row.id,
            service=svc.code,
            summary=row.summary,
            citizen_name=row.citizen_name,
            referred_to=row.referred_to,
            first_responder=principal.username or None,
            window=window.number if window else None,
            ticket=ticket.number if ticket else None,
            created_at=local_time(hall, row.created_at).isoformat(),
        )


def period(hall: Hall, q: PeriodQuery, now: datetime) -> tuple[date, date]:
    """``[start, end]``; by default the current month up to today (hall time)."""
    today = business_day(hall, now)
    end = q.end or today
    start = q.start or end.replace(day=1)
    if start > end:
        raise invalid("invalid_period", "开始日期不能晚于结束日期 (start after end)")
    if (end - start).days > 400:
        raise invalid("invalid_period", "统计区间最长 400 天 (period too long)")
    return start, end


@router.route(
    "GET", "/accountability/figures", roles=OFFICE, response=FiguresReport, scope=OFFICE_LISTS
)
async def compliance_figures(api: ApiRequest[None, FiguresQuery]) -> FiguresReport:
    """时限考核: on-time and early-completion rates, overdue, breaches, per window/staff/…"""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        start, end = period(hall, q, now)
        rows = await fig.compliance(
            session, hall.id, start, end, q.by, now=now, department_ids=api.departments()
        )
        return FiguresReport(
            by=q.by,
            start=start,
            end=end,
            rows=[
                FiguresOut(**f.as_dict())
                for _, f in sorted(rows.items(), key=lambda kv: str(kv[0]))
            ],
        )


@router.route(
    "GET",
    "/accountability/first-responders",
    roles=OFFICE,
    response=ResponderReport,
    scope=OFFICE_LISTS,
)
async def first_responders(api: ApiRequest[None, PeriodQuery]) -> ResponderReport:
    """首问负责: matters per staff member as first responder, and those left without outcome."""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        start, end = period(hall, q, now)
        figures = await first_responder_figures(
            session, hall, start, end, business_day(hall, now), department_ids=api.departments()
        )
        return ResponderReport(
            start=start,
            end=end,
            rows=[
                ResponderOut(
                    username=f.username,
                    name=f.name,
                    tickets=f.tickets,
                    consultations=f.consultations,
                    cases=f.cases,
                    referrals=f.referrals,
                    unresolved=f.unresolved_count,
                    matters=[
                        UnresolvedOut(
                            ticket_id=u.ticket_id,
                            ticket=u.number,
                            business_day=u.business_day,
                            reason=u.reason,
                            reason_label=NO_OUTCOME_REASONS.get(u.reason, u.reason),
                            service=u.service,
                        )
                        for u in f.unresolved
                    ],
                )
                for f in figures.values()
            ],
        )


@router.route(
    "GET",
    "/accountability/queue-commitments",
    roles=OFFICE,
    response=CommitmentReport,
    scope=OFFICE_LISTS,
)
async def queue_commitments(api: ApiRequest[None, PeriodQuery]) -> CommitmentReport:
    """等候/办理时限: tickets over the wait or service-time target, per service and day."""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        today = business_day(hall, now)
        start, end = period(hall, PeriodQuery(start=q.start or (q.end or today), end=q.end), now)
        rows = await commitment_counts(session, hall, start, end, now)
        scope = api.departments()
        if scope is not None:
            allowed = await queries.service_codes(session, scope)
            rows = [r for r in rows if r.service in allowed]
        return CommitmentReport(
            start=start,
            end=end,
            rows=[CommitmentOut.model_validate(r, from_attributes=True) for r in rows],
        )


@router.route("GET", "/calendar", roles=OFFICE, response=CalendarStatusOut)
async def calendar_overview(api: ApiRequest) -> CalendarStatusOut:
    """工作日历: known years and the years the administrator should enter (预计期限提醒)."""
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        status = await calendar_status(session, hall, api.state.clock.now())
        return CalendarStatusOut.model_validate(status, from_attributes=True)


@router.route("GET", "/calendar/years/{year:int}", roles=OFFICE, response=CalendarYearOut)
async def calendar_year(api: ApiRequest) -> CalendarYearOut:
    """A year's holidays and make-up working days (entered, or from the official package)."""
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        return await year_out(session, hall, int(api.path["year"]))


def _entries(items: list[DayIn | date]) -> list[DayEntry]:
    return [DayEntry(i.date, i.name) if isinstance(i, DayIn) else DayEntry(i) for i in items]


@router.route(
    "PUT",
    "/calendar/years/{year:int}",
    roles=[ADMIN],
    response=CalendarYearOut,
)
async def enter_calendar_year(api: ApiRequest[CalendarYearBody]) -> Any:
    """录入节假日: a year's holidays and make-up days; provisional deadlines are recomputed."""
    year = int(api.path["year"])
    if not 2000 <= year <= 2200:
        raise invalid("invalid_year", "年份无效 (invalid year)")
    body = api.body
    async with api.state.db.write() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        holidays, workdays = _entries(body.holidays), _entries(body.workdays)
        entry, changed = await enter_year(tx, hall, year, holidays, workdays, body.note)
        await tx.commit()
        days = sorted(
            [CalendarDayOut(date=h.day, working=False, name=h.name) for h in holidays]
            + [CalendarDayOut(date=w.day, working=True, name=w.name) for w in workdays],
            key=lambda d: d.date,
        )
        out = CalendarYearOut(
            year=year,
            source="entered",
            entered_at=local_time(hall, entry.entered_at).isoformat(),
            note=entry.note,
            days=days,
            recomputed=changed,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=200)
