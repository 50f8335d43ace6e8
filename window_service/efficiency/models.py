"""The tables of efficiency warnings (效能告诫, 诫勉) and of the nights they were proposed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime


class EfficiencyWarning(SQLModel, table=True):
    """A proposed, issued or declined 效能告诫 of a staff member or a department for a quarter.

    Proposed by the figures (``grounds``: the counts that reached a threshold), decided by the
    office with a reason: ``issued`` (it gets a serial number ``YYYY-NNN`` for the printed
    告诫书) or ``declined``. One row per hall, quarter and subject; never deleted.
    """

    __tablename__ = "efficiency_warning"
    __table_args__ = (
        UniqueConstraint("hall_id", "period", "subject", "subject_id", name="uq_warning_subject"),
        UniqueConstraint("hall_id", "serial", name="uq_warning_serial"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    #: The quarter, ``YYYY-Qn``.
    period: str = Field(max_length=8)
    #: ``staff`` or ``department``.
    subject: str = Field(max_length=16)
    #: The staff member's user id or the department's id.
    subject_id: int
    #: The department the warning concerns (a staff member's own department, if any).
    department_id: int | None = Field(default=None, foreign_key="department.id")
    #: What reached a threshold: ``{"bad_ratings": 3, "failed_inspections": 0, …}``.
    grounds: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="proposed", max_length=16)
    proposed_at: datetime = Field(sa_type=TZDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=TZDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reason: str = Field(default="", max_length=500)
    serial: str | None = Field(default=None, max_length=16)


class WarningNight(SQLModel, table=True):
    """A hall's night on which one process took the nightly proposal of warnings (``watch.py``).

    Its primary key is the claim: the process whose row commits reads the quarter's figures,
    the others skip, so the night's work is done once for the deployment, not once per
    process. A run that fails removes its row, and a later pass of the night tries again.
    """

    __tablename__ = "efficiency_warning_night"

    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    #: The date the night began in the hall's time.
    night: date = Field(primary_key=True)
    claimed_at: datetime = Field(sa_type=TZDateTime)
