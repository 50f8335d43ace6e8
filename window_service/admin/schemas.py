"""Request and response bodies of the hall administrator's configuration API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from ..api.schemas import Input, Output, Query

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
HourMinute = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Days = Annotated[int, Field(ge=0, le=3650)]
Minutes = Annotated[int, Field(ge=1, le=1440)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


def _distinct(values: list[str] | None, what: str) -> list[str] | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")
    return values


# -- settings ---------------------------------------------------------------------------
class SettingsOut(Output):
    code: str
    name: str
    notice: str
    issuing_start: str | None
    issuing_end: str | None
    issuing_weekdays: str
    closing_time: str
    recall_limit: int
    alert_ahead: int


class SettingsPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    notice: str | None = Field(default=None, max_length=2000)
    issuing_start: HourMinute | None = None
    issuing_end: HourMinute | None = None
    issuing_weekdays: str | None = Field(default=None, pattern=r"^[1-7]{0,7}$")
    closing_time: HourMinute | None = None
    recall_limit: int | None = Field(default=None, ge=0, le=20)
    alert_ahead: int | None = Field(default=None, ge=0, le=50)

    @field_validator("issuing_weekdays")
    @classmethod
    def _weekdays(cls, value: str | None) -> str | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("weekdays must not repeat")
        return "".join(sorted(value)) if value is not None else None


# -- departments ------------------------------------------------------------------------
class DepartmentOut(Output):
    id: int
    code: str
    name: str


class DepartmentCreate(Input):
    code: Code
    name: str = Field(min_length=1, max_length=200)


class DepartmentPatch(Input):
    code: Code | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)


# -- services ---------------------------------------------------------------------------
class AdminServiceOut(Output):
    id: int
    code: str
    name: str
    prefix: str
    department: str
    department_name: str
    legal_days: int
    promised_days: int
    wait_target_minutes: int
    service_target_minutes: int
    guide: str
    materials: str
    fees: str
    legal_basis: str
    active: bool


class ServiceCreate(Input):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    department: Code
    legal_days: Days = 0
    promised_days: Days = 0
    wait_target_minutes: Minutes = 20
    service_target_minutes: Minutes = 15
    guide: str = Field(default="", max_length=4000)
    materials: str = Field(default="", max_length=4000)
    fees: str = Field(default="", max_length=1000)
    legal_basis: str = Field(default="", max_length=2000)
    active: bool = True


class ServicePatch(Input):
    code: Code | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    prefix: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}$")
    department: Code | None = None
    legal_days: Days | None = None
    promised_days: Days | None = None
    wait_target_minutes: Minutes | None = None
    service_target_minutes: Minutes | None = None
    guide: str | None = Field(default=None, max_length=4000)
    materials: str | None = Field(default=None, max_length=4000)
    fees: str | None = Field(default=None, max_length=1000)
    legal_basis: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


# -- windows ----------------------------------------------------------------------------
class AdminWindowOut(Output):
    id: int
    number: int
    name: str
    zone: str
    status: str
    services: list[str]
    staff: list[str]


class WindowCreate(Input):
    number: int = Field(ge=1, le=9999)
    name: str = Field(default="", max_length=100)
    zone: str = Field(default="", max_length=100)
    services: list[Code] = Field(default_factory=list, max_length=100)

    @field_validator("services")
    @classmethod
    def _distinct_services(cls, value: list[str] | None) -> list[str] | None:
        return _distinct(value, "services")


class WindowPatch(Input):
    number: int | None = Field(default=None, ge=1, le=9999)
    name: str | None = Field(default=None, max_length=100)
    zone: str | None = Field(default=None, max_length=100)
    services: list[Code] | None = Field(default=None, max_length=100)

    @field_validator("services")
    @classmethod
    def _distinct_services(cls, value: list[str] | None) -> list[str] | None:
        return _distinct(value, "services")


# -- staff ------------------------------------------------------------------------------
class StaffOut(Output):
    id: int
    username: str
    display_name: str
    staff_no: str
    role: str
    window: int | None
    departments: list[str]
    active: bool


class StaffCreate(Input):
    username: Username
    display_name: str = Field(default="", max_length=100)
    staff_no: str = Field(default="", max_length=32)
    role: str = Field(max_length=16)
    window: int | None = Field(default=None, ge=1, le=9999)
    departments: list[Code] = Field(default_factory=list, max_length=100)
    password: str = Field(min_length=1, max_length=256)

    @field_validator("departments")
    @classmethod
    def _distinct_departments(cls, value: list[str] | None) -> list[str] | None:
        return _distinct(value, "departments")


class StaffPatch(Input):
    display_name: str | None = Field(default=None, max_length=100)
    staff_no: str | None = Field(default=None, max_length=32)
    role: str | None = Field(default=None, max_length=16)
    window: int | None = Field(default=None, ge=1, le=9999)
    departments: list[Code] | None = Field(default=None, max_length=100)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)
    reason: str = Field(default="", max_length=500)

    @field_validator("departments")
    @classmethod
    def _distinct_departments(cls, value: list[str] | None) -> list[str] | None:
        return _distinct(value, "departments")


# -- devices ----------------------------------------------------------------------------
class DeviceOut(Output):
    id: int
    kind: str
    name: str
    window: int | None
    active: bool
    created_at: datetime


class DeviceKeyOut(DeviceOut):
    #: The device key, shown only in this response; only its hash is stored.
    key: str


class DeviceCreate(Input):
    kind: str = Field(max_length=16)
    name: str = Field(min_length=1, max_length=100)
    window: int | None = Field(default=None, ge=1, le=9999)


class DeviceAction(Input):
    reason: Reason


# -- set-up workbook (大厅配置导入) -------------------------------------------------------
class SetupImportQuery(Query):
    #: Check only: report what would change, write nothing.
    dry_run: bool = False


class SetupCounts(Output):
    department: int
    service: int
    window: int
    user: int


class SetupImportOut(Output):
    dry_run: bool
    created: SetupCounts
    updated: SetupCounts
    switched_off: SetupCounts
    changes: int
    #: username → generated password of each new account without one (shown only here).
    passwords: dict[str, str]
