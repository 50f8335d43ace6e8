"""Tables of the hall's organisation (服务大厅、部门、事项、窗口、设备)."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from ..db import TZDateTime, utcnow
from ..queue_changes import queue_table


class Hall(SQLModel, table=True):
    """服务大厅. ``issuing_*`` limit when the kiosk hands out tickets; None means any hour/day."""

    __tablename__ = "hall"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    #: IANA zone; empty means the configured WINDOW_SERVICE_TIMEZONE.
    timezone: str = Field(default="", max_length=64)
    issuing_start: time | None = None
    issuing_end: time | None = None
    #: ISO weekdays (1 = Monday) on which tickets are issued, e.g. "12345"; empty = every day.
    issuing_weekdays: str = Field(default="", max_length=7)
    #: Closing time: immediate cases (即办件) are due by then.
    closing_time: time = Field(default=time(17, 30))
    recall_limit: int = Field(default=5, ge=0)
    #: The citizen's phone is alerted when this many (or fewer) are ahead (到号提醒); 0: only
    #: when called.
    alert_ahead: int = Field(default=3, ge=0)
    notice: str = Field(default="", max_length=2000)
    #: The region (行政区划) the hall belongs to, e.g. a county's code; empty when unset.
    region: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


class Department(SQLModel, table=True):
    """部门 (e.g. 县公安局)."""

    __tablename__ = "department"

    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)


class Service(SQLModel, table=True):
    """事项: what a citizen comes for, with its ticket prefix and time limits."""

    __tablename__ = "service"

    __table_args__ = (UniqueConstraint("hall_id", "code"), UniqueConstraint("hall_id", "prefix"))
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=2)
    #: 法定时限 and 承诺时限, in working days; promised never exceeds legal.
    legal_days: int = Field(default=0, ge=0)
    promised_days: int = Field(default=0, ge=0)
    #: Queue commitment: a ticket should not wait longer than this.
    wait_target_minutes: int = Field(default=20, ge=1)
    #: Service-time commitment: serving should not take longer than this.
    service_target_minutes: int = Field(default=15, ge=1)
    #: Used for the wait estimate before any ticket of the service has been served.
    default_service_minutes: int = Field(default=8, ge=1)
    guide: str = Field(default="", max_length=4000)
    materials: str = Field(default="", max_length=4000)
    fees: str = Field(default="", max_length=1000)
    #: 设定依据: the law or regulation the service rests on (service guide).
    legal_basis: str = Field(default="", max_length=2000)
    active: bool = True
    sort_order: int = 0


class Window(SQLModel, table=True):
    """窗口. ``status`` is open / paused / closed."""

    __tablename__ = "window"

    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    number: int = Field(ge=1)
    name: str = Field(default="", max_length=100)
    #: 区域: where the window stands (e.g. 一楼A区); a hall display can show one zone only.
    zone: str = Field(default="", max_length=100)
    status: str = Field(default="open", max_length=16)


class WindowDuty(SQLModel, table=True):
    """Who is on duty (在岗) at a window: set when they call; one window per staff member."""

    __tablename__ = "window_duty"
    window_id: int = Field(foreign_key="window.id", primary_key=True)
    staff_id: int = Field(foreign_key="app_user.id", unique=True)
    since: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


class WindowService(SQLModel, table=True):
    """The services a window serves, in its order of preference."""

    __tablename__ = "window_service"

    window_id: int = Field(foreign_key="window.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)
    position: int = 0


class Device(SQLModel, table=True):
    """A kiosk (取号机), display (显示屏) or evaluator pad (评价器), with its own key.

    Only the SHA-256 of the key is stored: keys are long random strings, so a fast hash is
    enough, and the kiosk path stays quick.
    """

    __tablename__ = "device"

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=100)
    key_hash: str = Field(max_length=64, unique=True)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZDateTime)


# A service's prefix, lanes and state shape the waiting counts (queue_changes.py).
queue_table(Service.__table__)  # type: ignore[attr-defined]
