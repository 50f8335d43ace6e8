"""The table of a hall's accountability settings, one row per version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow


class AccountabilityConfig(SQLModel, table=True):
    """One version of a hall's accountability settings (weights, thresholds, deadlines …).

    Never updated: a change by the office adds a new version; the newest one applies.
    """

    __tablename__ = "accountability_config"

    __table_args__ = (UniqueConstraint("hall_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    version: int
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
