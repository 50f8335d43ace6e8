"""What the inspection API takes and returns."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from ..api.dates import Day, Moment
from ..api.schemas import Input, Output, Query

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class TemplateItemIn(Input):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    max_points: float = Field(gt=0, le=100)
    description: str = Field(default="", max_length=1000)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("item code: lower-case letters, digits and _")
        return value


class TemplateIn(Input):
    name: str = Field(min_length=1, max_length=200)
    items: list[TemplateItemIn] = Field(min_length=1, max_length=30)


class TemplateItemOut(Output):
    code: str
    name: str
    max_points: float
    description: str = ""


class TemplateOut(Output):
    code: str
    name: str
    version: int
    items: list[TemplateItemOut]
    max_total: float


class InspectionIn(Input):
    window: int = Field(ge=1, le=2**31 - 1, description="window id")
    staff: str | None = Field(default=None, max_length=64, description="username seen, or null")
    visited_at: Moment
    template: str = Field(default="standard", min_length=1, max_length=32)
    scores: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(max_length=30)
    notes: str = Field(default="", max_length=4000)


class NoticeOut(Output):
    id: int
    number: str
    inspection: int
    department: str
    department_name: str
    window: int
    issued_at: str
    due: str
    text: str
    rectification: int | None
    rectification_status: str | None
    print_url: str


class PhotoOut(Output):
    id: int
    content_type: str
    size: int
    url: str


class InspectionOut(Output):
    id: int
    window: int
    window_number: int
    staff: str | None
    department: str
    inspector: str
    visited_at: str
    template: str
    template_version: int
    scores: dict[str, float]
    total: float
    max_total: float
    percent: float
    passed: bool
    notes: str
    notice: NoticeOut | None
    photos: list[PhotoOut]


class InspectionQuery(Query):
    window: int | None = Field(default=None, ge=1, le=2**31 - 1)
    limit: int = Field(default=100, ge=1, le=1000)


class VisitPlanIn(Input):
    week_start: Day = Field(description="the Monday of the week")
    visits: int = Field(default=5, ge=1, le=50)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class PlannedVisitOut(Output):
    window: int
    window_id: int
    day: str
    time: str


class VisitPlanOut(Output):
    id: int
    week_start: str
    seed: int
    visits: int
    plan: list[PlannedVisitOut]
    weights: dict[str, dict[str, object]]
    created_at: str
    created_by: str | None
