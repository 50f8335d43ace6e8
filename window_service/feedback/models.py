"""Tables of citizen feedback (好差评), appeals (申诉) and rectifications (整改工单)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ColumnElement, Index, and_, or_
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class Feedback(SQLModel, table=True):
    """One rating of one finished service (一次一评), bound to who and what was rated.

    Never deleted: a malicious rating is voided after an appeal, with the reason kept.
    """

    __tablename__ = "feedback"

    __table_args__ = (Index("ix_feedback_hall_created", "hall_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    #: The ticket the citizen rated (QR or pad). unique: a ticket is rated once, even when two
    #: requests race. None for the office's entries of other channels (see ``subject_ticket_id``).
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", unique=True)
    window_id: int | None = Field(default=None, foreign_key="window.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    #: None when an entry of another channel names a window, staff member or department only.
    service_id: int | None = Field(default=None, foreign_key="service.id")
    department_id: int = Field(foreign_key="department.id", index=True)
    rating: int
    points: float
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    comment: str = Field(default="", max_length=2000)
    #: Optional phone number the citizen leaves for the callback (回访).
    contact: str = Field(default="", max_length=32)
    #: "phone" (the ticket's QR) or "pad" (the window's evaluator pad), or one the office
    #: enters (GB/T 39734-2020): "hotline_12345", "suggestion_box", "supervisor",
    #: "onsite_review" (``feedback.channels``).
    channel: str = Field(default="phone", max_length=16)
    #: Entries of the office: who entered it, the ticket or case it concerns, and the other
    #: channel's own reference (the 12345 work-order number, the box's slip number …).
    entered_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    subject_ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    reference: str = Field(default="", max_length=64)
    source_ip: str = Field(default="", max_length=64)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    #: The citizen's browser on the phone channel (a random id the rating page keeps), so
    #: bursts are judged per device and channel, never per network address (shared Wi-Fi).
    rater_device: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_type=TZDateTime)
    #: Suspicious (刷好评嫌疑: a burst from one device): held out of every figure until the
    #: office reviews it (``review``: "" pending, "confirmed" counts, "voided").
    flagged: bool = False
    flag_reason: str = Field(default="", max_length=200)
    review: str = Field(default="", max_length=16)
    review_reason: str = Field(default="", max_length=1000)
    reviewed_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    reviewed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    voided: bool = False
    void_reason: str = Field(default="", max_length=1000)
    voided_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    voided_by_id: int | None = Field(default=None, foreign_key="app_user.id")


def counted() -> ColumnElement[bool]:
    """Ratings that count in figures: not voided, and not held (flagged and not yet reviewed)."""
    return and_(
        Feedback.voided.is_(False),  # type: ignore[attr-defined]
        or_(
            Feedback.flagged.is_(False),  # type: ignore[attr-defined]
            Feedback.review == "confirmed",  # type: ignore[arg-type]
        ),
    )


class FeedbackAppeal(SQLModel, table=True):
    """申诉: a department head asks the office to void a malicious rating."""

    __tablename__ = "feedback_appeal"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    feedback_id: int = Field(foreign_key="feedback.id", index=True)
    reason: str = Field(max_length=1000)
    filed_by_id: int = Field(foreign_key="app_user.id")
    filed_at: datetime = Field(sa_type=TZDateTime)
    #: pending · accepted · rejected
    status: str = Field(default="pending", max_length=16)
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    decision_reason: str = Field(default="", max_length=1000)


class Rectification(SQLModel, table=True):
    """整改工单 for a department head: from a bad rating (差评) or an inspection notice.

    Stages: verify (核实) → fix (整改) → callback (回访, bad ratings only) → done.
    ``status`` is open, closed, or voided (its rating was voided on appeal).
    """

    __tablename__ = "rectification"

    __table_args__ = (Index("ix_rectification_hall_status", "hall_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    #: "feedback" or "inspection"
    kind: str = Field(default="feedback", max_length=16)
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id", unique=True)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="app_user.id")
    department_id: int = Field(foreign_key="department.id", index=True)
    rating: int | None = None
    opened_at: datetime = Field(sa_type=TZDateTime)
    due: date
    status: str = Field(default="open", max_length=16)
    stage: str = Field(default="verify", max_length=16)
    #: 核实: what the head found, and whether the complaint holds.
    finding: str = Field(default="", max_length=2000)
    substantiated: bool | None = None
    #: GB/T 39734-2020 §9 classification at 核实: "immediate" (立行立改), "deadline" (限期整改),
    #: "explain" (解释说明) or "mistaken" (误评/恶意, voided only by the office on appeal).
    category: str = Field(default="", max_length=16)
    verified_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    #: 整改措施
    measures: str = Field(default="", max_length=2000)
    fixed_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    #: 回访: whether the citizen was reached and what they think of the fix.
    callback_reached: bool | None = None
    citizen_view: str | None = Field(default=None, max_length=32)
    callback_note: str = Field(default="", max_length=2000)
    called_back_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
