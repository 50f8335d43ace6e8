"""Every table, imported in one place so metadata (and Alembic) sees the whole schema.

Once they are all mapped, ``audit verify`` is told so, with the domains' checks of their
evidence files (``audit/registry.py``): audit itself imports no domain.
"""

from sqlmodel import SQLModel

from .accountability.models import AccountabilityConfig
from .appointments.models import (
    Appointment,
    AppointmentPolicy,
    AppointmentSlot,
    RemoteTicket,
    ServiceAppointment,
)
from .audit import registry as audit_registry
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
from .efficiency.models import EfficiencyWarning, WarningNight
from .evaluation.models import (
    EvaluationMember,
    EvaluationPanel,
    EvaluationParticipation,
    EvaluationRound,
    EvaluationScore,
)
from .feedback.models import Feedback, FeedbackAppeal, Rectification
from .halls.models import Department, Device, Hall, Service, Window, WindowDuty, WindowService
from .halls.regions import Region
from .inspections.evidence import verify_photos
from .inspections.models import (
    Inspection,
    InspectionNotice,
    InspectionPhoto,
    InspectionTemplate,
    VisitPlan,
)
from .ledger import AuditRecord, HallEvent, HallLedger
from .notify.models import AlertContact
from .openness.models import FeeCharge, ServiceFee
from .outbox.models import PlatformDelivery, PlatformOutboxHall
from .queue.models import Ticket, TicketCounter, TicketEvent
from .ratings.models import RatingPublication, RatingRow

metadata = SQLModel.metadata

__all__ = [
    "AccountabilityConfig",
    "AlertContact",
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
    "EvaluationMember",
    "EvaluationPanel",
    "EvaluationParticipation",
    "EvaluationRound",
    "EvaluationScore",
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
    "Region",
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
    "WarningNight",
    "Window",
    "WindowDuty",
    "WindowService",
    "metadata",
]

audit_registry.register(evidence=[verify_photos])
