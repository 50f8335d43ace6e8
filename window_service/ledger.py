"""The hall's ledger tables: its counters, its event log (事件日志, the truth that every screen
is a window on) and its audit records (who changed what, when, from what to what; each carries
the previous hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .chain import REKEY_ACTION
from .db import TZDateTime, utcnow


class HallLedger(SQLModel, table=True):
    """Per-hall counters: the last event sequence number and the audit chain's head.

    Its row is locked by every write transaction of the hall just before commit, which gives
    events a gap-free order and the audit chain a single line.
    """

    __tablename__ = "hall_ledger"

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    last_event_seq: int = 0
    audit_seq: int = 0
    audit_hash: str = Field(default="", max_length=64)
    #: Bumped by every commit that writes a queue table other than by issuing tickets (a
    #: call, a cancellation, an expiry …; see queue_changes.py): issuers trust their kept
    #: waiting counts while it stays the same (queue/waiting.py).
    queue_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class HallEvent(SQLModel, table=True):
    """One event of a hall, numbered 1, 2, 3 … without gaps."""

    __tablename__ = "hall_event"

    __table_args__ = (UniqueConstraint("hall_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    seq: int
    type: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_record"
    __table_args__ = (
        UniqueConstraint("hall_id", "seq"),
        Index("ix_audit_entity", "entity", "entity_id"),
        # A hall's re-key record (at most one; ``audit verify`` looks it up on every run):
        # a partial index holds only those, so the chain's writes do not pay for it.
        Index(
            "ix_audit_rekey",
            "hall_id",
            "seq",
            sqlite_where=text(f"action = '{REKEY_ACTION}'"),
            postgresql_where=text(f"action = '{REKEY_ACTION}'"),
        ),
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
