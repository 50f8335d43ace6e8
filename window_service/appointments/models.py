"""Tables of appointments (预约) and remote tickets (网上取号)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow


class AppointmentPolicy(SQLModel, table=True):
    """A hall's appointment settings (预约规则); a hall without a row uses the defaults."""

    __tablename__ = "appointment_policy"

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    #: Opening hours for appointments (the first slot starts at ``opens``).
    opens: time = Field(default=time(9, 0))
    closes: time = Field(default=time(17, 0))
    #: Share of each slot's capacity kept for walk-in citizens (现场取号), in per cent.
    walk_in_percent: int = Field(default=50, ge=0, le=100)
    #: On time (准时签到): from this many minutes before the slot's start …
    early_minutes: int = Field(default=30, ge=0)
    #: … to this many minutes after it.
    late_minutes: int = Field(default=15, ge=0)
    #: 爽约: this many no-shows within ``no_show_days`` block booking for ``block_days``.
    no_show_limit: int = Field(default=3, ge=1)
    no_show_days: int = Field(default=30, ge=1)
    block_days: int = Field(default=30, ge=0)
    #: Bookings per phone, and per address, within an hour (黄牛 throttling).
    bookings_per_phone_hour: int = Field(default=5, ge=1)
    bookings_per_address_hour: int = Field(default=20, ge=1)
    #: How many days ahead slots can be booked (today included).
    days_ahead: int = Field(default=30, ge=0, le=366)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


class ServiceAppointment(SQLModel, table=True):
    """A service's slots: their length and (optionally) their capacity, set by the admin."""

    __tablename__ = "service_appointment"

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    enabled: bool = True
    slot_minutes: int = Field(default=30, ge=5, le=240)
    #: Citizens a slot can take in all (walk-ins included); None: from the windows serving it.
    capacity: int | None = Field(default=None, ge=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


class AppointmentSlot(SQLModel, table=True):
    """The seats taken of one slot (预约时段): the row every booking of the slot locks."""

    __tablename__ = "appointment_slot"

    __table_args__ = (UniqueConstraint("service_id", "day", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    day: date
    start: time
    booked: int = 0


class Appointment(SQLModel, table=True):
    """预约: a citizen's booking of a slot.

    The phone is kept only as a keyed digest (for one booking per phone and the no-show rule)
    and masked (138****5678) for staff; the citizen's own pages show what they typed once.
    ``status``: booked · cancelled · checked_in · no_show.
    """

    __tablename__ = "appointment"

    __table_args__ = (
        UniqueConstraint("hall_id", "code"),
        Index("ix_appointment_phone", "phone_digest", "status"),
        Index("ix_appointment_due", "status", "ends_at"),
        Index("ix_appointment_slot", "service_id", "day", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    service_id: int = Field(foreign_key="service.id")
    slot_id: int = Field(foreign_key="appointment_slot.id")
    #: 预约码: typed or scanned at the kiosk.
    code: str = Field(max_length=16)
    day: date
    starts_at: datetime = Field(sa_type=TZDateTime)
    ends_at: datetime = Field(sa_type=TZDateTime)
    name: str = Field(max_length=50)
    phone_masked: str = Field(max_length=16)
    phone_digest: str = Field(max_length=64)
    #: ``service:day:phone digest`` while booked or checked in; cleared when cancelled, so
    #: that the unique index holds one booking per phone, service and day under any race.
    active_key: str | None = Field(default=None, max_length=120, unique=True)
    status: str = Field(default="booked", max_length=16)
    manage_token: str = Field(max_length=64, unique=True)
    client_address: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    checked_in_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    #: Whether the check-in was on time (then its ticket is green, 视同绿色通道).
    on_time: bool | None = None
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class RemoteTicket(SQLModel, table=True):
    """网上取号: a ticket taken on the phone, not called until checked in at the hall."""

    __tablename__ = "remote_ticket"

    __table_args__ = (UniqueConstraint("hall_id", "business_day", "phone_digest", "serial"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    business_day: date
    phone_masked: str = Field(max_length=16)
    phone_digest: str = Field(max_length=64)
    #: The phone's how-manieth remote ticket of the day (0 first): with the unique
    #: constraint, two racing requests of one phone cannot both pass the "one open" check.
    serial: int = 0
    client_address: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    checked_in_at: datetime | None = Field(default=None, sa_type=TZDateTime)
