"""HTTP endpoints of results publication (办件结果公示) and fees in public (收费公开)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError
from ..api.scope import HALL
from ..auth.roles import ADMIN, INSPECTOR, STAFF
from ..cases import service as cases
from ..cases.access import check_case_access, principal_hall
from ..halls.lookup import business_day, get_hall, get_service, own_hall
from ..halls.models import Department, Hall, Service
from ..queue.queries import load_ticket
from ..queue.scopes import TICKET
from . import fees, queries, results
from .schemas import (
    ChargeBody,
    ChargeOut,
    FeeFiguresOut,
    FeeFlagsQuery,
    FeeStandardBody,
    FeeStandardOut,
    ResultOut,
    ResultsQuery,
    VoidBody,
)
from .views import charge_out, charges_out, standard_out

router = ApiRouter("openness")
FEE_OFFICE = (INSPECTOR, ADMIN)


@router.route(
    "GET",
    "/halls/{hall}/results",
    roles=[PUBLIC],
    response=list[ResultOut],
    extra_statuses=(404, 422),
)
async def list_results(api: ApiRequest[None, ResultsQuery]) -> list[ResultOut]:
    """办件结果公示 (public): decided cases, the applicant's name masked."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        start, end = results.result_range(hall, api.state.clock.now(), q.start, q.end)
        rows = await results.decided_cases(session, hall, start, end, limit=q.limit)
    return [
        ResultOut(
            receipt_no=r.receipt_no,
            service=r.service,
            service_name=r.service_name,
            department=r.department,
            decision=r.decision,
            decision_label=r.decision_label,
            decided_at=r.decided_at,
            applicant=r.applicant,
        )
        for r in rows
    ]


@router.route(
    "GET",
    "/halls/{hall}/fees",
    roles=[PUBLIC],
    response=list[FeeStandardOut],
    extra_statuses=(404,),
)
async def list_fee_standards(api: ApiRequest) -> list[FeeStandardOut]:
    """收费标准 (public): every active service's fee standard."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        assert hall.id is not None
        standards = await fees.standards(session, hall.id)
        rows = await queries.active_services(session, hall.id)
    return [standard_out(svc, dept, standards.get(svc.id or 0)) for svc, dept in rows]


@router.route(
    "PUT",
    "/halls/{hall}/services/{code}/fee",
    roles=[ADMIN],
    response=FeeStandardOut,
    extra_statuses=(404,),
    scope=HALL,
)
async def set_fee_standard(api: ApiRequest[FeeStandardBody]) -> FeeStandardOut:
    """定费: set a service's fee standard (the administrator of the hall)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        svc = await get_service(session, hall.id, api.path["code"])
        tx = api.tx(session, hall.id)
        fee = await fees.set_standard(
            tx,
            svc,
            free=body.free,
            items=[i.model_dump() for i in body.items],
            basis=body.basis,
        )
        department = await session.get(Department, svc.department_id)
        await tx.commit()
        return standard_out(svc, department.name if department else "", fee)


async def _record(
    api: ApiRequest[ChargeBody],
    session: AsyncSession,
    hall: Hall,
    svc: Service,
    ticket_id: int | None,
    case_id: int | None,
) -> ChargeOut:
    """收费登记 by the caller's window of what the body says, and the charge as answered."""
    assert hall.id is not None
    body = api.body
    tx = api.tx(session, hall.id)
    charge = await fees.record_charge(
        tx,
        hall,
        svc,
        ticket_id=ticket_id,
        case_id=case_id,
        window_id=api.principal.window_id,
        staff_id=api.principal.user_id,
        item=body.item,
        quantity=body.quantity,
        amount_cents=body.amount_cents,
        receipt_no=body.receipt_no,
    )
    await tx.commit()
    return await charge_out(session, hall, charge)


@router.route(
    "POST",
    "/tickets/{id:int}/charges",
    roles=[STAFF],
    response=ChargeOut,
    status=201,
    extra_statuses=(404, 409),
    scope=TICKET.at("window", not_your_window="只能为本窗口办理的号票登记收费 (not your ticket)"),
)
async def charge_ticket(api: ApiRequest[ChargeBody]) -> ChargeOut:
    """收费登记: what your window charged for the ticket it serves or finished."""
    principal = api.principal
    async with api.state.db.write() as session:
        ticket = api.own(await load_ticket(session, api.path["id"], lock=True))
        fees.check_chargeable(ticket)
        hall = await principal_hall(session, principal)
        svc = await session.get(Service, ticket.service_id)
        assert svc is not None and hall.id is not None
        case_id = await queries.first_case_of(session, ticket.id)
        return await _record(api, session, hall, svc, ticket.id, case_id)


@router.route(
    "POST",
    "/cases/{receipt_no}/charges",
    roles=[STAFF],
    response=ChargeOut,
    status=201,
    extra_statuses=(404,),
)
async def charge_case(api: ApiRequest[ChargeBody]) -> ChargeOut:
    """收费登记: what your window charged for a case (e.g. at its completion)."""
    principal = api.principal
    async with api.state.db.write() as session:
        case = await cases.get_case(session, api.path["receipt_no"], lock=True)
        await check_case_access(session, principal, case, act=True)
        hall = await principal_hall(session, principal)
        svc = await session.get(Service, case.service_id)
        assert svc is not None and hall.id is not None
        return await _record(api, session, hall, svc, case.ticket_id, case.id)


@router.route(
    "POST",
    "/fee-charges/{id:int}/void",
    roles=FEE_OFFICE,
    response=ChargeOut,
    extra_statuses=(404, 409),
)
async def void_fee_charge(api: ApiRequest[VoidBody]) -> ChargeOut:
    """作废收费记录: the office voids a charge recorded in error, with a reason."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        charge = await queries.load_charge(session, api.path["id"], hall.id)
        tx = api.tx(session, hall.id)
        await fees.void_charge(tx, charge, body.reason)
        await tx.commit()
        return await charge_out(session, hall, charge)


def _period(
    hall: Hall, api: ApiRequest[Any, Any], start: date | None, end: date | None
) -> tuple[date, date]:
    today = business_day(hall, api.state.clock.now())
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise ApiError(422, "invalid_period", "开始日期不能晚于结束日期 (start after end)")
    if (end - start).days > 400:
        raise ApiError(422, "invalid_period", "统计区间最长 400 天 (period too long)")
    return start, end


@router.route("GET", "/fee-flags", roles=FEE_OFFICE, response=list[ChargeOut])
async def list_fee_flags(api: ApiRequest[None, FeeFlagsQuery]) -> list[ChargeOut]:
    """收费异常: charges above the standard, on free services or outside it, newest first."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        start, end = _period(hall, api, q.start, q.end)
        kinds: list[str] = list(fees.COUNTED_BREACHES)
        if q.all:
            kinds.append(fees.NO_STANDARD)
        assert hall.id is not None
        rows = await queries.flagged_charges(
            session, hall.id, start, end, kinds=kinds, limit=q.limit
        )
        return await charges_out(session, hall, rows)


@router.route("GET", "/fee-flags/figures", roles=FEE_OFFICE, response=FeeFiguresOut)
async def fee_figures(api: ApiRequest[None, FeeFlagsQuery]) -> FeeFiguresOut:
    """乱收费 figures: counted fee breaches per window, staff member and department."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        start, end = _period(hall, api, q.start, q.end)
        counts = await fees.fee_breaches(session, hall.id, start, end)
    return FeeFiguresOut(
        start=start,
        end=end,
        total=counts.total,
        by_window={str(k): v for k, v in sorted(counts.by_window.items())},
        by_staff=dict(sorted(counts.by_staff.items())),
        by_department=dict(sorted(counts.by_department.items())),
    )
