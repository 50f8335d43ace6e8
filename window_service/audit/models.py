"""Anchors of the audit chain; the records themselves are in ``ledger.py``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class AuditAnchor(SQLModel, table=True):
    """The head of a hall's chain at a moment (审计锚点), written at least every 15 minutes
    *(default)* while records are written (``audit/anchors.py``).

    Shown publicly (notice board, JSON endpoint) and appended to the anchor file outside the
    database, so anyone who noted it can tell later whether the history before it was
    rewritten or cut short.
    """

    __tablename__ = "audit_anchor"
    __table_args__ = (UniqueConstraint("hall_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    #: The business day (hall time) of the anchored record.
    business_day: date
    #: The anchored record (the chain's head then): its sequence number and hash.
    seq: int
    hash: str = Field(max_length=64)
    record_at: datetime = Field(sa_type=TZDateTime)
    #: When the anchor was made.
    created_at: datetime = Field(sa_type=TZDateTime)
    #: The public id of the audit key the chain was sealed with then ("" before keying).
    key_id: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
