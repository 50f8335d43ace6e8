"""Staff accounts (工作人员) and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow
from ..halls.regions import Region as Region  # the table app_user.region_id refers to


class User(SQLModel, table=True):
    """A person who signs in: admin, inspector (效能办), head (部门负责人) or staff (窗口人员)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    #: The hall the person works for; None only for a region's office (``region_id``).
    hall_id: int | None = Field(default=None, foreign_key="hall.id", index=True)
    #: 区域效能办: the region (and its subtree) a ``region_inspector`` oversees.
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(default="", max_length=100)
    #: 工号
    staff_no: str = Field(default="", max_length=32)
    role: str = Field(max_length=16)
    #: The window a staff member works at (only staff); one staff member, one window.
    window_id: int | None = Field(default=None, foreign_key="window.id")
    password_hash: str = Field(max_length=255)
    photo: str = Field(default="", max_length=255)
    active: bool = True
    #: Bumped to invalidate every bearer token issued before (password change, deactivation).
    token_version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


class UserDepartment(SQLModel, table=True):
    """The departments a department head (部门负责人) answers for."""

    __tablename__ = "user_department"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)


class AttemptThrottle(SQLModel, table=True):
    """Failed attempts at something guessable (a sign-in, a case lookup) per key.

    Kept in the database so that every ``serve`` process counts the same attempts: a guesser
    alternating between workers is locked out after as many tries as on one. Rows are only
    removed by housekeeping once both their window and their lockout are long over.
    """

    __tablename__ = "attempt_throttle"

    #: What is throttled: ``login`` (account and address), ``case_lookup`` (receipt number).
    scope: str = Field(max_length=32, primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    #: When the current counting window began (the first failure in it).
    window_start: datetime = Field(sa_type=TZDateTime)
    failures: int = 0
    #: Attempts are refused until then (None: not locked).
    locked_until: datetime | None = Field(default=None, sa_type=TZDateTime)
    updated_at: datetime = Field(sa_type=TZDateTime, index=True)
