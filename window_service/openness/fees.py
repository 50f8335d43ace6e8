"""收费公开 (定费·收费·管理三分离): fee standards, charges checked against them, fee breaches.

The administrator sets a service's standard (定费); the window records what it charged with
the fee receipt's number (收费); a charge that breaks the standard is flagged to the office at
once (``office.fee_flag``) and counted in its figures and stars (管理).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.errors import conflict, invalid
from ..auth.models import User
from ..chain import snapshot
from ..halls.lookup import business_day
from ..halls.models import Department, Hall, Service, Window
from ..queue import rules as ticket_rules
from ..queue.models import Ticket
from ..transaction import Tx
from .models import FeeCharge, ServiceFee

ABOVE_STANDARD = "above_standard"
FREE_SERVICE = "free_service"
NOT_IN_STANDARD = "not_in_standard"
NO_STANDARD = "no_standard"
#: Breaches that count against the window, staff member and department.
COUNTED_BREACHES = (ABOVE_STANDARD, FREE_SERVICE, NOT_IN_STANDARD)
BREACH_LABELS = {
    ABOVE_STANDARD: "超标准收费",
    FREE_SERVICE: "免费事项收费",
    NOT_IN_STANDARD: "收取标准外费用",
    NO_STANDARD: "事项未设收费标准",
}


def yuan(cents: int) -> str:
    """1234 → "12.34"."""
    return f"{cents // 100}.{cents % 100:02d}"


FREE_WORDS = frozenset({"不收费", "免费", "无", "0", "0元", "免收"})
_ITEM = re.compile(
    r"^(?P<name>[^\d：:]+?)\s*[：:]?\s*(?P<yuan>\d{1,7}(?:\.\d{1,2})?)\s*元"
    r"(?:\s*/\s*(?P<unit>[^\s/]{1,10}))?$"
)


def parse_standard_text(text: str) -> tuple[bool, list[dict[str, Any]]] | None:
    """A 收费标准 cell as a structured standard: ``(free, items)``, or None when the text is
    not in a form a charge can be checked against (then only the text is shown).

    "不收费" → free; "复印费 0.5元/页；工本费：10元/本" → two items with their unit price caps.
    """
    text = text.strip()
    if not text:
        return None
    if text in FREE_WORDS:
        return True, []
    items = []
    for part in re.split(r"[；;\n]+", text):
        part = part.strip()
        if not part:
            continue
        m = _ITEM.match(part)
        if m is None:
            return None
        yuan_text = m.group("yuan")
        whole, _, frac = yuan_text.partition(".")
        cents = int(whole) * 100 + int((frac + "00")[:2])
        if cents <= 0:
            return None
        items.append(
            {
                "name": m.group("name").strip(),
                "unit": m.group("unit") or "次",
                "max_unit_cents": cents,
            }
        )
    return (False, items) if items else None


def standard_text(fee: ServiceFee | None) -> str:
    """The standard as the notice board shows it: 不收费, or 复印费 0.50元/页；…"""
    if fee is None:
        return ""
    if fee.free:
        return "不收费"
    parts = []
    for item in fee.items:
        unit = item.get("unit") or "次"
        parts.append(f"{item['name']} {yuan(int(item['max_unit_cents']))}元/{unit}")
    return "；".join(parts)


async def standards(session: AsyncSession, hall_id: int) -> dict[int, ServiceFee]:
    """service id → its fee standard (services without one are missing)."""
    rows = await session.execute(select(ServiceFee).where(col(ServiceFee.hall_id) == hall_id))
    return {f.service_id: f for f in rows.scalars()}


async def standard_texts(session: AsyncSession, hall_id: int) -> dict[str, str]:
    """service code → its fee standard as shown in public (services with one set)."""
    rows = await session.execute(
        select(Service.code, ServiceFee)  # type: ignore[call-overload]
        .join(ServiceFee, col(ServiceFee.service_id) == col(Service.id))
        .where(col(Service.hall_id) == hall_id)
    )
    return {code: standard_text(fee) for code, fee in rows.all()}


async def set_standard(
    tx: Tx, service: Service, *, free: bool, items: list[dict[str, Any]], basis: str
) -> ServiceFee:
    """定费: set (or change) a service's fee standard; audited with what it was before."""
    assert service.id is not None
    names = [i["name"] for i in items]
    if free and items:
        raise invalid("free_with_items", "不收费事项不能列收费项目 (a free service lists no items)")
    if not free and not items:
        raise invalid("items_required", "收费事项须列明收费项目 (list the fee items)")
    if len(set(names)) != len(names):
        raise invalid("duplicate_item", "收费项目名称重复 (duplicate item names)")
    fee = (
        await tx.session.execute(
            select(ServiceFee).where(col(ServiceFee.service_id) == service.id).with_for_update()
        )
    ).scalar_one_or_none()
    before = snapshot(fee) if fee is not None else None
    if fee is None:
        fee = ServiceFee(hall_id=service.hall_id, service_id=service.id, set_at=tx.now)
        tx.session.add(fee)
    fee.free = free
    fee.items = [dict(i) for i in items]
    fee.basis = basis
    fee.set_at = tx.now
    fee.set_by_id = tx.actor.user_id
    await tx.session.flush()
    tx.audit("fee_standard.set", fee, before=before)
    return fee


@dataclass(frozen=True)
class Check:
    allowed_cents: int | None
    breach: str | None


def check_charge(fee: ServiceFee | None, item: str, quantity: int, amount_cents: int) -> Check:
    """Whether a charge keeps to the service's standard, and the most it allowed."""
    if fee is None:
        return Check(None, NO_STANDARD)
    if fee.free:
        return Check(0, FREE_SERVICE)
    for entry in fee.items:
        if entry["name"] == item:
            allowed = int(entry["max_unit_cents"]) * quantity
            return Check(allowed, ABOVE_STANDARD if amount_cents > allowed else None)
    return Check(None, NOT_IN_STANDARD)


async def record_charge(
    tx: Tx,
    hall: Hall,
    service: Service,
    *,
    ticket_id: int | None,
    case_id: int | None,
    window_id: int | None,
    staff_id: int | None,
    item: str,
    quantity: int,
    amount_cents: int,
    receipt_no: str,
) -> FeeCharge:
    """收费登记: what the window charged; a breach is flagged to the office at once."""
    assert service.id is not None
    fee = (
        await tx.session.execute(select(ServiceFee).where(col(ServiceFee.service_id) == service.id))
    ).scalar_one_or_none()
    check = check_charge(fee, item, quantity, amount_cents)
    charge = FeeCharge(
        hall_id=service.hall_id,
        ticket_id=ticket_id,
        case_id=case_id,
        service_id=service.id,
        department_id=service.department_id,
        window_id=window_id,
        staff_id=staff_id,
        item=item,
        quantity=quantity,
        amount_cents=amount_cents,
        receipt_no=receipt_no,
        allowed_cents=check.allowed_cents,
        breach=check.breach,
        charged_at=tx.now,
        business_day=business_day(hall, tx.now),
    )
    tx.session.add(charge)
    await tx.session.flush()
    tx.audit("fee_charge.record", charge)
    if check.breach is not None:
        tx.emit(
            "office.fee_flag",
            id=charge.id,
            breach=check.breach,
            label=BREACH_LABELS[check.breach],
            service=service.code,
            department_id=service.department_id,
            window_id=window_id,
            amount=yuan(amount_cents),
            allowed=yuan(check.allowed_cents) if check.allowed_cents is not None else None,
        )
    return charge


async def void_charge(tx: Tx, charge: FeeCharge, reason: str) -> FeeCharge:
    """作废: the office voids a charge recorded in error (kept, with the reason; no longer
    counted). Window staff cannot void their own flagged charges."""
    if not reason:
        raise invalid("reason_required", "作废须说明理由 (a reason is required)")
    if charge.voided:
        raise conflict("already_voided", "该收费记录已作废 (charge already voided)")
    before = snapshot(charge)
    charge.voided = True
    charge.void_reason = reason
    tx.audit("fee_charge.void", charge, before=before, reason=reason)
    tx.emit(
        "office.fee_flag",
        department_id=charge.department_id,
        id=charge.id,
        breach=charge.breach,
        voided=True,
    )
    return charge


@dataclass(frozen=True)
class FeeBreaches:
    """Counted fee breaches (乱收费) of a period, per window number, staff username and
    department code: what the figures and star ratings count."""

    total: int
    by_window: dict[int, int]
    by_staff: dict[str, int]
    by_department: dict[str, int]

    def by_subject(self, by: str) -> dict[str, int]:
        """Counts keyed like the star ratings' rows (as text): ``by`` is window, staff or
        department."""
        if by == "window":
            return {str(k): v for k, v in self.by_window.items()}
        if by == "staff":
            return dict(self.by_staff)
        if by == "department":
            return dict(self.by_department)
        return {}


async def fee_breaches(session: AsyncSession, hall_id: int, start: date, end: date) -> FeeBreaches:
    """Fee breaches (超标准收费, 免费事项收费, 收取标准外费用) on ``start``..``end`` (hall days,
    both included), not voided. ``no_standard`` is the hall's gap, counted against nobody."""
    rows = (
        await session.execute(
            select(FeeCharge.window_id, FeeCharge.staff_id, FeeCharge.department_id).where(
                col(FeeCharge.hall_id) == hall_id,
                col(FeeCharge.breach).in_(COUNTED_BREACHES),
                col(FeeCharge.voided).is_(False),
                col(FeeCharge.business_day) >= start,
                col(FeeCharge.business_day) <= end,
            )
        )
    ).all()
    windows = {
        w.id: w.number
        for w in (
            await session.execute(select(Window).where(col(Window.hall_id) == hall_id))
        ).scalars()
    }
    departments = {
        d.id: d.code
        for d in (
            await session.execute(select(Department).where(col(Department.hall_id) == hall_id))
        ).scalars()
    }
    staff_ids = {r[1] for r in rows if r[1] is not None}
    users = {
        u.id: u.username
        for u in (await session.execute(select(User).where(col(User.id).in_(staff_ids)))).scalars()
    }
    by_window: Counter[int] = Counter()
    by_staff: Counter[str] = Counter()
    by_department: Counter[str] = Counter()
    for window_id, staff_id, department_id in rows:
        if window_id in windows:
            by_window[windows[window_id]] += 1
        if staff_id in users:
            by_staff[users[staff_id]] += 1
        if department_id in departments:
            by_department[departments[department_id]] += 1
    return FeeBreaches(len(rows), dict(by_window), dict(by_staff), dict(by_department))


def check_chargeable(ticket: Ticket) -> None:
    """Only a ticket being served or finished is charged (409 ``invalid_state``)."""
    if ticket.status not in (ticket_rules.SERVING, ticket_rules.DONE):
        label = ticket_rules.STATUS_LABELS.get(ticket.status, ticket.status)
        raise conflict(
            "invalid_state",
            f"号票 {ticket.number} 当前状态为「{label}」，只能为正在办理或已办结的号票登记收费 "
            "(only a ticket being served or finished can be charged)",
        )
