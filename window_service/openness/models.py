"""Tables of fees in public (收费公开): a service's fee standard and what a window charged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class ServiceFee(SQLModel, table=True):
    """收费标准 of a service, structured so that a charge can be checked against it.

    ``free``: the service costs nothing (不收费). Otherwise ``items`` lists what may be
    charged: ``{"name": "复印费", "unit": "页", "max_unit_cents": 50}`` (at most 0.50 元 a page).
    No row: the hall has not set a standard yet. Changed in place, audited (never deleted).
    """

    __tablename__ = "service_fee"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    service_id: int = Field(foreign_key="service.id", unique=True)
    free: bool = True
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    #: 收费依据 (the document that sets the fee, 定费).
    basis: str = Field(default="", max_length=500)
    set_at: datetime = Field(sa_type=TZDateTime)
    set_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class FeeCharge(SQLModel, table=True):
    """What a window charged (收费登记) for a ticket or case, with the fee receipt's number.

    ``breach`` is set when the charge breaks the standard: ``above_standard`` (超标准收费),
    ``free_service`` (免费事项收费) or ``not_in_standard`` (收取标准外费用); these count against
    the window, staff member and department. ``no_standard`` (the hall set no standard for the
    service) is shown to the office but counts against nobody. Never deleted: voided with a
    reason.
    """

    __tablename__ = "fee_charge"

    __table_args__ = (
        Index("ix_fee_charge_hall_day", "hall_id", "business_day"),
        Index("ix_fee_charge_hall_breach", "hall_id", "breach"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    department_id: int = Field(foreign_key="department.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="app_user.id")
    item: str = Field(max_length=100)
    quantity: int = 1
    amount_cents: int
    #: 收费票据号 (the number on the fee receipt handed to the citizen).
    receipt_no: str = Field(max_length=64)
    #: The most the standard allowed for this charge (None: no standard or item not in it).
    allowed_cents: int | None = None
    breach: str | None = Field(default=None, max_length=24)
    charged_at: datetime = Field(sa_type=TZDateTime)
    business_day: date
    voided: bool = False
    void_reason: str = Field(default="", max_length=500)
