"""Every table, imported in one place so metadata (and Alembic) sees the whole schema."""

from sqlmodel import SQLModel

from .accountability.models import AccountabilityConfig
from .appointments.models import (
    Appointment,
    AppointmentPolicy,
    AppointmentSlot,
    RemoteTicket,
    ServiceAppointment,
)
from .audit.models import AuditAnchor
from .auth.models import AttemptThrottle, User, UserDepartment
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
from .efficiency.models import EfficiencyWarning
from .feedback.models import Feedback, FeedbackAppeal, Rectification
from .halls.models import Department, Device, Hall, Service, Window, WindowDuty, WindowService
from .inspections.models import (
    Inspection,
    InspectionNotice,
    InspectionPhoto,
    InspectionTemplate,
    VisitPlan,
)
from .ledger import AuditRecord, HallEvent, HallLedger
from .openness.models import FeeCharge, ServiceFee
from .outbox.models import PlatformDelivery, PlatformOutboxHall
from .queue.models import Ticket, TicketCounter, TicketEvent
from .ratings.models import RatingPublication, RatingRow

metadata = SQLModel.metadata

__all__ = [
    "AccountabilityConfig",
    "Appointment",
    "AppointmentPolicy",
    "AppointmentSlot",
    "AttemptThrottle",
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
    "EfficiencyWarning",
    "FeeCharge",
    "Feedback",
    "FeedbackAppeal",
    "Hall",
    "HallEvent",
    "HallLedger",
    "Inspection",
    "InspectionNotice",
    "InspectionPhoto",
    "InspectionTemplate",
    "PlatformDelivery",
    "PlatformOutboxHall",
    "QueueBreachNotice",
    "RatingPublication",
    "RatingRow",
    "Rectification",
    "RemoteTicket",
    "Service",
    "ServiceAppointment",
    "ServiceFee",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "User",
    "UserDepartment",
    "VisitPlan",
    "Window",
    "WindowDuty",
    "WindowService",
    "metadata",
]
