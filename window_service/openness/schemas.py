"""Requests and answers of results publication and fees."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ..api.dates import Day
from ..api.schemas import Input, Output, Query

#: At most 100,000 元 for one charge: anything larger is a typing error.
MAX_CHARGE_CENTS = 10_000_000


class ResultsQuery(Query):
    """``from`` and ``to``: hall dates (YYYY-MM-DD), both included."""

    start: Day | None = Field(default=None, alias="from")
    end: Day | None = Field(default=None, alias="to")
    limit: int = Field(default=1000, ge=1, le=5000)


class ResultOut(Output):
    """A decided case as the public sees it (办件结果公示)."""

    receipt_no: str
    service: str
    service_name: str
    department: str
    decision: str
    decision_label: str
    decided_at: str
    applicant: str


class FeeItem(Input):
    name: str = Field(min_length=1, max_length=50)
    unit: str = Field(default="次", min_length=1, max_length=10)
    max_unit_cents: int = Field(ge=1, le=MAX_CHARGE_CENTS)


class FeeStandardBody(Input):
    """``free``: the service costs nothing; otherwise ``items`` lists what may be charged."""

    free: bool
    items: list[FeeItem] = Field(default_factory=list, max_length=20)
    basis: str = Field(default="", max_length=500)


class FeeItemOut(Output):
    name: str
    unit: str
    max_unit_cents: int
    max_unit_yuan: str


class FeeStandardOut(Output):
    service: str
    service_name: str
    department: str
    #: Whether the hall has set a standard for the service at all.
    set: bool
    free: bool | None
    items: list[FeeItemOut]
    basis: str
    text: str


class ChargeBody(Input):
    """收费登记: what was charged, for which item, and the fee receipt's number."""

    amount_cents: int = Field(ge=1, le=MAX_CHARGE_CENTS)
    item: str = Field(min_length=1, max_length=100)
    quantity: int = Field(default=1, ge=1, le=10_000)
    receipt_no: str = Field(min_length=1, max_length=64)


class ChargeOut(Output):
    id: int
    service: str
    ticket: str | None
    case: str | None
    window: int | None
    staff: str | None
    item: str
    quantity: int
    amount_cents: int
    amount_yuan: str
    receipt_no: str
    allowed_cents: int | None
    breach: str | None
    breach_label: str | None
    charged_at: str
    voided: bool = False
    void_reason: str = ""


class VoidBody(Input):
    reason: str = Field(min_length=1, max_length=500)


class FeeFlagsQuery(Query):
    start: Day | None = None
    end: Day | None = None
    #: Also ``no_standard`` charges (the hall's gap, counted against nobody).
    all: bool = True
    limit: int = Field(default=200, ge=1, le=1000)


class FeeFiguresOut(Output):
    """Counted fee breaches of a period (default: this month)."""

    start: date
    end: date
    total: int
    by_window: dict[str, int]
    by_staff: dict[str, int]
    by_department: dict[str, int]
