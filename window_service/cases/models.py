"""Tables of cases (办件), correction notices (补正告知), consultations (咨询登记), the working-day
calendar the administrator enters (节假日与调休), and what the office has been told already."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow


class CalendarYear(SQLModel, table=True):
    """A year of holidays and make-up working days entered by the administrator.

    Entering a year again voids the previous entry (with a reason) instead of deleting it.
    """

    __tablename__ = "calendar_year"

    __table_args__ = (Index("ix_calendar_year_hall_year", "hall_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    year: int = Field(ge=1900, le=2999)
    note: str = Field(default="", max_length=500)
    entered_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    entered_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    voided_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    void_reason: str = Field(default="", max_length=500)


class CalendarDay(SQLModel, table=True):
    """One day of an entered year that differs from Monday–Friday: a holiday or a make-up day."""

    __tablename__ = "calendar_day"

    __table_args__ = (UniqueConstraint("calendar_year_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    calendar_year_id: int = Field(foreign_key="calendar_year.id", index=True)
    day: date
    #: True: a make-up working day (调休上班); False: a holiday (法定节假日).
    working: bool
    name: str = Field(default="", max_length=100)


class CaseCounter(SQLModel, table=True):
    """The last receipt number handed out per hall × business day (like ticket numbers)."""

    __tablename__ = "case_counter"

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    business_day: date = Field(primary_key=True)
    last_number: int = 0


class Case(SQLModel, table=True):
    """办件: an application accepted (受理) at a window, with its legal and promised deadlines.

    Deadlines are derived from ``accepted_day``, the day counts, the working days the clock was
    stopped (补正) and extensions; they are stored for listing and recomputed whenever one of
    those inputs or the calendar changes. Warnings are never stored: they depend on the clock.
    """

    __tablename__ = "case_file"

    __table_args__ = (
        Index("ix_case_hall_status", "hall_id", "status"),
        Index("ix_case_hall_accepted", "hall_id", "accepted_day"),
        # The office's period figures: cases decided in the period, or due in it.
        Index("ix_case_hall_decided", "hall_id", "decided_day"),
        Index("ix_case_hall_due", "hall_id", "promised_due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    receipt_no: str = Field(max_length=64, unique=True)
    check_code: str = Field(max_length=16)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    #: Who accepted the application.
    accepted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    #: 首问责任人 (the ticket's first responder, or whoever accepted it).
    first_responder_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    applicant_name: str = Field(max_length=100)
    applicant_phone: str = Field(max_length=32)
    accepted_at: datetime = Field(sa_type=TZDateTime)
    accepted_day: date
    legal_days: int = 0
    promised_days: int = 0
    #: Working days added by approved extensions (延期).
    extension_days: int = 0
    #: Working days the clock stood still for corrections that have been resumed.
    stopped_days: int = 0
    promised_due: date
    legal_due: date
    #: Immediate cases (即办件): due by the hall's closing time on the due day.
    promised_due_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    legal_due_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    #: A deadline reaches into a year nobody has entered yet (预计).
    provisional: bool = False
    #: accepted (办理中) · correction (补正中, clock stopped) · completed (办结) · rejected (不予受理)
    status: str = Field(default="accepted", max_length=16)
    #: The day the current correction stopped the clock.
    stopped_since: date | None = None
    decided_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    decided_day: date | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decision_reason: str = Field(default="", max_length=1000)


class CaseEvent(SQLModel, table=True):
    """A step in a case's history: accepted, correction, resumed, extended, completed …"""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    action: str = Field(max_length=24)
    staff_id: int | None = Field(default=None, foreign_key="app_user.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class CorrectionNotice(SQLModel, table=True):
    """补正告知: every missing material, listed at once (一次性告知).

    A second notice on the same case is still recorded, flagged ``breach`` against the window
    and staff member who issued it.
    """

    __tablename__ = "correction_notice"

    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    seq: int
    notice_no: str = Field(max_length=80, unique=True)
    materials: list[str] = Field(default_factory=list, sa_type=JSON)
    issued_at: datetime = Field(sa_type=TZDateTime)
    issued_day: date
    issued_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    breach: bool = False
    resumed_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    resumed_day: date | None = None
    resumed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    #: Working days the clock stood still for this notice (set on resume).
    stopped_days: int = 0


class Consultation(SQLModel, table=True):
    """咨询登记: a consultation at a window, with or without a ticket; its registrar is the
    first responder."""

    __tablename__ = "consultation"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    summary: str = Field(max_length=2000)
    citizen_name: str = Field(default="", max_length=100)
    #: Where the citizen was referred (转办/引导), e.g. another department or window.
    referred_to: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=TZDateTime)
    business_day: date


class CaseWarningNotice(SQLModel, table=True):
    """A warning the office dashboard has been told about: once per case, level and deadline."""

    __tablename__ = "case_warning_notice"

    __table_args__ = (UniqueConstraint("case_id", "level", "promised_due"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    level: str = Field(max_length=8)
    promised_due: date
    at: datetime = Field(sa_type=TZDateTime)


class QueueBreachNotice(SQLModel, table=True):
    """A ticket that broke its service's wait or service-time target, announced once."""

    __tablename__ = "queue_breach_notice"

    __table_args__ = (UniqueConstraint("ticket_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    #: wait · service
    kind: str = Field(max_length=8)
    at: datetime = Field(sa_type=TZDateTime)
