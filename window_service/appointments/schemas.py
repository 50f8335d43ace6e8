"""What the appointment and remote-ticket API takes and returns."""

from __future__ import annotations

import re
from datetime import time

from pydantic import Field, field_validator

from ..api.dates import Day
from ..api.schemas import Input, Output, Query
from ..queue.schemas import TicketOut

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_hhmm(value: str) -> time:
    if not _HHMM.match(value):
        raise ValueError("time must be HH:MM")
    return time.fromisoformat(value)


class SlotsQuery(Query):
    date: Day


class SlotOut(Output):
    start: str
    end: str
    capacity: int
    available: int


class AppointmentCreate(Input):
    service: str = Field(min_length=1, max_length=32)
    date: Day
    start: str = Field(description="HH:MM, hall time")
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=1, max_length=20)

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        parse_hhmm(value)
        return value


class AppointmentChange(Input):
    date: Day
    start: str = Field(description="HH:MM, hall time")

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        parse_hhmm(value)
        return value


class AppointmentOut(Output):
    code: str
    service: str
    service_name: str
    hall: str
    date: str
    start: str
    end: str
    status: str
    status_label: str
    name: str
    phone: str
    manage_token: str | None = None
    manage_url: str | None = None
    ticket: str | None = None


class UpcomingOut(Output):
    """A booking as the window terminal shows it (name and phone masked)."""

    code: str
    service: str
    start: str
    end: str
    status: str
    name: str
    phone: str
    ticket: str | None


class ServiceSettingsIn(Input):
    enabled: bool = True
    slot_minutes: int = Field(default=30, ge=5, le=240)
    capacity: int | None = Field(default=None, ge=0, le=10000)


class ServiceSettingsOut(Output):
    service: str
    enabled: bool
    slot_minutes: int
    capacity: int | None
    bookable_per_slot: int


class PolicyIn(Input):
    opens: str = "09:00"
    closes: str = "17:00"
    walk_in_percent: int = Field(default=50, ge=0, le=100)
    early_minutes: int = Field(default=30, ge=0, le=240)
    late_minutes: int = Field(default=15, ge=0, le=240)
    no_show_limit: int = Field(default=3, ge=1, le=100)
    no_show_days: int = Field(default=30, ge=1, le=366)
    block_days: int = Field(default=30, ge=0, le=366)
    bookings_per_phone_hour: int = Field(default=5, ge=1, le=10000)
    bookings_per_address_hour: int = Field(default=20, ge=1, le=100000)
    days_ahead: int = Field(default=30, ge=0, le=366)

    @field_validator("opens", "closes")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value


class PolicyOut(PolicyIn):
    pass


class RemoteTicketCreate(Input):
    service: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=1, max_length=20)


class RemoteTicketOut(TicketOut):
    """网上取号: the ticket, ``remote`` until checked in at the hall."""

    remote: bool = True


class AppointmentStatsOut(Output):
    """The office figures of one day: bookings, check-ins, no-shows, and the waits of booked
    and walk-in citizens (minutes from queue time to call)."""

    date: str
    booked: int
    cancelled: int
    checked_in: int
    checked_in_on_time: int
    no_shows: int
    remote_tickets: int
    remote_checked_in: int
    average_wait_booked_minutes: float | None
    average_wait_walk_in_minutes: float | None


class PosterCheckIn(Input):
    """The code of the hall's check-in poster, read from its QR."""

    poster: str = Field(min_length=1, max_length=32)
