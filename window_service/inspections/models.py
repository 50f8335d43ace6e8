"""Tables of undercover visits (暗访): scoring sheets, visits, photos, notices, visit plans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class InspectionTemplate(SQLModel, table=True):
    """One version of a scoring sheet (评分表). Editing adds a version; visits keep theirs.

    ``items``: ``[{"code","name","max_points","description"}]``.
    """

    __tablename__ = "inspection_template"

    __table_args__ = (UniqueConstraint("hall_id", "code", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=32)
    version: int = 1
    name: str = Field(max_length=200)
    items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(sa_type=TZDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Inspection(SQLModel, table=True):
    """暗访记录: a visit to a window (and the staff member seen) scored on a sheet version."""

    __tablename__ = "inspection"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    template_id: int = Field(foreign_key="inspection_template.id")
    window_id: int = Field(foreign_key="window.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    inspector_id: int = Field(foreign_key="app_user.id")
    visited_at: datetime = Field(sa_type=TZDateTime)
    recorded_at: datetime = Field(sa_type=TZDateTime)
    scores: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    total: float
    max_total: float
    notes: str = Field(default="", max_length=4000)
    voided: bool = False
    void_reason: str = Field(default="", max_length=1000)


class InspectionPhoto(SQLModel, table=True):
    """Evidence photo of a visit, stored on disk under var/uploads (only the office sees it)."""

    __tablename__ = "inspection_photo"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    content_type: str = Field(max_length=32)
    size: int
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=255)
    uploaded_at: datetime = Field(sa_type=TZDateTime)
    uploaded_by_id: int = Field(foreign_key="app_user.id")


class InspectionNotice(SQLModel, table=True):
    """督查通知书: issued to the department head when a visit scores below the threshold."""

    __tablename__ = "inspection_notice"

    __table_args__ = (UniqueConstraint("hall_id", "year", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    inspection_id: int = Field(foreign_key="inspection.id", unique=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    year: int
    seq: int
    issued_at: datetime = Field(sa_type=TZDateTime)
    due: date
    text: str = Field(default="", max_length=4000)


class VisitPlan(SQLModel, table=True):
    """A weekly random visit plan (暗访计划), reproducible from its seed and recorded weights."""

    __tablename__ = "visit_plan"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    week_start: date
    seed: int
    visits: int
    #: window id → weight, and the reasons behind each weight.
    weights: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    days: list[str] = Field(default_factory=list, sa_type=JSON)
    plan: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(sa_type=TZDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
