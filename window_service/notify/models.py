"""The phone an alert goes to, kept only while a gateway is configured and the ticket's day lasts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow


class AlertContact(SQLModel, table=True):
    """提醒号码: the number a remote ticket or an appointment gave, for its two alerts.

    Written only when a gateway is configured. ``phone`` is erased (set to None) once both
    alerts went out, the ticket is over, or its business day has ended; never audited, never
    in an event. ``ahead_sent_at`` / ``called_sent_at`` are the claims that make each alert go
    out at most once, whichever process sees the change first.
    """

    __tablename__ = "alert_contact"

    __table_args__ = (Index("ix_alert_contact_open", "hall_id", "business_day", "erased_at"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    #: The ticket (remote tickets at once; an appointment's once checked in).
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", unique=True)
    #: The appointment (预约) the number was given for, if any.
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", unique=True)
    #: The day the number is kept to (the ticket's or the appointment's business day).
    business_day: date
    phone: str | None = Field(default=None, max_length=20)
    ahead_sent_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    called_sent_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=TZDateTime)
