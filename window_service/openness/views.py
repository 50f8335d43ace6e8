"""The openness endpoints' answers: fee standards and charges as the API and pages show them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.lookup import local_time
from ..halls.models import Hall, Service
from . import fees, queries
from .models import FeeCharge, ServiceFee
from .schemas import ChargeOut, FeeItemOut, FeeStandardOut


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


async def charge_out(session: AsyncSession, hall: Hall, charge: FeeCharge) -> ChargeOut:
    return (await charges_out(session, hall, [charge]))[0]


async def charges_out(session: AsyncSession, hall: Hall, rows: list[FeeCharge]) -> list[ChargeOut]:
    names = await queries.charge_names(session, rows)
    services, tickets, case_nos = names["services"], names["tickets"], names["cases"]
    windows, users = names["windows"], names["users"]
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
