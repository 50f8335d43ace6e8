"""HTTP endpoints of results publication (办件结果公示) and fees in public (收费公开)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError, conflict, forbidden
from ..auth.models import User
from ..auth.roles import ADMIN, INSPECTOR, STAFF
from ..cases import service as cases
from ..cases.models import Case
from ..cases.routes import check_case_access, principal_hall
from ..halls.lookup import business_day, get_hall, get_service, local_time
from ..halls.models import Department, Hall, Service, Window
from ..queue import rules as ticket_rules
from ..queue.models import Ticket
from ..queue.routes import load_ticket
from . import fees, results
from .models import FeeCharge, ServiceFee
from .schemas import (
    ChargeBody,
    ChargeOut,
    FeeFiguresOut,
    FeeFlagsQuery,
    FeeItemOut,
    FeeStandardBody,
    FeeStandardOut,
    ResultOut,
    ResultsQuery,
    VoidBody,
)

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


def standard_out(svc: Service, department: str, fee: ServiceFee | None) -> FeeStandardOut:
    return FeeStandardOut(
        service=svc.code,
        service_name=svc.name,
        department=department,
        set=fee is not None,
        free=fee.free if fee is not None else None,
        items=[
            FeeItemOut(
                name=i["name"],
                unit=i.get("unit") or "次",
                max_unit_cents=int(i["max_unit_cents"]),
                max_unit_yuan=fees.yuan(int(i["max_unit_cents"])),
            )
            for i in (fee.items if fee is not None else [])
        ],
        basis=fee.basis if fee is not None else "",
        text=fees.standard_text(fee) if fee is not None else svc.fees,
    )


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
        rows = (
            await session.execute(
                select(Service, Department.name)
                .join(Department, col(Department.id) == col(Service.department_id))
                .where(col(Service.hall_id) == hall.id, col(Service.active).is_(True))
                .order_by(col(Service.sort_order), col(Service.id))
            )
        ).all()
    return [standard_out(svc, dept, standards.get(svc.id or 0)) for svc, dept in rows]


@router.route(
    "PUT",
    "/halls/{hall}/services/{code}/fee",
    roles=[ADMIN],
    response=FeeStandardOut,
    extra_statuses=(404,),
)
async def set_fee_standard(api: ApiRequest[FeeStandardBody]) -> FeeStandardOut:
    """定费: set a service's fee standard (the administrator of the hall)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await get_hall(session, api.path["hall"])
        assert hall.id is not None
        if api.principal.hall_id != hall.id:
            raise forbidden("只能设置本大厅的收费标准 (not your hall)")
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


async def _charge_out(session: AsyncSession, hall: Hall, charge: FeeCharge) -> ChargeOut:
    return (await charges_out(session, hall, [charge]))[0]


async def charges_out(session: AsyncSession, hall: Hall, rows: list[FeeCharge]) -> list[ChargeOut]:
    def ids(attr: str) -> list[int]:
        return list({getattr(r, attr) for r in rows if getattr(r, attr) is not None})

    services = {
        s.id: s.code
        for s in (
            await session.execute(select(Service).where(col(Service.id).in_(ids("service_id"))))
        ).scalars()
    }
    tickets = {
        t.id: t.number
        for t in (
            await session.execute(select(Ticket).where(col(Ticket.id).in_(ids("ticket_id"))))
        ).scalars()
    }
    case_nos = {
        c.id: c.receipt_no
        for c in (
            await session.execute(select(Case).where(col(Case.id).in_(ids("case_id"))))
        ).scalars()
    }
    windows = {
        w.id: w.number
        for w in (
            await session.execute(select(Window).where(col(Window.id).in_(ids("window_id"))))
        ).scalars()
    }
    users = {
        u.id: u.username
        for u in (
            await session.execute(select(User).where(col(User.id).in_(ids("staff_id"))))
        ).scalars()
    }
    return [
        ChargeOut(
            id=c.id or 0,
            service=services.get(c.service_id, ""),
            ticket=tickets.get(c.ticket_id) if c.ticket_id else None,
            case=case_nos.get(c.case_id) if c.case_id else None,
            window=windows.get(c.window_id) if c.window_id else None,
            staff=users.get(c.staff_id) if c.staff_id else None,
            item=c.item,
            quantity=c.quantity,
            amount_cents=c.amount_cents,
            amount_yuan=fees.yuan(c.amount_cents),
            receipt_no=c.receipt_no,
            allowed_cents=c.allowed_cents,
            breach=c.breach,
            breach_label=fees.BREACH_LABELS.get(c.breach) if c.breach else None,
            charged_at=local_time(hall, c.charged_at).isoformat(),
            voided=c.voided,
            void_reason=c.void_reason,
        )
        for c in rows
    ]


@router.route(
    "POST",
    "/tickets/{id:int}/charges",
    roles=[STAFF],
    response=ChargeOut,
    status=201,
    extra_statuses=(404, 409),
)
async def charge_ticket(api: ApiRequest[ChargeBody]) -> ChargeOut:
    """收费登记: what your window charged for the ticket it serves or finished."""
    body = api.body
    principal = api.principal
    async with api.state.db.write() as session:
        ticket = await load_ticket(session, api.path["id"], lock=True)
        if ticket.hall_id != principal.hall_id:
            raise ApiError(403, "forbidden", "不是本大厅的号票 (ticket of another hall)")
        if principal.window_id is None or ticket.window_id != principal.window_id:
            raise ApiError(403, "forbidden", "只能为本窗口办理的号票登记收费 (not your ticket)")
        if ticket.status not in (ticket_rules.SERVING, ticket_rules.DONE):
            label = ticket_rules.STATUS_LABELS.get(ticket.status, ticket.status)
            raise conflict(
                "invalid_state",
                f"号票 {ticket.number} 当前状态为「{label}」，只能为正在办理或已办结的号票登记收费 "
                "(only a ticket being served or finished can be charged)",
            )
        hall = await principal_hall(session, principal)
        svc = await session.get(Service, ticket.service_id)
        assert svc is not None and hall.id is not None
        case_id = (
            await session.execute(
                select(Case.id)
                .where(col(Case.ticket_id) == ticket.id)
                .order_by(col(Case.id))
                .limit(1)
            )
        ).scalar_one_or_none()
        tx = api.tx(session, hall.id)
        charge = await fees.record_charge(
            tx,
            hall,
            svc,
            ticket_id=ticket.id,
            case_id=case_id,
            window_id=principal.window_id,
            staff_id=principal.user_id,
            item=body.item,
            quantity=body.quantity,
            amount_cents=body.amount_cents,
            receipt_no=body.receipt_no,
        )
        await tx.commit()
        return await _charge_out(session, hall, charge)


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
    body = api.body
    principal = api.principal
    async with api.state.db.write() as session:
        case = await cases.get_case(session, api.path["receipt_no"], lock=True)
        await check_case_access(session, principal, case, act=True)
        hall = await principal_hall(session, principal)
        svc = await session.get(Service, case.service_id)
        assert svc is not None and hall.id is not None
        tx = api.tx(session, hall.id)
        charge = await fees.record_charge(
            tx,
            hall,
            svc,
            ticket_id=case.ticket_id,
            case_id=case.id,
            window_id=principal.window_id,
            staff_id=principal.user_id,
            item=body.item,
            quantity=body.quantity,
            amount_cents=body.amount_cents,
            receipt_no=body.receipt_no,
        )
        await tx.commit()
        return await _charge_out(session, hall, charge)


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
        charge = (
            await session.execute(
                select(FeeCharge).where(col(FeeCharge.id) == api.path["id"]).with_for_update()
            )
        ).scalar_one_or_none()
        if charge is None or charge.hall_id != hall.id:
            raise ApiError(404, "not_found", "没有这条收费记录 (unknown charge)")
        tx = api.tx(session, hall.id)
        await fees.void_charge(tx, charge, body.reason)
        await tx.commit()
        return await _charge_out(session, hall, charge)


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
        stmt: Any = (
            select(FeeCharge)
            .where(
                col(FeeCharge.hall_id) == hall.id,
                col(FeeCharge.breach).in_(kinds),
                col(FeeCharge.business_day) >= start,
                col(FeeCharge.business_day) <= end,
            )
            .order_by(col(FeeCharge.charged_at).desc(), col(FeeCharge.id).desc())
            .limit(q.limit)
        )
        rows = list((await session.execute(stmt)).scalars())
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
