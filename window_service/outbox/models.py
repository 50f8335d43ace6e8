"""Tables of the outbox to the outside 好差评 platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class PlatformDelivery(SQLModel, table=True):
    """One message for the outside platform (a rating, or a step of its rectification).

    Written in the same transaction as what it reports, numbered gap-free per hall (``seq``);
    sent in that order, at least once, until the platform answers 2xx (``delivered_at``).
    """

    __tablename__ = "platform_delivery"

    __table_args__ = (
        UniqueConstraint("hall_id", "seq"),
        Index("ix_platform_delivery_pending", "hall_id", "delivered_at", "seq"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    seq: int
    #: rating · rectification
    kind: str = Field(max_length=24)
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=TZDateTime)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    last_error: str = Field(default="", max_length=500)


class PlatformOutboxHall(SQLModel, table=True):
    """A hall's outbox: the last number handed out, and which process delivers it now.

    The row is locked by every transaction that adds a message (so numbers follow commit
    order); the lease lets exactly one process deliver the hall's messages at a time.
    """

    __tablename__ = "platform_outbox_hall"

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    last_seq: int = 0
    lease_owner: str = Field(default="", max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=TZDateTime)
