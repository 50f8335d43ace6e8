"""Request and response bodies of the cases API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from ..api.dates import Day
from ..api.schemas import Input, Output, Query

PHONE_PATTERN = r"^\+?[0-9][0-9 -]{4,30}$"


class CaseCreate(Input):
    applicant_name: str = Field(min_length=1, max_length=100)
    applicant_phone: str = Field(min_length=5, max_length=32, pattern=PHONE_PATTERN)


class CorrectionBody(Input):
    #: Every missing material, at once (一次性告知).
    materials: list[str] = Field(min_length=1, max_length=50)


class CompleteBody(Input):
    note: str = Field(default="", max_length=1000)


class RejectBody(Input):
    reason: str = Field(min_length=1, max_length=1000)


class ExtendBody(Input):
    days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=1, max_length=1000)


class ConsultationCreate(Input):
    service: str = Field(min_length=1, max_length=32)
    summary: str = Field(min_length=1, max_length=2000)
    citizen_name: str = Field(default="", max_length=100)
    referred_to: str = Field(default="", max_length=200)
    #: The ticket being served, when the consultation belongs to one.
    ticket: int | None = Field(default=None, ge=1, le=2**31 - 1)


class CasesQuery(Query):
    warning: Literal["yellow", "red"] | None = None
    status: Literal["accepted", "correction", "completed", "rejected", "open"] | None = None
    provisional: bool | None = None
    limit: int = Field(default=200, ge=1, le=1000)


class LookupQuery(Query):
    receipt_no: str = Field(default="", max_length=64)
    check_code: str = Field(default="", max_length=16)


class PeriodQuery(Query):
    start: Day | None = None
    end: Day | None = None


class FiguresQuery(PeriodQuery):
    by: Literal["window", "staff", "department", "service"] = "window"


class DayIn(Input):
    date: date
    name: str = Field(default="", max_length=100)


class CalendarYearBody(Input):
    #: Holidays (法定节假日): "YYYY-MM-DD" or {"date", "name"}.
    holidays: list[DayIn | date] = Field(max_length=400)
    #: Make-up working days (调休上班), Saturdays or Sundays.
    workdays: list[DayIn | date] = Field(default_factory=list, max_length=100)
    note: str = Field(default="", max_length=500)


class CaseOut(Output):
    receipt_no: str
    check_code: str
    service: str
    service_name: str
    department: str
    accepted_at: str
    #: YYYY-MM-DD, or an ISO datetime in hall time for immediate cases (即办件).
    promised_due: str
    legal_due: str
    promised_days: int
    legal_days: int
    status: str
    status_label: str
    warning: Literal["yellow", "red"] | None
    warning_label: str | None = None
    working_days_left: int | None = None
    #: The deadlines count weekdays in a year whose holidays nobody has entered (预计).
    provisional: bool
    clock_stopped: bool
    stopped_days: int
    extension_days: int
    first_responder: str | None
    accepted_by: str | None
    #: 姓名（工号）of the staff member who accepted the case, as the receipt prints it.
    accepted_by_label: str = ""
    window: int | None
    ticket: str | None
    applicant_name: str
    applicant_phone: str
    decided_at: str | None = None
    decision_reason: str = ""
    on_time: bool | None = None
    correction_notices: int = 0
    breaches: int = 0
    receipt_url: str
    lookup_url: str


class NoticeOut(Output):
    notice_no: str
    seq: int
    materials: list[str]
    issued_at: str
    issued_by: str | None
    #: 姓名（工号）of the staff member who issued the notice, as the printed notice names them.
    issued_by_label: str = ""
    window: int | None
    breach: bool
    resumed_at: str | None
    stopped_days: int
    notice_url: str


class CaseEventOut(Output):
    at: str
    action: str
    label: str
    staff: str | None
    window: int | None
    detail: dict[str, Any]


class ChainOut(Output):
    ticket: str | None
    first_responder: dict[str, str] | None
    touched: list[dict[str, str]]
    steps: list[dict[str, Any]]


class CaseDetailOut(CaseOut):
    notices: list[NoticeOut]
    events: list[CaseEventOut]
    chain: ChainOut | None


class PublicCaseOut(Output):
    receipt_no: str
    service_name: str
    department: str
    applicant_name: str
    accepted_at: str
    promised_due: str
    legal_due: str
    provisional: bool
    status: str
    status_label: str
    clock_stopped: bool


class ConsultationOut(Output):
    id: int
    service: str
    summary: str
    citizen_name: str
    referred_to: str
    first_responder: str | None
    window: int | None
    ticket: str | None
    created_at: str


class FiguresOut(Output):
    key: str | int
    label: str
    cases: int
    decided: int
    on_time: int
    early: int
    overdue: int
    open_overdue: int
    on_time_rate: float | None
    early_rate: float | None
    average_working_days: float | None
    breaches: int
    tickets: int
    wait_breaches: int
    wait_compliance_rate: float | None
    served: int
    service_breaches: int
    first_responder_failures: int


class FiguresReport(Output):
    by: str
    start: date
    end: date
    rows: list[FiguresOut]


class UnresolvedOut(Output):
    ticket_id: int
    ticket: str
    business_day: date
    reason: str
    reason_label: str
    service: str


class ResponderOut(Output):
    username: str
    name: str
    tickets: int
    consultations: int
    cases: int
    referrals: int
    unresolved: int
    matters: list[UnresolvedOut]


class ResponderReport(Output):
    start: date
    end: date
    rows: list[ResponderOut]


class CommitmentOut(Output):
    service: str
    service_name: str
    day: date
    tickets: int
    wait_breaches: int
    wait_target_minutes: int
    served: int
    service_breaches: int
    service_target_minutes: int
    breach_tickets: list[str]


class CommitmentReport(Output):
    start: date
    end: date
    rows: list[CommitmentOut]


class CalendarStatusOut(Output):
    official_years: list[int]
    entered_years: list[int]
    missing_years: list[int]
    provisional_cases: int
    message: str | None


class CalendarDayOut(Output):
    date: date
    working: bool
    name: str


class CalendarYearOut(Output):
    year: int
    source: Literal["entered", "official", "none"]
    entered_at: str | None
    note: str
    days: list[CalendarDayOut]
    recomputed: int = 0
