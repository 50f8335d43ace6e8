"""Every table, imported in one place so metadata (and Alembic) sees the whole schema."""

from sqlmodel import SQLModel

from .audit.models import AuditAnchor, AuditRecord
from .auth.models import User, UserDepartment
from .cases.models import (
    CalendarDay,
    CalendarYear,
    Case,
    CaseCounter,
    CaseEvent,
    CaseWarningNotice,
    Consultation,
    CorrectionNotice,
    QueueBreachNotice,
)
from .halls.models import Department, Device, Hall, Service, Window, WindowDuty, WindowService
from .queue.models import Ticket, TicketCounter, TicketEvent
from .realtime.models import HallEvent, HallLedger

metadata = SQLModel.metadata

__all__ = [
    "AuditAnchor",
    "AuditRecord",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CaseWarningNotice",
    "Consultation",
    "CorrectionNotice",
    "Department",
    "Device",
    "Hall",
    "HallEvent",
    "HallLedger",
    "QueueBreachNotice",
    "Service",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "User",
    "UserDepartment",
    "Window",
    "WindowDuty",
    "WindowService",
    "metadata",
]
