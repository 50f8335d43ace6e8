"""Tables of the queue: tickets, their per-day counters and their history (叫号事件 …)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow
from ..queue_changes import queue_table


class TicketCounter(SQLModel, table=True):
    """The last number handed out per hall × prefix × business day.

    Incremented in the same transaction as the ticket insert, so numbers never repeat and
    never skip: a failed insert rolls the increment back with it.
    """

    __tablename__ = "ticket_counter"

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    prefix: str = Field(max_length=2, primary_key=True)
    business_day: date = Field(primary_key=True)
    last_number: int = 0
    #: Queue time of the last number handed out. The next ticket's queue time is never
    #: earlier, so queue order is number order even when a request waited for the lock.
    last_queued_at: datetime | None = Field(default=None, sa_type=TZDateTime)


def _queue_time(context: Any) -> Any:
    return context.get_current_parameters().get("queued_at")


class Ticket(SQLModel, table=True):
    """号票. ``queued_at`` is when its number was assigned; transfers keep it."""

    __tablename__ = "ticket"

    __table_args__ = (
        UniqueConstraint("hall_id", "prefix", "business_day", "seq_no"),
        UniqueConstraint("hall_id", "business_day", "idempotency_key"),
        # The waiting line of a service on a day, in call order: counts (ahead, waiting)
        # and call-next read it without touching other days' rows.
        Index(
            "ix_ticket_queue",
            "hall_id",
            "service_id",
            "status",
            "business_day",
            "green",
            "queued_at",
        ),
        # The latest finished services, for the wait estimate.
        Index("ix_ticket_finished", "service_id", "status", "finished_at"),
        Index("ix_ticket_window_status", "window_id", "status"),
        # A hall's tickets of a period (the office figures).
        Index("ix_ticket_hall_day", "hall_id", "business_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    service_id: int = Field(foreign_key="service.id", index=True)
    #: The service the ticket was taken for (its prefix's service).
    original_service_id: int = Field(foreign_key="service.id")
    prefix: str = Field(max_length=2)
    seq_no: int
    number: str = Field(max_length=8)
    business_day: date
    #: waiting · called · serving · held · done · no_show · cancelled · expired · remote
    status: str = Field(default="waiting", max_length=16)
    #: elderly · disabled · pregnant · military (绿色通道), or None
    priority: str | None = Field(default=None, max_length=16)
    green: bool = False
    queued_at: datetime = Field(sa_type=TZDateTime)
    called_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    #: The first call (首次叫号): where the wait ends. ``called_at`` is the latest call (a
    #: ticket sent back to the queue, put on hold or transferred is called again).
    first_called_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    started_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    #: The staff member handling (or who last handled) the ticket.
    staff_id: int | None = Field(default=None, foreign_key="app_user.id")
    #: 首问责任人: the staff member whose window first called it.
    first_responder_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    #: completed · accepted · correction · rejected · consulted (办结/受理/补正/不予受理/咨询)
    outcome: str | None = Field(default=None, max_length=16)
    #: Recalls (重呼) of the current call.
    recalls: int = 0
    call_count: int = 0
    track_token: str = Field(max_length=64, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=128)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    issued_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    #: When the citizen began to wait in the hall: the queue time, or a remote ticket's
    #: check-in (网上取号签到); None while a remote ticket is not checked in. Waits (statistics,
    #: wait-target flags, fair priority) count from here; queue order still follows queued_at.
    #: A row written without it (not by issuing) starts its wait at its queue time.
    waiting_since: datetime | None = Field(
        default=None,
        sa_type=TZDateTime,
        sa_column_kwargs={"default": _queue_time},
    )
    #: 转移到窗口: a ticket transferred to a named window waits for that window only.
    target_window_id: int | None = Field(default=None, foreign_key="window.id")
    #: How often the ticket was held (挂起).
    holds: int = 0

    #: The wait estimated when it was issued, in seconds (its ticket prints it in whole
    #: minutes); None when no staffed window served it. Compared with the wait it had
    #: (stats/estimates.py).
    estimated_wait_seconds: float | None = None


class TicketEvent(SQLModel, table=True):
    """A step in a ticket's life: issued, called and recalled (叫号事件), started, finished …

    Together they are the chain of everyone who touched the ticket (首问负责制).
    """

    __tablename__ = "ticket_event"

    __table_args__ = (
        # A window's latest calls, newest first: the fair-priority streak (queue/priority.py).
        Index("ix_ticket_event_window", "window_id", "id"),
        # A ticket's events; its first call (叫号) read from the index alone, for each of a
        # period's tickets in the office statistics (cases/commitments.py).
        Index("ix_ticket_event_first_call", "ticket_id", "action", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    action: str = Field(max_length=16)
    staff_id: int | None = Field(default=None, foreign_key="app_user.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    service_id: int | None = Field(default=None, foreign_key="service.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """A ticket just issued, as written: what its answer and its audit record need."""

    id: int
    hall_id: int
    service_id: int
    number: str
    status: str
    priority: str | None
    green: bool
    queued_at: datetime
    track_token: str
    business_day: date
    outcome: None = None
    called_at: None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> IssuedTicket:
        return cls(
            row["id"],
            row["hall_id"],
            row["service_id"],
            row["number"],
            row["status"],
            row["priority"],
            row["green"],
            row["queued_at"],
            row["track_token"],
            row["business_day"],
        )


@dataclass(frozen=True, slots=True)
class FoundTicket:
    """A ticket found again by its idempotency key, not read whole (its answer reads it)."""

    id: int
    service_id: int


# The waiting counts are made of these rows: a transaction that writes them bumps the hall's
# queue_version (queue_changes.py).
queue_table(Ticket.__table__)  # type: ignore[attr-defined]
queue_table(TicketCounter.__table__)  # type: ignore[attr-defined]
