"""Audit records: who changed what, when, from what to what; each carries the previous hash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_record"
    __table_args__ = (
        UniqueConstraint("hall_id", "seq"),
        Index("ix_audit_entity", "entity", "entity_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    seq: int
    at: datetime = Field(sa_type=TZDateTime)
    #: "user:w1", "device:3" or "system"
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    reason: str = Field(default="", max_length=2000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


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
