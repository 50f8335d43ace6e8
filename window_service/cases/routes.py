"""HTTP endpoints of cases and consultations (figures: figure_routes.py; calendar: calendar_routes.py)."""

from __future__ import annotations

from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import forbidden
from ..auth.roles import HEAD, STAFF
from ..halls.lookup import business_day, get_service, get_window, local_time
from ..halls.models import Hall, Service, Window
from ..halls.scopes import WINDOW
from ..queue.models import Ticket
from ..queue.queries import load_ticket
from ..queue.scopes import TICKET
from . import consultations, queries, service
from . import deadlines as dl
from .access import check_case_access, look_up, principal_hall
from .calendar import load_calendar
from .models import Case
from .responsibility import ticket_chain
from .schemas import (
    CaseCreate,
    CaseDetailOut,
    CaseOut,
    CasesQuery,
    ChainOut,
    CompleteBody,
    ConsultationCreate,
    ConsultationOut,
    CorrectionBody,
    ExtendBody,
    LookupQuery,
    PublicCaseOut,
    RejectBody,
)
from .scopes import OFFICE, OFFICE_LISTS
from .views import case_detail, cases_out, lookups, public_out
from .watch import policy_of

router = ApiRouter("cases")


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
        row = await consultations.register_consultation(
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
